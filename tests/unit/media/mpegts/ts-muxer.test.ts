import { describe, expect, it } from 'vitest';
import {
  PID_AUDIO,
  PID_PAT,
  PID_PMT,
  PID_VIDEO,
  TS_PACKET_SIZE,
} from '../../../../media/mpegts/constants.js';
import { crc32Mpeg2 } from '../../../../media/mpegts/crc32-mpeg2.js';
import { SegmentBuffer } from '../../../../media/mpegts/segment-buffer.js';
import { msTo90k, TsMuxer, writePcr, writePesTimestamp } from '../../../../media/mpegts/ts-muxer.js';
import { ASC, AVCC, SPS } from '../../transports/hls/synthetic.js';

interface Packet {
  pid: number;
  pusi: boolean;
  cc: number;
  af?: Uint8Array;
  payload: Uint8Array;
}

function packets(buf: Uint8Array): Packet[] {
  expect(buf.length % TS_PACKET_SIZE).toBe(0);
  const out: Packet[] = [];
  for (let o = 0; o < buf.length; o += TS_PACKET_SIZE) {
    expect(buf[o]).toBe(0x47);
    const afc = (buf[o + 3] >> 4) & 3;
    let p = o + 4;
    let af: Uint8Array | undefined;
    if (afc & 2) {
      af = buf.subarray(p + 1, p + 1 + buf[p]);
      p += 1 + buf[p];
    }
    out.push({
      pid: ((buf[o + 1] & 0x1f) << 8) | buf[o + 2],
      pusi: (buf[o + 1] & 0x40) !== 0,
      cc: buf[o + 3] & 15,
      af,
      payload: afc & 1 ? buf.subarray(p, o + TS_PACKET_SIZE) : new Uint8Array(0),
    });
  }
  return out;
}

function readPts(b: Uint8Array, p: number): number {
  return (
    ((b[p] >> 1) & 7) * 2 ** 30 +
    (b[p + 1] << 22) +
    ((b[p + 2] >> 1) << 15) +
    (b[p + 3] << 7) +
    (b[p + 4] >> 1)
  );
}

function muxer(): TsMuxer {
  const m = new TsMuxer();
  m.setVideoConfig('h264', AVCC);
  m.setAudioConfig('aac', ASC);
  return m;
}

describe('crc32Mpeg2()', () => {
  it('matches the CRC-32/MPEG-2 check value', () => {
    expect(crc32Mpeg2(new TextEncoder().encode('123456789'))).toBe(0x0376e6e7);
  });
});

