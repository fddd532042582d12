/**
 * FLV tag building: FrameWire, the per-frame egress bytes built once per stream and shared by
 * every player (FLV tag header + PreviousTagSize, the HTTP chunked-encoding framing around it,
 * the WebSocket header, the RTMP chunk header).
 *
 *   node --import tsx benchmarks/micro/frame-wire.bench.ts [--json]
 */
import type { MediaFrame } from '../../media/frame/media-frame.js';
import { FrameWire } from '../../transports/flv/frame-wire.js';
import { AVG_VIDEO_BYTES, avcBody, type MicroCase, runSuite } from './harness.js';

const body = avcBody(AVG_VIDEO_BYTES, false);
let dts = 0;
function frame(): MediaFrame {
  dts += 33;
  return {
    kind: 'video',
    codec: 'h264',
    dts,
    pts: dts,
    key: false,
    config: false,
    body,
    payload: body.subarray(5),
    seq: dts,
    ingestTime: 0,
  };
}

let sink = 0;
const cases: MicroCase[] = [
  {
    name: 'FLV tag header + PreviousTagSize',
    fn: () => {
      sink += new FrameWire(frame()).flvHeaderAndTrailer().length;
    },
  },
  {
    name: 'HTTP-FLV chunk prefix + suffix',
    fn: () => {
      const w = new FrameWire(frame());
      sink += w.httpChunkPrefix().length + w.httpChunkSuffix().length;
    },
  },
  {
    name: 'WS-FLV header + FLV tag header',
    fn: () => {
      const w = new FrameWire(frame());
      sink += w.wsHeader().length + w.flvHeaderAndTrailer().length;
    },
  },
  {
    name: 'RTMP chunks (one chunk, header + view)',
    fn: () => {
      sink += new FrameWire(frame()).rtmpChunks(1, 0xffffff).length;
    },
  },
  {
    name: 'all four formats for one frame',
    fn: () => {
      const w = new FrameWire(frame());
      sink +=
        w.httpChunkPrefix().length +
        w.httpChunkSuffix().length +
        w.wsHeader().length +
        w.rtmpChunks(1, 0xffffff).length;
    },
  },
];

await runSuite('flv frame-wire', cases);
if (sink < 0) console.log(sink);
