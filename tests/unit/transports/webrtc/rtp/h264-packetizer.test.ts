import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  H264Packetizer,
  NAL_FU_A,
  NAL_STAP_A,
} from '../../../../../transports/webrtc/rtp/h264-packetizer.js';
import { readRtpHeader } from '../../../../../transports/webrtc/rtp/rtp-header.js';

const SPS = Uint8Array.from([0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x2f, 0xf9]);
const PPS = Uint8Array.from([0x68, 0xce, 0x3c, 0x80]);

function avcc(...nals: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(nals.reduce((n, x) => n + 4 + x.length, 0));
  let p = 0;
  for (const n of nals) {
    new DataView(out.buffer).setUint32(p, n.length);
    out.set(n, p + 4);
    p += 4 + n.length;
  }
  return out;
}

function nal(type: number, size: number, fill = 0xab): Uint8Array {
  const n = new Uint8Array(size).fill(fill);
  n[0] = 0x60 | type;
  return n;
}

/** RFC 6184 depacketizer (test oracle): NAL units back out of the packets. */
function depacketize(packets: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let fu: number[] | undefined;
  for (const p of packets) {
    const h = readRtpHeader(p)!;
    const pl = p.subarray(h.payloadOffset);
    const type = pl[0] & 0x1f;
    if (type === NAL_STAP_A) {
      let q = 1;
      while (q < pl.length) {
        const len = (pl[q] << 8) | pl[q + 1];
        out.push(Uint8Array.from(pl.subarray(q + 2, q + 2 + len)));
        q += 2 + len;
      }
    } else if (type === NAL_FU_A) {
      if (pl[1] & 0x80) fu = [(pl[0] & 0xe0) | (pl[1] & 0x1f)];
      fu!.push(...pl.subarray(2));
      if (pl[1] & 0x40) {
        out.push(Uint8Array.from(fu!));
        fu = undefined;
      }
    } else {
      out.push(Uint8Array.from(pl));
    }
  }
  return out;
}

describe('H264Packetizer', () => {
  it('puts SPS+PPS in one STAP-A before an IDR, then a single NAL packet, marker on the last', () => {
    const p = new H264Packetizer({ ssrc: 0x11223344, payloadType: 102, initialSeq: 65535 });
    const idr = nal(5, 300);
    const pkts = p.packetize(avcc(nal(9, 2), SPS, PPS, idr), 9000);
    expect(pkts).toHaveLength(2);
    const h0 = readRtpHeader(pkts[0])!;
    const h1 = readRtpHeader(pkts[1])!;
    expect(pkts[0][12] & 0x1f).toBe(NAL_STAP_A);
    expect([h0.marker, h1.marker]).toEqual([false, true]);
    expect([h0.seq, h1.seq]).toEqual([65535, 0]);
    expect(h0.timestamp).toBe(9000);
    expect(h0.ssrc).toBe(0x11223344);
    expect(h0.payloadType).toBe(102);
    expect(depacketize(pkts)).toEqual([SPS, PPS, idr]);
  });

  it('fragments a NAL unit above the MTU into balanced FU-A packets with S and E bits', () => {
    const p = new H264Packetizer({ ssrc: 1, payloadType: 96, maxPayload: 1000 });
    const big = nal(1, 2500);
    const pkts = p.packetize(avcc(big), 0);
    expect(pkts).toHaveLength(3);
    expect(pkts.map((x) => x[13] & 0xc0)).toEqual([0x80, 0, 0x40]);
    expect(pkts.every((x) => x.length - 12 <= 1000)).toBe(true);
    expect(
      Math.max(...pkts.map((x) => x.length)) - Math.min(...pkts.map((x) => x.length)),
    ).toBeLessThanOrEqual(1);
    expect(depacketize(pkts)).toEqual([big]);
  });

  it('takes SPS/PPS from the AVCDecoderConfigurationRecord and sends no STAP-A before a non-IDR', () => {
    const p = new H264Packetizer({ ssrc: 1, payloadType: 96 });
    const record = Uint8Array.from([
      1,
      0x42,
      0xc0,
      0x1e,
      0xff,
      0xe1,
      0,
      SPS.length,
      ...SPS,
      1,
      0,
      PPS.length,
      ...PPS,
    ]);
    p.setConfig(record);
    const idrPkts = p.packetize(avcc(nal(5, 100)), 0);
    expect(depacketize(idrPkts).slice(0, 2)).toEqual([SPS, PPS]);
    const pPkts = p.packetize(avcc(nal(1, 100)), 3000);
    expect(pPkts).toHaveLength(1);
    expect(pPkts[0][12] & 0x1f).toBe(1);
  });

  it('round-trips any access unit through an RFC 6184 depacketizer (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(1, 5, 6), fc.integer({ min: 1, max: 5000 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.integer({ min: 64, max: 1400 }),
        (spec, maxPayload) => {
          const p = new H264Packetizer({ ssrc: 7, payloadType: 102, maxPayload });
          const nals = spec.map(([t, n], i) => nal(t, n, i));
          const idr = nals.some((n) => (n[0] & 0x1f) === 5);
          const pkts = p.packetizeNalUnits(nals, 1234, idr ? [SPS, PPS] : []);
          expect(depacketize(pkts)).toEqual(idr ? [SPS, PPS, ...nals] : nals);
          expect(pkts.every((x) => x.length - 12 <= maxPayload)).toBe(true);
          expect(pkts.map((x) => readRtpHeader(x)!.marker)).toEqual(
            pkts.map((_, i) => i === pkts.length - 1),
          );
          const seqs = pkts.map((x) => readRtpHeader(x)!.seq);
          expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] + i) & 0xffff));
        },
      ),
      { numRuns: 100 },
    );
  });
});
