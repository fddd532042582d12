/**
 * A StreamFeed played from files, for tests and the WHEP load run: H.264 from an FLV file (via
 * media/flv + media/codec) and Opus from an Ogg file (tiny Ogg page reader, RFC 3533 / RFC 7845),
 * merged by timestamp and pushed in real time with a GOP cache, as the engine's feed behaves.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { iterateFlvFileTags } from '../../media/flv/flv-file-reader.js';
import { mediaFrameOfTag } from '../../media/flv/flv-tag-frame.js';
import { FLV_TAG_VIDEO, type MediaFrame } from '../../media/frame/media-frame.js';
import type { StreamFeed, StreamInfo } from '../../transports/webrtc/types.js';

const require = createRequire(import.meta.url);

export function ffmpegBinary(): string {
  return (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
}

function run(bin: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: timeoutMs }, (err, _o, stderr) =>
      err ? reject(new Error(`${bin} failed: ${String(stderr).slice(-2000)}`)) : resolve(),
    );
  });
}

export interface Fixtures {
  flv: string;
  ogg: string;
}

/**
 * Makes (once per machine, cached in the temp dir) a 640x360 25 fps H.264 constrained-baseline
 * FLV (no B-frames, `-g 25`, ~500 kbps) and a 48 kHz stereo Opus Ogg of the same length.
 */
export async function makeFixtures(opts: { seconds?: number; kbps?: number } = {}): Promise<Fixtures> {
  const seconds = opts.seconds ?? 12;
  const kbps = opts.kbps ?? 450;
  const dir = join(tmpdir(), 'rts-webrtc-fixtures');
  mkdirSync(dir, { recursive: true });
  const flv = join(dir, `v-${seconds}s-${kbps}k.flv`);
  const ogg = join(dir, `a-${seconds}s.ogg`);
  const ff = ffmpegBinary();
  if (!existsSync(flv)) {
    await run(
      ff,
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        `testsrc2=size=640x360:rate=25`,
        '-t',
        String(seconds),
        '-c:v',
        'libx264',
        '-profile:v',
        'baseline',
        '-preset',
        'veryfast',
        '-tune',
        'zerolatency',
        '-pix_fmt',
        'yuv420p',
        '-g',
        '25',
        '-keyint_min',
        '25',
        '-sc_threshold',
        '0',
        '-bf',
        '0',
        '-b:v',
        `${kbps}k`,
        '-maxrate',
        `${kbps}k`,
        '-bufsize',
        `${kbps}k`,
        '-an',
        '-f',
        'flv',
        '-y',
        `${flv}.tmp`,
      ],
      120_000,
    );
    await run('mv', [`${flv}.tmp`, flv], 5000);
  }
  if (!existsSync(ogg)) {
    await run(
      ff,
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=440:sample_rate=48000',
        '-t',
        String(seconds),
        '-ac',
        '2',
        '-c:a',
        'libopus',
        '-b:a',
        '48k',
        '-frame_duration',
        '20',
        '-f',
        'ogg',
        '-y',
        `${ogg}.tmp`,
      ],
      120_000,
    );
    await run('mv', [`${ogg}.tmp`, ogg], 5000);
  }
  return { flv, ogg };
}

/** H.264 frames of an FLV file as MediaFrames (config first). */
export function readFlvVideo(file: string): MediaFrame[] {
  const buf = new Uint8Array(readFileSync(file));
  const out: MediaFrame[] = [];
  for (const tag of iterateFlvFileTags(buf)) {
    if (tag.type !== FLV_TAG_VIDEO) continue;
    const f = mediaFrameOfTag(tag.type, tag.timestamp, tag.body, 0);
    if (f) out.push(f);
  }
  return out;
}

/** Duration in 48 kHz samples of an Opus packet from its TOC (RFC 6716, section 3.1). */
export function opusPacketSamples(p: Uint8Array): number {
  if (p.length === 0) return 0;
  const config = p[0] >> 3;
  const frame =
    config < 12
      ? [480, 960, 1920, 2880][config & 3]
      : config < 16
        ? [480, 960][config & 1]
        : [120, 240, 480, 960][config & 3];
  const code = p[0] & 3;
  const count = code === 0 ? 1 : code === 3 ? (p.length > 1 ? p[1] & 0x3f : 0) : 2;
  return frame * count;
}

