/**
 * Glass-to-glass latency in headless Chromium: the publisher's wall clock stamped into each video
 * frame (stamped-publisher.ts) against the time the browser presents that frame.
 *
 * A Node publisher paints `Date.now()` into raw frames, x264 (zerolatency, baseline, no B-frames)
 * encodes them and our RtmpClient publishes to the node; Chromium plays the stream with the
 * player SDK served at /player/sdk.js (WHEP for `whep`, mpegts.js for `flv`, hls.js for `llhls` and
 * `hls`, each with the SDK's own settings); on every `requestVideoFrameCallback` the page draws the
 * stamp area to a canvas, reads the stamp back, and records
 *
 *   latency = displayWall - stamp,   displayWall = Date.now() + (expectedDisplayTime - performance.now())
 *
 * (Date.now() on both sides: one machine, one clock; only the short monotonic delta to the
 * expected display time is taken from performance.now(), so the drift between
 * performance.timeOrigin + performance.now() and the wall clock does not enter.) Per frame the
 * publisher also knows when the encoded frame came out of x264 (`encodedAt`), which splits the
 * figure into the encoder's share and the rest (ingest, node, network, player buffer, decode,
 * render); for WHEP the browser's `receiveTime` splits the rest again into "to the browser" and
 * "in the browser" (jitter buffer, decode, render).
 *
 * Not included: a camera's capture and a screen's scan-out (the stamp is the frame handed to the
 * encoder; the end is the compositor's expected display time).
 *
 *   flock /tmp/rts-heavy.lock node --import tsx benchmarks/latency/glass-to-glass.ts \
 *     [--protocols whep,flv,llhls,hls] [--seconds 20] [--warmup 3] [--size 1280x720] [--fps 30]
 *     [--gop 30] [--kbps 1500] [--no-audio] [--repeat 1]
 *     [--flv-config '{"liveSync":true}'] [--hls-config '{"maxLiveSyncPlaybackRate":1.5}']
 *     [--rtmp rtmp://HOST:PORT/APP --http http://HOST:PORT]   (an external server; default: our node)
 *     [--out FILE] [--no-save] [--verbose]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { resolveFfmpegPath } from '../../actors/transcoder/ffmpeg-binary.js';
import { launchChromium } from '../../tests/support/browser.js';
import { builtNodeEntry, startOurNode } from '../load/servers.js';
import { StampedPublisher } from './stamped-publisher.js';
import { type decodeStampRgba, type StampLayout, stampReaderSource } from './wallclock-stamp.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const PROTOCOLS = ['whep', 'flv', 'llhls', 'hls'] as const;
type Protocol = (typeof PROTOCOLS)[number];

const { values: a } = parseArgs({
  options: {
    protocols: { type: 'string', default: 'whep' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    size: { type: 'string', default: '1280x720' },
    fps: { type: 'string', default: '30' },
    gop: { type: 'string' },
    kbps: { type: 'string', default: '1500' },
    'no-audio': { type: 'boolean', default: false },
    /** Extra mpegts.js config (JSON) for `flv`, passed to the SDK's `flvConfig`. */
    'flv-config': { type: 'string' },
    /** Extra hls.js config (JSON) for `llhls`/`hls`, passed to the SDK's `hlsConfig`. */
    'hls-config': { type: 'string' },
    repeat: { type: 'string', default: '1' },
    rtmp: { type: 'string' },
    http: { type: 'string' },
    out: { type: 'string' },
    'no-save': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (a.help) {
  const src = fileURLToPath(import.meta.url);
  console.log(`glass-to-glass latency benchmark; see the header of ${src}`);
  process.exit(0);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const [W, H] = (a.size ?? '1280x720').split('x').map(Number) as [number, number];
const FPS = Number(a.fps);
const GOP = Number(a.gop ?? a.fps);
const SECONDS = Number(a.seconds);
const WARMUP = Number(a.warmup);
const protocols = (a.protocols ?? 'whep').split(',').map((p) => p.trim()) as Protocol[];
for (const p of protocols) {
  if (!PROTOCOLS.includes(p)) throw new Error(`unknown protocol ${p}: one of ${PROTOCOLS.join(', ')}`);
}
const FLV_CONFIG = a['flv-config'] ? (JSON.parse(a['flv-config']) as Record<string, unknown>) : undefined;
const HLS_CONFIG = a['hls-config'] ? (JSON.parse(a['hls-config']) as Record<string, unknown>) : undefined;
if (Boolean(a.rtmp) !== Boolean(a.http)) throw new Error('--rtmp and --http go together');

// ---- the node under test ----------------------------------------------------------------------

interface Server {
  rtmpBase: string;
  httpBase: string;
  /** Our node, started here (its output is worth printing on a failure). */
  ours: boolean;
  output(): string;
  stop(): Promise<void>;
}

async function startNode(): Promise<Server> {
  const h = await startOurNode({ entry: builtNodeEntry(), workers: 0, config: { log: { level: 'warn' } } });
  return {
    rtmpBase: `rtmp://127.0.0.1:${h.rtmpPort}/live`,
    httpBase: `http://127.0.0.1:${h.httpPort}`,
    ours: true,
    output: h.output,
    stop: h.stop,
  };
}

async function getJson(url: string): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return res.ok ? ((await res.json()) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Waits until the node has analysed the stream (codecs, GOP: what the WHEP check needs). */
async function waitAnalysed(httpBase: string, app: string, stream: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 15_000;
  let last: Record<string, unknown> | undefined;
  while (Date.now() < deadline) {
    last = await getJson(`${httpBase}/api/v1/streams/${app}/${stream}`);
    const text = JSON.stringify(last ?? {});
    if (last && /gop/i.test(text) && /h264|avc/i.test(text) && !/"gop\w*":null/i.test(text)) return last;
    await sleep(250);
  }
  return last ?? {};
}

// ---- the page -----------------------------------------------------------------------------------

/** One presented frame: [stamp ms or -1, seq or failure code, callback wall, display wall, receive wall or -1]. */
type Rec = [number, number, number, number, number];

interface PageArgs {
  url: string;
  protocol: Protocol;
  layout: StampLayout;
  width: number;
  height: number;
  flvConfig?: Record<string, unknown>;
  hlsConfig?: Record<string, unknown>;
}

/** Runs in the page: plays `url` with the SDK and reads the stamp of every presented frame. */
async function pageMain(p: PageArgs): Promise<string> {
  const read = (globalThis as unknown as { decodeStampRgba: typeof decodeStampRgba }).decodeStampRgba;
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.autoplay = true;
  video.style.width = '640px';
  document.body.replaceChildren(video);
  const sdk = (await import(`${location.origin}/player/sdk.js`)) as {
    RtsPlayer: new (
      v: HTMLVideoElement,
      o: Record<string, unknown>,
    ) => {
      play(u: string): Promise<string>;
      on(e: string, f: (x: unknown) => void): void;
      stats(): Promise<Record<string, unknown>>;
    };
  };
  const sdkProtocol = p.protocol === 'whep' ? 'webrtc' : p.protocol === 'flv' ? 'flv' : 'hls';
  const player = new sdk.RtsPlayer(video, {
    protocols: [sdkProtocol],
    muted: true,
    firstFrameTimeoutMs: 15_000,
    flvConfig: p.flvConfig,
    hlsConfig: p.hlsConfig,
  });
  const L = p.layout;
  const gw = L.cols * L.cell;
  const gh = L.rows * L.cell;
  const canvas = document.createElement('canvas');
  canvas.width = gw;
  canvas.height = gh;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const records: Rec[] = [];
  const errors: unknown[] = [];
  const fails = { contrast: 0, crc: 0, reference: 0 };
  (globalThis as unknown as { __g2g: unknown }).__g2g = { records, errors, fails, player, video };
  player.on('error', (e) => errors.push(e));
  const onFrame = (_now: number, meta: VideoFrameCallbackMetadata): void => {
    const wall = Date.now();
    const perf = performance.now();
    const kx = video.videoWidth / p.width;
    const ky = video.videoHeight / p.height;
    ctx.drawImage(video, L.x * kx, L.y * ky, gw * kx, gh * ky, 0, 0, gw, gh);
    const r = read(ctx.getImageData(0, 0, gw, gh).data, gw, gh, L.cols, L.rows);
    const display = wall + (meta.expectedDisplayTime - perf);
    const receive = meta.receiveTime !== undefined ? wall + (meta.receiveTime - perf) : -1;
    if (r.ok) records.push([r.ms, r.seq, wall, display, receive]);
    else {
      fails[r.reason]++;
      records.push([-1, 0, wall, display, receive]);
    }
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
  return player.play(p.url);
}

// ---- statistics -----------------------------------------------------------------------------------

const round1 = (x: number): number => Math.round(x * 10) / 10;

function stats(xs: number[]) {
  if (xs.length === 0) return { n: 0 };
  const s = [...xs].sort((x, y) => x - y);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return {
    n: s.length,
    min: round1(s[0]),
    median: round1(q(0.5)),
    p90: round1(q(0.9)),
    p99: round1(q(0.99)),
    max: round1(s[s.length - 1]),
    mean: round1(s.reduce((t, x) => t + x, 0) / s.length),
  };
}

// ---- one run ------------------------------------------------------------------------------------

async function runOne(browser: Browser, server: Server, protocol: Protocol, n: number) {
  const stream = `g2g-${protocol}-${process.pid}-${n}`;
  const app = server.rtmpBase.split('/').pop() ?? 'live';
  const pub = new StampedPublisher({
    url: `${server.rtmpBase}/${stream}`,
    width: W,
    height: H,
    fps: FPS,
    gop: GOP,
    videoKbps: Number(a.kbps),
    audio: !a['no-audio'],
  });
  await pub.start();
  let page: Page | undefined;
  try {
    const info = await waitAnalysed(server.httpBase, app, stream);
    if (a.verbose) console.log('stream info', JSON.stringify(info));
    // A viewer joining a running stream (and HLS needs a few parts/segments to exist).
    await sleep(protocol === 'hls' ? 6000 : protocol === 'llhls' ? 3000 : 1000);
    page = await browser.newPage();
    const pageLog: string[] = [];
    page.on('console', (m) => pageLog.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => pageLog.push(`[pageerror] ${e.message}`));
    await page.addInitScript('globalThis.__name = (f) => f;');
    await page.goto(`${server.httpBase}/player/`);
    const url = {
      whep: `artc://${new URL(server.httpBase).host}/${app}/${stream}`,
      flv: `${server.httpBase}/${app}/${stream}.flv`,
      llhls: `${server.httpBase}/${app}/${stream}/ll.m3u8`,
      hls: `${server.httpBase}/${app}/${stream}.m3u8`,
    }[protocol];
    // The stamp reader, as plain functions on the page's global scope.
    await page.addScriptTag({ content: stampReaderSource() });
    const t0 = Date.now();
    let played: string;
    try {
      played = await page.evaluate(pageMain, {
        url,
        protocol,
        layout: pub.layout,
        width: W,
        height: H,
        flvConfig: FLV_CONFIG,
        hlsConfig: HLS_CONFIG,
      });
    } catch (err) {
      throw new Error(`${protocol}: play failed: ${(err as Error).message}\n${pageLog.join('\n')}`);
    }
    const firstFrameMs = Date.now() - t0;
    const from = Date.now() + WARMUP * 1000;
    const to = from + SECONDS * 1000;
    await sleep(to - Date.now() + 200);
    const got = await page.evaluate(async () => {
      const g = (globalThis as unknown as { __g2g: Record<string, unknown> }).__g2g as {
        records: Rec[];
        errors: unknown[];
        fails: Record<string, number>;
        player: { stats(): Promise<Record<string, unknown>> };
        video: HTMLVideoElement;
      };
      const q = g.video.getVideoPlaybackQuality();
      // WebRTC receive-side figures (the SDK keeps its RTCPeerConnection in a private field).
      const pc = (g.player as unknown as { session?: { pc?: RTCPeerConnection } }).session?.pc;
      const rtc: Record<string, Record<string, number>> = {};
      if (pc) {
        (await pc.getStats()).forEach((r: Record<string, unknown>) => {
          if (r.type !== 'inbound-rtp') return;
          const n = (k: string): number => Number(r[k] ?? 0);
          const per = (k: string, d: string): number =>
            n(d) > 0 ? Math.round((n(k) / n(d)) * 10000) / 10 : -1;
          rtc[String(r.kind)] = {
            jitterBufferDelayMs: per('jitterBufferDelay', 'jitterBufferEmittedCount'),
            jitterBufferTargetDelayMs: per('jitterBufferTargetDelay', 'jitterBufferEmittedCount'),
            jitterBufferMinimumDelayMs: per('jitterBufferMinimumDelay', 'jitterBufferEmittedCount'),
            ...(r.kind === 'video'
              ? {
                  decodeMs: per('totalDecodeTime', 'framesDecoded'),
                  processingDelayMs: per('totalProcessingDelay', 'framesDecoded'),
                  assemblyMs: per('totalAssemblyTime', 'framesAssembledFromMultiplePackets'),
                  framesDecoded: n('framesDecoded'),
                  framesDropped: n('framesDropped'),
                  freezeCount: n('freezeCount'),
                }
              : { packetsLost: n('packetsLost'), concealedSamples: n('concealedSamples') }),
          };
        });
      }
      return {
        rtc,
        records: g.records,
        errors: g.errors,
        fails: g.fails,
        playerStats: await g.player.stats(),
        quality: { total: q.totalVideoFrames, dropped: q.droppedVideoFrames },
        clockSkewMs: performance.timeOrigin + performance.now() - Date.now(),
        resolution: `${g.video.videoWidth}x${g.video.videoHeight}`,
      };
    });
    const nodeInfo = await getJson(`${server.httpBase}/api/v1/node`);
    const inWin = got.records.filter((r) => r[2] >= from && r[2] < to);
    const ok = inWin.filter((r) => r[0] >= 0);
    // A frame presented twice (same frame number) counts once, at its first presentation.
    const seen = new Set<number>();
    const first = ok.filter((r) => {
      if (seen.has(r[1])) return false;
      seen.add(r[1]);
      return true;
    });
    const g2g = first.map((r) => r[3] - r[0]);
    const atCallback = first.map((r) => r[2] - r[0]);
    const enc: number[] = [];
    const afterEnc: number[] = [];
    const toBrowser: number[] = [];
    const inBrowser: number[] = [];
    for (const r of first) {
      const t = pub.frames.get(r[1]);
      if (!t || t.stamp !== r[0] || t.encodedAt === 0) continue;
      enc.push(t.encodedAt - t.stamp);
      afterEnc.push(r[3] - t.encodedAt);
      if (r[4] > 0) {
        toBrowser.push(r[4] - t.encodedAt);
        inBrowser.push(r[3] - r[4]);
      }
    }
    // Frames published that the window should have shown (stamps shifted by the median latency).
    const lag = g2g.length ? [...g2g].sort((x, y) => x - y)[g2g.length >> 1] : 0;
    const publishedInWindow = [...pub.frames.values()].filter(
      (t) => t.stamp >= from - lag && t.stamp < to - lag,
    ).length;
    return {
      protocol,
      playedWith: played,
      url,
      stream,
      playerConfig:
        protocol === 'flv'
          ? (FLV_CONFIG ?? 'SDK defaults')
          : protocol === 'whep'
            ? 'SDK defaults'
            : (HLS_CONFIG ?? 'SDK defaults'),
      audio: !a['no-audio'],
      resolution: got.resolution,
      firstFrameMs,
      /** WebRTC: ICE connected → first decoded frame, as the SDK measured it. */
      firstFrameAfterIceMs: (got.playerStats as { firstFrameAfterIceMs?: number }).firstFrameAfterIceMs,
      windowSeconds: SECONDS,
      glassToGlassMs: stats(g2g),
      atCallbackMs: stats(atCallback),
      breakdownMs: {
        encoder: stats(enc),
        afterEncoder: stats(afterEnc),
        ...(toBrowser.length
          ? { encoderToBrowserReceive: stats(toBrowser), receiveToDisplay: stats(inBrowser) }
          : {}),
      },
      frames: {
        presented: inWin.length,
        stampRead: ok.length,
        distinct: first.length,
        repeated: ok.length - first.length,
        decodeFailures: inWin.length - ok.length,
        failureReasons: got.fails,
        publishedPerWindow: publishedInWindow,
        browserDropped: got.quality.dropped,
      },
      publisher: {
        framesWritten: pub.framesWritten,
        framesEncoded: pub.framesEncoded,
        framesWrittenWhileEncoderBehind: pub.stdinBehind,
        maxQueuedBytes: pub.maxQueuedBytes,
        maxLateMs: round1(pub.maxLateMs),
        audioTags: pub.audioTags,
        audioWallMinusTsMs: pub.audioTags ? pub.audioLag : undefined,
      },
      /** Per presented frame: [ms since the window opened, glass-to-glass, at callback, encoder or -1, receive→display or -1]. */
      series: first.map((r) => {
        const t = pub.frames.get(r[1]);
        const e = t && t.stamp === r[0] && t.encodedAt > 0 ? t.encodedAt - t.stamp : -1;
        return [
          Math.round(r[2] - from),
          round1(r[3] - r[0]),
          round1(r[2] - r[0]),
          e,
          r[4] > 0 ? round1(r[3] - r[4]) : -1,
        ];
      }),
      playerStats: got.playerStats,
      ...(Object.keys(got.rtc).length ? { webrtcInbound: got.rtc } : {}),
      playerErrors: got.errors,
      pageClockSkewMs: round1(got.clockSkewMs),
      nodeServerLatencyMs: nodeInfo
        ? {
            tcp: nodeInfo.serverLatencyMs,
            webrtc: (nodeInfo.webrtc as Record<string, unknown> | undefined)?.serverLatencyMs,
          }
        : undefined,
    };
  } finally {
    await page?.close().catch(() => {});
    await pub.stop();
  }
}

// ---- main -----------------------------------------------------------------------------------------

function table(rows: Awaited<ReturnType<typeof runOne>>[]): string {
  const head = [
    'protocol',
    'frames',
    'fails',
    'min',
    'median',
    'p90',
    'p99',
    'max',
    'encoder p50',
    'after-enc p50',
    'ICE→1st frame',
  ];
  const lines = rows.map((r) => {
    const g = r.glassToGlassMs as Record<string, number>;
    const e = r.breakdownMs.encoder as Record<string, number>;
    const ae = r.breakdownMs.afterEncoder as Record<string, number>;
    return [
      r.protocol,
      String(r.frames.distinct),
      String(r.frames.decodeFailures),
      ...[g.min, g.median, g.p90, g.p99, g.max].map((x) => (x === undefined ? '-' : String(x))),
      String(e.median ?? '-'),
      String(ae.median ?? '-'),
      String(r.firstFrameAfterIceMs ?? '-'),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (l: string[]): string => l.map((c, i) => c.padStart(widths[i])).join('  ');
  return [fmt(head), ...lines.map(fmt)].join('\n');
}

async function main(): Promise<void> {
  const started = new Date();
  const load0 = loadavg();
  const server: Server = a.rtmp
    ? {
        rtmpBase: a.rtmp.replace(/\/$/, ''),
        httpBase: a.http!.replace(/\/$/, ''),
        ours: false,
        output: () => '',
        stop: async () => {},
      }
    : await startNode();
  const browser = await launchChromium({
    args: [
      '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows',
    ],
  });
  const runs: Awaited<ReturnType<typeof runOne>>[] = [];
  const failures: string[] = [];
  try {
    for (let rep = 0; rep < Number(a.repeat); rep++) {
      for (const p of protocols) {
        try {
          const r = await runOne(browser, server, p, runs.length + failures.length);
          runs.push(r);
          console.log(
            `${p}: median ${JSON.stringify(r.glassToGlassMs)} encoder ${JSON.stringify(r.breakdownMs.encoder)}`,
          );
        } catch (err) {
          const msg = `${p}: ${(err as Error).message}`;
          failures.push(msg);
          console.error(msg);
          if (server.ours) console.error(server.output().slice(-2000));
        }
      }
    }
  } finally {
    await browser.close().catch(() => {});
    await server.stop();
  }
  const result = {
    benchmark: 'glass-to-glass',
    date: started.toISOString(),
    command:
      `node --import tsx benchmarks/latency/glass-to-glass.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      loadavgBefore: load0.map(round1),
      loadavgAfter: loadavg().map(round1),
      ffmpeg: spawnSync(resolveFfmpegPath(), ['-version']).stdout?.toString().split('\n')[0],
      chromium: browser.version(),
    },
    git: (() => {
      const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT })
        .stdout?.toString()
        .trim();
      const dirty = spawnSync('git', ['status', '--porcelain'], { cwd: ROOT }).stdout?.toString().trim();
      return `${head}${dirty ? ' (uncommitted changes; dist/ as last built)' : ''}`;
    })(),
    server: a.rtmp ? { rtmp: a.rtmp, http: a.http } : 'rts-engine (dist/cli/rts.js serve, loopback)',
    source: {
      size: `${W}x${H}`,
      fps: FPS,
      gop: GOP,
      videoKbps: Number(a.kbps),
      audio: a['no-audio'] ? 'none' : 'AAC 48 kHz sine (Opus variant for WebRTC)',
      encoder: 'libx264 ultrafast, tune zerolatency, baseline, bf 0, threads auto',
    },
    definition:
      'glass-to-glass = expected display time of the frame in Chromium (rVFC expectedDisplayTime, on the wall clock) - Date.now() painted into the raw frame before it was handed to x264',
    runs,
    failures,
  };
  console.log(
    `\nglass-to-glass latency (ms), ${W}x${H}@${FPS}, ${SECONDS} s per protocol after ${WARMUP} s warm-up`,
  );
  console.log(table(runs));
  console.log(`load average before ${load0.map(round1).join(' ')}, after ${loadavg().map(round1).join(' ')}`);
  if (!a['no-save']) {
    const out =
      a.out ??
      join(
        ROOT,
        'benchmarks/results',
        `glass-to-glass-${started.toISOString().slice(0, 19).replace(/:/g, '-')}Z.json`,
      );
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`written: ${out}`);
  }
  if (runs.length === 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
