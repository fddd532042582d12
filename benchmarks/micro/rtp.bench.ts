/**
 * RTP egress micro costs: H.264 packetization of a 640x360 keyframe and P-frame (once per stream),
 * the per-viewer header patch, Opus packetization, RTCP parsing.
 *
 *   node --import tsx benchmarks/micro/rtp.bench.ts [--json]
 */
import { H264Packetizer } from '../../transports/webrtc/rtp/h264-packetizer.js';
import { OpusPacketizer } from '../../transports/webrtc/rtp/opus-packetizer.js';
import { encodeNack, parseRtcp } from '../../transports/webrtc/rtp/rtcp.js';
import { patchRtpHeader } from '../../transports/webrtc/rtp/rtp-header.js';
import { runSuite } from './harness.js';

function avcc(...sizes: [number, number][]): Uint8Array {
  const total = sizes.reduce((n, [, s]) => n + 4 + s, 0);
  const out = new Uint8Array(total);
  let p = 0;
  for (const [type, size] of sizes) {
    new DataView(out.buffer).setUint32(p, size);
    out.fill(0x5a, p + 4, p + 4 + size);
    out[p + 4] = 0x60 | type;
    p += 4 + size;
  }
  return out;
}

const SPS = Uint8Array.from([0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x2f, 0xf9]);
const PPS = Uint8Array.from([0x68, 0xce, 0x3c, 0x80]);
const key = avcc([7, SPS.length], [8, PPS.length], [5, 30_000]);
key.set(SPS, 4);
key.set(PPS, 8 + SPS.length);
const delta = avcc([1, 2_000]);
const h264 = new H264Packetizer({ ssrc: 1, payloadType: 102 });
const opus = new OpusPacketizer({ ssrc: 2, payloadType: 111 });
const opusFrame = new Uint8Array(120).fill(7);
const shared = h264.packetize(delta, 0);
const rtcp = Buffer.concat([
  Buffer.from('81c90007000000011234567801000003000012340000001000000000000000000'.slice(0, 64), 'hex'),
  encodeNack(1, 0x12345678, [10, 11, 12, 40]),
]);
let seq = 0;
const keyPackets = h264.packetize(key, 0).length;

const report = await runSuite('rtp', [
  {
    name: `h264 packetize keyframe 30 KB (${keyPackets} packets)`,
    fn: () => h264.packetize(key, 9000),
    unitsPerOp: keyPackets,
    unit: 'packet',
    bytesPerOp: key.length,
  },
  {
    name: 'h264 packetize P-frame 2 KB (2 packets)',
    fn: () => h264.packetize(delta, 9000),
    unitsPerOp: 2,
    unit: 'packet',
    bytesPerOp: delta.length,
  },
  { name: 'opus packetize 120 B', fn: () => opus.packetize(opusFrame, 960), unitsPerOp: 1, unit: 'packet' },
  {
    name: 'per-viewer header patch (PT, seq, ts)',
    fn: () => {
      seq = (seq + 1) & 0xffff;
      patchRtpHeader(shared[0], 106, seq, seq * 3000);
    },
    unitsPerOp: 1,
    unit: 'packet',
  },
  { name: 'parse RTCP RR + NACK', fn: () => parseRtcp(rtcp), unitsPerOp: 1, unit: 'datagram' },
]);
if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
