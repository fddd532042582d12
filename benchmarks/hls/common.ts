/**
 * Shared pieces of the HLS benchmarks: the source file, the node under test as a pinned child
 * process, a real-time RTMP publisher (our RtmpClient), /proc sampling and a log histogram.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MediaFrame } from '../../media/frame/media-frame.js';
import { makeTestFile } from '../../tests/support/ffmpeg.js';
import { readFlvFrames, replayFrames } from '../../tests/support/flv-frames.js';
import { RtmpClient } from '../../transports/rtmp/client.js';
import { builtNodeEntry, startOurNode } from '../load/servers.js';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

export const hasTaskset = (): boolean => spawnSync('taskset', ['-V']).status === 0;

/** Pins every thread of `pid` to `cpu` (no-op without taskset). */
export function pin(pid: number, cpu: string): void {
  if (hasTaskset()) spawnSync('taskset', ['-a', '-cp', cpu, String(pid)], { stdio: 'ignore' });
}

/** 2 Mbps 720p30 H.264 baseline, GOP 1 s, + AAC, made once in os.tmpdir(). */
export async function sourceFile(seconds = 60): Promise<string> {
  const file = join(tmpdir(), `rts-hls-bench-720p30-2m-${seconds}s.flv`);
  if (!existsSync(file)) {
    await makeTestFile({
      url: file,
      seconds,
      width: 1280,
      height: 720,
      fps: 30,
      gop: 30,
      videoKbps: 2000,
      audio: 'aac',
      timeoutMs: 180_000,
    });
  }
  return file;
}

export interface ServerHandle {
  pid: number;
  rtmpPort: number;
  httpPort: number;
  output(): string;
  stop(): Promise<void>;
}

export interface ServerOptions {
  hls?: Record<string, unknown>;
  workers?: number;
  cpu?: string;
  nodeArgs?: string[];
}

/** `node dist/cli/rts.js serve` (build first when dist is missing), pinned to `cpu` (default 0). */
export async function startServer(o: ServerOptions = {}): Promise<ServerHandle> {
  const h = await startOurNode({
    entry: builtNodeEntry(),
    workers: o.workers ?? 1,
    cpus: hasTaskset() ? (o.cpu ?? '0') : undefined,
    config: { hls: o.hls ?? {}, log: { level: 'warn' } },
    nodeArgs: o.nodeArgs ?? [],
  });
  return { pid: h.pid, rtmpPort: h.rtmpPort!, httpPort: h.httpPort!, output: h.output, stop: h.stop };
}

export async function stopChild(proc: ChildProcess, graceMs = 5000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(t);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Publisher {
  client: RtmpClient;
  /** Wall time (Date.now()) the first keyframe was written. */
  firstKeyAt: number;
  firstKey: Promise<number>;
  maxLateMs: number;
  stop(): void;
  done: Promise<void>;
}

/** Publishes `frames` in real time over RTMP, looping with continuous timestamps. */
export async function publish(url: string, frames: MediaFrame[], loops = 100): Promise<Publisher> {
  const client = await RtmpClient.connect(url, { timeoutMs: 10_000, chunkSize: 60_000 });
  await client.publish();
  let markKey!: (t: number) => void;
  const firstKey = new Promise<number>((r) => (markKey = r));
  const p: Publisher = {
    client,
    firstKeyAt: 0,
    firstKey,
    maxLateMs: 0,
    stop: () => {},
    done: Promise.resolve(),
  };
  const t0 = performance.now();
  const first = frames[0]?.dts ?? 0;
  const replay = replayFrames(
    frames,
    (f) => {
      if (client.closed) return;
      const late = performance.now() - t0 - (f.dts - first);
      if (late > p.maxLateMs) p.maxLateMs = late;
      client.writeMedia(f.kind === 'video' ? 9 : 8, f.dts, f.body);
      if (f.kind === 'video' && f.key && !f.config && p.firstKeyAt === 0) {
        p.firstKeyAt = Date.now();
        markKey(p.firstKeyAt);
      }
    },
    { loops },
  );
  p.done = replay.done;
  p.stop = () => {
    replay.stop();
    client.close();
  };
  return p;
}

export { readFlvFrames };

// ---- /proc sampling -----------------------------------------------------------------------

const TICK = 100; // USER_HZ on Linux

export interface ProcSample {
  t: number;
  cpuTicks: number;
  rssBytes: number;
  threads: Map<number, { comm: string; ticks: number }>;
}

export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuTicks = Number(f[11]) + Number(f[12]);
    const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    const threads = new Map<number, { comm: string; ticks: number }>();
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
        const g = s.slice(s.lastIndexOf(')') + 2).split(' ');
        threads.set(Number(tid), { comm, ticks: Number(g[11]) + Number(g[12]) });
      } catch {
        /* thread gone */
      }
    }
    return { t: performance.now(), cpuTicks, rssBytes: rss ? Number(rss[1]) * 1024 : 0, threads };
  } catch {
    return undefined;
  }
}