/** Every packet of an Ogg file in order (for Opus: OpusHead, OpusTags, then audio packets). */
export function readOggPackets(file: string): Uint8Array[] {
  const buf = new Uint8Array(readFileSync(file));
  const packets: Uint8Array[] = [];
  let pending: Uint8Array[] = [];
  let p = 0;
  while (p + 27 <= buf.length) {
    if (buf[p] !== 0x4f || buf[p + 1] !== 0x67 || buf[p + 2] !== 0x67 || buf[p + 3] !== 0x53)
      throw new Error('not an Ogg page');
    const nsegs = buf[p + 26];
    let q = p + 27 + nsegs;
    for (let i = 0; i < nsegs; i++) {
      const lace = buf[p + 27 + i];
      pending.push(buf.subarray(q, q + lace));
      q += lace;
      if (lace < 255) {
        const len = pending.reduce((n, x) => n + x.length, 0);
        const pkt = new Uint8Array(len);
        let o = 0;
        for (const x of pending) {
          pkt.set(x, o);
          o += x.length;
        }
        packets.push(pkt);
        pending = [];
      }
    }
    p = q;
  }
  return packets;
}

/** Opus packets of an Ogg Opus file (RFC 7845), OpusHead and OpusTags skipped, with pts in ms. */
export function readOggOpus(file: string): MediaFrame[] {
  const packets = readOggPackets(file);
  const out: MediaFrame[] = [];
  let samples = 0;
  for (const pkt of packets.slice(2)) {
    const ms = samples / 48;
    out.push({
      kind: 'audio',
      codec: 'opus',
      dts: ms,
      pts: ms,
      key: true,
      config: false,
      body: pkt,
      payload: pkt,
      seq: 0,
      ingestTime: 0,
    });
    samples += opusPacketSamples(pkt);
  }
  return out;
}

/** Both tracks merged by dts, video config first. */
export function mergeFrames(video: MediaFrame[], audio: MediaFrame[]): MediaFrame[] {
  const all = [...video, ...audio];
  all.sort((a, b) => (a.config === b.config ? a.dts - b.dts : a.config ? -1 : 1));
  return all;
}

/**
 * A StreamFeed with the engine's contract: subscribe replays config + current GOP synchronously,
 * then live frames. `push` stamps nothing: callers set ingestTime.
 */
export class MemoryFeed implements StreamFeed {
  readonly info: StreamInfo;
  subscribes = 0;
  private readonly subs = new Set<{ onFrame: (f: MediaFrame) => void; onEnd: (r: string) => void }>();
  private configs: MediaFrame[] = [];
  private gop: MediaFrame[] = [];
  private ended = false;
  private seq = 0;

  constructor(info: StreamInfo) {
    this.info = info;
  }

  get subscriberCount(): number {
    return this.subs.size;
  }

  subscribe(onFrame: (f: MediaFrame) => void, onEnd: (r: string) => void): () => void {
    this.subscribes++;
    if (this.ended) {
      onEnd('ended');
      return () => {};
    }
    for (const f of this.configs) onFrame(f);
    for (const f of this.gop) onFrame(f);
    const sub = { onFrame, onEnd };
    this.subs.add(sub);
    return () => {
      this.subs.delete(sub);
    };
  }

  push(frame: MediaFrame): void {
    const f = { ...frame, seq: this.seq++ };
    if (f.config) {
      this.configs = this.configs.filter((c) => c.kind !== f.kind);
      this.configs.push(f);
    } else if (f.kind === 'video' && f.key) {
      this.gop = [f];
    } else if (this.gop.length > 0) {
      this.gop.push(f);
    }
    for (const s of this.subs) s.onFrame(f);
  }

  end(reason = 'unpublished'): void {
    this.ended = true;
    for (const s of [...this.subs]) s.onEnd(reason);
    this.subs.clear();
  }
}

export interface Pacer {
  done: Promise<void>;
  stop(): void;
}

/** Pushes frames in real time by dts (looping with continued timestamps), stamping ingestTime. */
export function paceFrames(
  frames: readonly MediaFrame[],
  push: (f: MediaFrame) => void,
  opts: { loops?: number } = {},
): Pacer {
  const loops = opts.loops ?? 1;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const media = frames.filter((f) => !f.config);
  const first = media.length ? media[0].dts : 0;
  const span = media.length ? media[media.length - 1].dts - first + 40 : 0;
  const done = (async () => {
    for (const f of frames) if (f.config) push({ ...f, ingestTime: Date.now() });
    const t0 = performance.now();
    for (let loop = 0; loop < loops && !stopped; loop++) {
      for (const f of media) {
        if (stopped) break;
        const at = f.dts - first + loop * span;
        const wait = at - (performance.now() - t0);
        if (wait > 1) {
          await new Promise<void>((r) => {
            wake = r;
            timer = setTimeout(r, wait);
          });
        }
        if (stopped) break;
        const shift = loop * span;
        push({ ...f, dts: f.dts + shift, pts: f.pts + shift, ingestTime: Date.now() });
      }
    }
  })();
  return {
    done,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wake?.();
    },
  };
}
