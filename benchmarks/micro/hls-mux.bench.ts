/**
 * Frames/s through the MPEG-TS muxer, the fMP4 fragmenter and the whole HlsMuxer (both playlists).
 * Run: npx tsx benchmarks/micro/hls-mux.bench.ts
 */
import { Bench } from 'tinybench';
import { encodeFragment } from '../../media/fmp4/fragment.js';
import type { MediaFrame } from '../../media/frame/media-frame.js';
import { encodeAvcConfig } from '../../media/h264/avc-config.js';
import { SegmentBuffer } from '../../media/mpegts/segment-buffer.js';
import { TsMuxer } from '../../media/mpegts/ts-muxer.js';
import { HlsMuxer } from '../../transports/hls/hls-muxer.js';

const hex = (s: string) => Uint8Array.from((s.match(/../g) ?? []).map((h) => Number.parseInt(h, 16)));
const SPS = hex('6742c01ed90141fb011000000300100000030320f162e480');
const PPS = hex('68cb83cb20');
const AVCC = encodeAvcConfig({ nalLengthSize: 4, sps: [SPS], pps: [PPS] });
const ASC = hex('1210');

/** 2 Mbps 30 fps video: 60 KB keyframe each second, ~7 KB otherwise; AAC frames of 370 bytes. */
function au(size: number, key: boolean): Uint8Array {
  const p = new Uint8Array(4 + size);
  new DataView(p.buffer).setUint32(0, size);
  p[4] = key ? 0x65 : 0x41;
  return p;
}
const KEY = au(60_000, true);
const INTER = au(7_000, false);
const AAC = new Uint8Array(370).fill(0x21);

const frame = (
  f: Partial<MediaFrame> & Pick<MediaFrame, 'kind' | 'codec' | 'dts' | 'payload'>,
): MediaFrame => ({
  pts: f.dts,
  key: true,
  config: false,
  body: f.payload,
  seq: 0,
  ingestTime: 0,
  ...f,
});

const ts = new TsMuxer();
ts.setVideoConfig('h264', AVCC);
ts.setAudioConfig('aac', ASC);
const sink = new SegmentBuffer(8 * 1024 * 1024);
let n = 0;

const hls = new HlsMuxer({ stream: 'b' });
hls.push(frame({ kind: 'video', codec: 'h264', dts: 0, payload: AVCC, config: true }));
hls.push(frame({ kind: 'audio', codec: 'aac', dts: 0, payload: ASC, config: true }));
let t = 0;

const bench = new Bench({ time: 1500 });
bench
  .add('TsMuxer.writeVideo (7 KB inter frame)', () => {
    if (sink.length > 6 * 1024 * 1024) sink.length = 0;
    ts.writeVideo(INTER, n * 33, n * 33, false, sink);
    n++;
  })
  .add('TsMuxer.writeVideo (60 KB keyframe)', () => {
    if (sink.length > 6 * 1024 * 1024) sink.length = 0;
    ts.writeVideo(KEY, n * 33, n * 33, true, sink);
    n++;
  })
  .add('TsMuxer.writeAudio (370 B AAC)', () => {
    if (sink.length > 6 * 1024 * 1024) sink.length = 0;
    ts.writeAudio(AAC, n * 23, sink);
    n++;
  })
  .add('encodeFragment (8 × 7 KB video + 11 AAC: one 250 ms part)', () => {
    const v = Array.from({ length: 8 }, () => ({ duration: 3000, cto: 0, key: false, data: INTER }));
    const a = Array.from({ length: 11 }, () => ({ duration: 1024, cto: 0, key: true, data: AAC }));
    encodeFragment(1, [
      { trackId: 1, baseDecodeTime: 0, samples: v },
      { trackId: 2, baseDecodeTime: 0, samples: a },
    ]);
  })
  .add('HlsMuxer.push (TS + LL-HLS, 30 fps + AAC mix)', () => {
    // One video frame plus ~1.4 audio frames per tick, as in a live stream.
    const key = t % 30 === 0;
    hls.push(
      frame({ kind: 'video', codec: 'h264', dts: Math.round(t * 33.333), payload: key ? KEY : INTER, key }),
    );
    hls.push(frame({ kind: 'audio', codec: 'aac', dts: Math.round(t * 33.333), payload: AAC }));
    t++;
  });

await bench.run();
const rows = bench.tasks.map((task) => {
  const r = task.result as unknown as {
    throughput?: { mean: number };
    hz?: number;
    latency?: { mean: number };
  };
  const hz = r.throughput?.mean ?? r.hz ?? 0;
  return { task: task.name, 'ops/s': Math.round(hz), 'µs/op': Number((1e6 / hz).toFixed(2)) };
});
console.table(rows);
console.log(JSON.stringify({ node: process.version, date: new Date().toISOString(), rows }));
hls.close();