/** CPU % of one core between two samples, total and per thread (top 6 by CPU). */
export function cpuBetween(a: ProcSample, b: ProcSample, pid: number) {
  const secs = (b.t - a.t) / 1000;
  const total = ((b.cpuTicks - a.cpuTicks) / TICK / secs) * 100;
  const threads = [...b.threads]
    .map(([tid, v]) => ({
      tid,
      name: tid === pid ? 'main' : v.comm,
      cpuPct: round(((v.ticks - (a.threads.get(tid)?.ticks ?? 0)) / TICK / secs) * 100, 1),
    }))
    .sort((x, y) => y.cpuPct - x.cpuPct)
    .slice(0, 6);
  return { cpuPct: round(total, 1), threads };
}

// ---- histogram (log buckets, ~2 % resolution, mergeable as plain arrays) -------------------

const BUCKETS_PER_DOUBLING = 36;
const MIN_MS = 0.01;

export class Hist {
  counts: number[] = [];
  n = 0;
  max = -Infinity;
  min = Infinity;
  add(ms: number): void {
    const v = Math.max(ms, MIN_MS);
    const i = Math.floor(Math.log2(v / MIN_MS) * BUCKETS_PER_DOUBLING);
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.n++;
    if (ms > this.max) this.max = ms;
    if (ms < this.min) this.min = ms;
  }
  merge(o: { counts: (number | null)[]; n: number; max: number; min: number }): void {
    o.counts.forEach((c, i) => {
      if (c) this.counts[i] = (this.counts[i] ?? 0) + c;
    });
    this.n += o.n;
    this.max = Math.max(this.max, o.max);
    this.min = Math.min(this.min, o.min);
  }
  q(p: number): number {
    if (this.n === 0) return Number.NaN;
    const want = Math.ceil(p * this.n);
    let acc = 0;
    for (let i = 0; i < this.counts.length; i++) {
      acc += this.counts[i] ?? 0;
      if (acc >= want) return MIN_MS * 2 ** ((i + 0.5) / BUCKETS_PER_DOUBLING);
    }
    return this.max;
  }
  summary() {
    return {
      n: this.n,
      p50: round(this.q(0.5), 1),
      p90: round(this.q(0.9), 1),
      p99: round(this.q(0.99), 1),
      max: this.n ? round(this.max, 1) : null,
    };
  }
  toJSON() {
    return { counts: this.counts, n: this.n, max: this.max, min: this.min };
  }
}

export function round(x: number, d = 0): number {
  const k = 10 ** d;
  return Math.round(x * k) / k;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function machine() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    taskset: hasTaskset(),
  };
}

// ---- playlist parsing ------------------------------------------------------------------------

export interface ParsedItem {
  msn: number;
  /** -1 for a whole segment. */
  part: number;
  uri: string;
  /** Wall time (ms) the item's media ends, from PROGRAM-DATE-TIME + durations. */
  endWall: number;
}

export interface ParsedPlaylist {
  targetMs: number;
  mediaSequence: number;
  map?: string;
  segments: ParsedItem[];
  parts: ParsedItem[];
  hint?: string;
  ended: boolean;
}

/** A small, fast m3u8 reader: enough for our own playlists (classic and LL). */
export function parsePlaylist(text: string): ParsedPlaylist {
  const out: ParsedPlaylist = { targetMs: 2000, mediaSequence: 0, segments: [], parts: [], ended: false };
  let msn = -1;
  let pdt = 0;
  let partIdx = 0;
  let partWall = 0;
  let dur = 0;
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    if (line.charCodeAt(0) !== 35 /* # */) {
      // segment URI
      out.segments.push({ msn, part: -1, uri: line, endWall: pdt + dur });
      pdt += dur;
      partWall = pdt;
      msn++;
      partIdx = 0;
      continue;
    }
    if (line.startsWith('#EXT-X-PART:')) {
      const d = Number(/DURATION=([\d.]+)/.exec(line)?.[1] ?? 0) * 1000;
      const uri = /URI="([^"]+)"/.exec(line)?.[1] ?? '';
      partWall += d;
      out.parts.push({ msn, part: partIdx++, uri, endWall: partWall });
    } else if (line.startsWith('#EXTINF:')) {
      dur = Number(line.slice(8, line.indexOf(','))) * 1000;
    } else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      pdt = Date.parse(line.slice(25));
      partWall = pdt;
    } else if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) {
      out.mediaSequence = Number(line.slice(22));
      msn = out.mediaSequence;
    } else if (line.startsWith('#EXT-X-TARGETDURATION:')) {
      out.targetMs = Number(line.slice(22)) * 1000;
    } else if (line.startsWith('#EXT-X-MAP:')) {
      out.map ??= /URI="([^"]+)"/.exec(line)?.[1];
    } else if (line.startsWith('#EXT-X-PRELOAD-HINT:')) {
      out.hint = /URI="([^"]+)"/.exec(line)?.[1];
    } else if (line.startsWith('#EXT-X-ENDLIST')) {
      out.ended = true;
    }
  }
  return out;
}
