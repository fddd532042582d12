/**
 * The stream's shared packet ring: PacketRingWriter.write (one copy of the body into the
 * SharedArrayBuffer) and PacketRingReader.next (views), for an average 2 Mbps 720p30 video frame,
 * an AAC frame and a 60 kB keyframe.
 *
 *   node --import tsx benchmarks/micro/packet-ring.bench.ts [--json]
 */
import { type FrameInput, PacketRingReader, PacketRingWriter } from '../../engine/memory/packet-ring.js';
import { AVG_AUDIO_BYTES, AVG_VIDEO_BYTES, aacBody, avcBody, type MicroCase, runSuite } from './harness.js';

function input(kind: 'video' | 'audio', body: Uint8Array, key: boolean): FrameInput {
  return {
    kind,
    codec: kind === 'video' ? 'h264' : 'aac',
    dts: 0,
    pts: 0,
    key,
    config: false,
    body,
    payloadOffset: kind === 'video' ? 5 : 2,
    payloadLength: body.length - (kind === 'video' ? 5 : 2),
    ingestTime: 0,
  };
}

const video = input('video', avcBody(AVG_VIDEO_BYTES, false), false);
const audio = input('audio', aacBody(AVG_AUDIO_BYTES), true);
const key = input('video', avcBody(60_000, true), true);

let sink = 0;
const cases: MicroCase[] = [];
for (const [name, inp] of [
  [`video ${AVG_VIDEO_BYTES} B`, video],
  [`audio ${AVG_AUDIO_BYTES} B`, audio],
  ['keyframe 60000 B', key],
] as const) {
  const ring = PacketRingWriter.create();
  let ts = 0;
  cases.push({
    name: `write ${name}`,
    fn: () => {
      ts += 33;
      sink += ring.write({ ...inp, dts: ts, pts: ts }).seq;
    },
    bytesPerOp: inp.body.length,
  });
}
{
  const ring = PacketRingWriter.create();
  const reader = new PacketRingReader(ring);
  let ts = 0;
  cases.push({
    name: `write + next, video ${AVG_VIDEO_BYTES} B`,
    fn: () => {
      ts += 33;
      ring.write({ ...video, dts: ts, pts: ts });
      const f = reader.next();
      if (f) sink += f.body.length;
    },
    bytesPerOp: video.body.length,
  });
}
{
  // 10 readers following one writer (HLS, RTP, relays on worker threads do this).
  const ring = PacketRingWriter.create();
  const readers = Array.from({ length: 10 }, () => new PacketRingReader(ring));
  let ts = 0;
  cases.push({
    name: `write + 10 × next, video ${AVG_VIDEO_BYTES} B`,
    fn: () => {
      ts += 33;
      ring.write({ ...video, dts: ts, pts: ts });
      for (const r of readers) {
        const f = r.next();
        if (f) sink += f.seq;
      }
    },
    unitsPerOp: 10,
    unit: 'reads',
  });
}

await runSuite('packet-ring', cases);
if (sink < 0) console.log(sink);
