/**
 * Micro benchmarks for the bus and the inter-node media frame codec.
 *
 *   npx tsx benchmarks/micro/bus.bench.ts            (add --json for a machine-readable line)
 *   node --expose-gc --import tsx benchmarks/micro/bus.bench.ts   (adds bytes allocated per op)
 *
 * Figures: frame codec encode/decode ops/s, header overhead against a 2 Mbps 720p30 H.264 +
 * 128 kbps AAC stream's average frames, and LocalBus publish→callback messages/s.
 */
import { cpus } from 'node:os';
import { Bench } from 'tinybench';
import { LocalBus } from '../../engine/bus/local-bus.js';
import type { MediaFrame } from '../../media/frame/media-frame.js';
import {
  decodeFrame,
  encodeFrameParts,
  FRAME_HEADER_SIZE,
  FrameReassembler,
} from '../../transports/nats/frame-codec.js';

const MAX_PAYLOAD = 1024 * 1024;
const VIDEO_BPS = 2_000_000;
const AUDIO_BPS = 128_000;
const FPS = 30;
const AUDIO_FPS = 44_100 / 1024;

function frame(kind: 'video' | 'audio', size: number, key = false): MediaFrame {
  const body = new Uint8Array(size).fill(0x5a);
  return {
    kind,
    codec: kind === 'video' ? 'h264' : 'aac',
    dts: 123_456,
    pts: 123_489,
    key,
    config: false,
    body,
    payload: body.subarray(kind === 'video' ? 5 : 2),
    seq: 1,
    ingestTime: Date.now(),
  };
}

const avgVideo = Math.round(VIDEO_BPS / 8 / FPS);
const avgAudio = Math.round(AUDIO_BPS / 8 / AUDIO_FPS);
const video = frame('video', avgVideo);
const audio = frame('audio', avgAudio);
const keyframe = frame('video', 120_000, true);
const huge = frame('video', 2_500_000, true);
const videoPart = encodeFrameParts(video, MAX_PAYLOAD)[0]!;
const hugeParts = encodeFrameParts(huge, MAX_PAYLOAD);

const framesPerSecond = FPS + AUDIO_FPS;
const mediaBytesPerSecond = (VIDEO_BPS + AUDIO_BPS) / 8;
const overhead = {
  headerBytes: FRAME_HEADER_SIZE,
  avgVideoFrameBytes: avgVideo,
  avgAudioFrameBytes: avgAudio,
  videoOverheadPct: (100 * FRAME_HEADER_SIZE) / avgVideo,
  audioOverheadPct: (100 * FRAME_HEADER_SIZE) / avgAudio,
  streamOverheadPct: (100 * FRAME_HEADER_SIZE * framesPerSecond) / mediaBytesPerSecond,
};

let seq = 0;
const bench = new Bench({ time: 700, warmupTime: 200 });
bench
  .add(`encodeFrameParts video ${avgVideo} B`, () => {
    encodeFrameParts(video, MAX_PAYLOAD, seq++);
  })
  .add(`encodeFrameParts audio ${avgAudio} B`, () => {
    encodeFrameParts(audio, MAX_PAYLOAD, seq++);
  })
  .add('encodeFrameParts keyframe 120 kB', () => {
    encodeFrameParts(keyframe, MAX_PAYLOAD, seq++);
  })
  .add(`decodeFrame video ${avgVideo} B (view)`, () => {
    decodeFrame(videoPart);
  });
const reassembler = new FrameReassembler();
bench.add('FrameReassembler 2.5 MB frame in 3 parts', () => {
  reassembler.reset();
  for (const p of hugeParts) reassembler.push(p);
});

const BATCH = 1000;
const payload = new Uint8Array(avgVideo);
for (const fanout of [1, 10]) {
  const bus = new LocalBus();
  let received = 0;
  let target = 0;
  let wake: (() => void) | undefined;
  for (let i = 0; i < fanout; i++) {
    bus.subscribe('bench.media', {
      callback: () => {
        if (++received >= target) wake?.();
      },
    });
  }
  bench.add(`LocalBus publish→callback x${BATCH}, ${fanout} subscriber(s)`, async () => {
    target = received + BATCH * fanout;
    const done = new Promise<void>((r) => {
      wake = r;
    });
    for (let i = 0; i < BATCH; i++) bus.publish('bench.media', payload);
    await done;
  });
}

await bench.run();

const gc = (globalThis as { gc?: () => void }).gc;
/** Approximate: JS heap plus ArrayBuffer bytes allocated per call, over a run short enough to avoid GC. */
function bytesPerOp(fn: () => void, n = 1000): number | undefined {
  if (gc === undefined) return undefined;
  const used = (): number => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  gc();
  const before = used();
  for (let i = 0; i < n; i++) fn();
  return Math.round((used() - before) / n);
}

const rows = bench.tasks.map((t) => {
  const r = t.result;
  const ok = r.state === 'completed';
  const opsPerSec = ok ? r.throughput.p50 : 0;
  const isBatch = t.name.startsWith('LocalBus');
  return {
    task: t.name,
    opsPerSecMedian: Math.round(opsPerSec),
    latencyMedianUs: ok ? Number((r.latency.p50 * 1000).toFixed(3)) : null,
    rme: ok ? Number(r.latency.rme.toFixed(2)) : null,
    ...(isBatch
      ? {
          publishesPerSec: Math.round(opsPerSec * BATCH),
          deliveriesPerSec: Math.round(opsPerSec * BATCH * Number(/(\d+) subscriber/.exec(t.name)?.[1] ?? 1)),
        }
      : {}),
  };
});
const alloc = {
  encodeVideoBytesPerOp: bytesPerOp(() => encodeFrameParts(video, MAX_PAYLOAD, seq++)),
  decodeVideoBytesPerOp: bytesPerOp(() => decodeFrame(videoPart)),
};

const report = {
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  date: new Date().toISOString(),
  command: process.argv.join(' '),
  overhead,
  alloc,
  results: rows,
};
if (process.argv.includes('--json')) {
  console.log(JSON.stringify(report));
} else {
  console.table(rows);
  console.log('header overhead:', overhead);
  console.log('allocation (needs --expose-gc):', alloc);
}