describe('TsMuxer', () => {
  it('writes PAT and PMT with valid CRCs, H.264 + AAC stream types and the PCR PID', () => {
    const sink = new SegmentBuffer(1024);
    muxer().writeTables(sink);
    const [pat, pmt] = packets(sink.take());
    expect(pat.pid).toBe(PID_PAT);
    expect(pmt.pid).toBe(PID_PMT);
    for (const p of [pat, pmt]) {
      const sectionLength = ((p.payload[2] & 0x0f) << 8) | p.payload[3];
      // CRC over the whole section including its CRC is 0.
      expect(crc32Mpeg2(p.payload, 1, 4 + sectionLength)).toBe(0);
    }
    expect(((pat.payload[11] & 0x1f) << 8) | pat.payload[12]).toBe(PID_PMT);
    const s = pmt.payload;
    expect(((s[9] & 0x1f) << 8) | s[10]).toBe(PID_VIDEO); // PCR_PID
    expect([s[13], ((s[14] & 0x1f) << 8) | s[15]]).toEqual([0x1b, PID_VIDEO]);
    expect([s[18], ((s[19] & 0x1f) << 8) | s[20]]).toEqual([0x0f, PID_AUDIO]);
  });

  it('writes a keyframe PES with PTS/DTS, PCR + random access, AUD and SPS/PPS in Annex-B', () => {
    const sink = new SegmentBuffer(1024);
    const m = muxer();
    const nal = new Uint8Array(1000).fill(0xab);
    nal[0] = 0x65;
    const au = new Uint8Array(4 + nal.length);
    new DataView(au.buffer).setUint32(0, nal.length);
    au.set(nal, 4);
    m.writeVideo(au, 1000, 1080, true, sink);
    const ps = packets(sink.take());
    expect(ps.every((p) => p.pid === PID_VIDEO)).toBe(true);
    expect(ps.map((p) => p.cc)).toEqual(ps.map((_, i) => i & 15));
    expect(ps[0].pusi).toBe(true);
    expect(ps.slice(1).some((p) => p.pusi)).toBe(false);
    const af = ps[0].af!;
    expect(af[0] & 0x50).toBe(0x50); // random_access_indicator + PCR_flag
    const pcrBase = af[1] * 2 ** 25 + (af[2] << 17) + (af[3] << 9) + (af[4] << 1) + (af[5] >> 7);
    expect(pcrBase).toBe(90_000);
    const pes = ps[0].payload;
    expect([...pes.subarray(0, 4)]).toEqual([0, 0, 1, 0xe0]);
    expect(pes[7]).toBe(0xc0);
    expect(readPts(pes, 9)).toBe(97_200);
    expect(readPts(pes, 14)).toBe(90_000);
    const es = Buffer.concat(ps.map((p) => p.payload)).subarray(19);
    expect([...es.subarray(0, 6)]).toEqual([0, 0, 0, 1, 0x09, 0xf0]);
    expect([...es.subarray(6, 10)]).toEqual([0, 0, 0, 1]);
    expect(Buffer.from(es.subarray(10, 10 + SPS.length)).equals(SPS)).toBe(true);
    expect(es.length).toBe(6 + 4 + SPS.length + 4 + 5 + 4 + nal.length);
    expect(Buffer.from(es.subarray(es.length - nal.length)).equals(nal)).toBe(true);
  });

  it('writes AAC as one ADTS frame per PES with its length, continuity counting on across calls', () => {
    const sink = new SegmentBuffer(256);
    const m = muxer();
    for (let i = 0; i < 20; i++) m.writeAudio(new Uint8Array(200).fill(i), i * 23, sink);
    const ps = packets(sink.take());
    expect(ps.every((p) => p.pid === PID_AUDIO)).toBe(true);
    expect(ps.map((p) => p.cc)).toEqual(ps.map((_, i) => i & 15));
    const first = Buffer.concat(ps.slice(0, 2).map((p) => p.payload));
    expect((first[4] << 8) | first[5]).toBe(8 + 7 + 200);
    expect([first[14], first[15] & 0xf6]).toEqual([0xff, 0xf0]);
    const frameLength = ((first[17] & 3) << 11) | (first[18] << 3) | (first[19] >> 5);
    expect(frameLength).toBe(207);
    expect(ps[0].af?.[0] ? ps[0].af[0] & 0x10 : 0).toBe(0); // no PCR on audio when there is video
  });

  it('encodes 33-bit timestamps with marker bits and wraps', () => {
    const b = new Uint8Array(5);
    writePesTimestamp(b, 0, 2, 2 ** 33 - 1);
    expect([...b]).toEqual([0x2f, 0xff, 0xff, 0xff, 0xff]);
    expect(readPts(b, 0)).toBe(2 ** 33 - 1);
    expect(msTo90k(2 ** 33 / 90 + 1)).toBe(90);
    const pcr = new Uint8Array(6);
    writePcr(pcr, 0, 3);
    expect([...pcr]).toEqual([0, 0, 0, 1, 0xfe, 0]);
  });

  it('refuses a video frame before its sequence header', () => {
    expect(() =>
      new TsMuxer().writeVideo(new Uint8Array(8), 0, 0, true, new SegmentBuffer(1024)),
    ).toThrowError(expect.objectContaining({ code: 'RTS_ERR_TS_NO_VIDEO_CONFIG' }));
  });
});
