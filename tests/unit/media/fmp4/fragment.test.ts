import { describe, expect, it } from 'vitest';
import { encodeFragment, SAMPLE_FLAGS_NON_SYNC, SAMPLE_FLAGS_SYNC } from '../../../../media/fmp4/fragment.js';
import { encodeInitSegment } from '../../../../media/fmp4/init-segment.js';
import { encodeOpusHead } from '../../../../media/opus/opus-head.js';
import { ASC, AVCC } from '../../transports/hls/synthetic.js';

interface Box {
  type: string;
  start: number;
  size: number;
  body: Uint8Array;
}
const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'mvex', 'moof', 'traf', 'dinf']);

function boxes(buf: Uint8Array, start = 0, end = buf.length, out: Box[] = []): Box[] {
  const dv = new DataView(buf.buffer, buf.byteOffset);
  let p = start;
  while (p < end) {
    const size = dv.getUint32(p);
    const type = new TextDecoder().decode(buf.subarray(p + 4, p + 8));
    expect(size).toBeGreaterThanOrEqual(8);
    expect(p + size).toBeLessThanOrEqual(end);
    out.push({ type, start: p, size, body: buf.subarray(p + 8, p + size) });
    if (CONTAINERS.has(type)) boxes(buf, p + 8, p + size, out);
    p += size;
  }
  return out;
}

describe('encodeFragment()', () => {
  const video = [
    { duration: 3600, cto: 3600, key: true, data: new Uint8Array(10).fill(1) },
    { duration: 3600, cto: -1800, key: false, data: new Uint8Array(20).fill(2) },
  ];
  const audio = [{ duration: 1024, cto: 0, key: true, data: new Uint8Array(7).fill(3) }];
  const frag = encodeFragment(42, [
    { trackId: 1, baseDecodeTime: 2 ** 33 + 5, samples: video },
    { trackId: 2, baseDecodeTime: 44100, samples: audio },
  ]);
  const list = boxes(frag);
  const dv = new DataView(frag.buffer);

  it('nests moof{mfhd, traf{tfhd, tfdt, trun}×2} then mdat, sizes adding up', () => {
    expect(list.map((b) => b.type)).toEqual([
      'moof',
      'mfhd',
      'traf',
      'tfhd',
      'tfdt',
      'trun',
      'traf',
      'tfhd',
      'tfdt',
      'trun',
      'mdat',
    ]);
    const mdat = list.at(-1)!;
    expect(mdat.start + mdat.size).toBe(frag.length);
    expect(mdat.size).toBe(8 + 37);
    expect(dv.getUint32(list[1].start + 12)).toBe(42);
  });

  it('writes 64-bit tfdt and trun data offsets pointing at each track in mdat', () => {
    const tfdts = list.filter((b) => b.type === 'tfdt');
    expect(dv.getUint32(tfdts[0].start + 12) * 2 ** 32 + dv.getUint32(tfdts[0].start + 16)).toBe(2 ** 33 + 5);
    const truns = list.filter((b) => b.type === 'trun');
    const moof = list[0];
    const v = truns[0].start;
    expect(dv.getUint32(v + 12)).toBe(2);
    const vOff = dv.getInt32(v + 16);
    expect(frag[moof.start + vOff]).toBe(1);
    expect(frag[moof.start + vOff + 10]).toBe(2);
    expect(dv.getUint32(v + 20 + 8)).toBe(SAMPLE_FLAGS_SYNC);
    expect(dv.getUint32(v + 20 + 16 + 8)).toBe(SAMPLE_FLAGS_NON_SYNC);
    expect(dv.getInt32(v + 20 + 16 + 12)).toBe(-1800);
    const aOff = dv.getInt32(truns[1].start + 16);
    expect(frag[moof.start + aOff]).toBe(3);
    expect(aOff).toBe(vOff + 30);
  });
});

describe('encodeInitSegment()', () => {
  it('writes ftyp + moov with avc1/avcC, mp4a/esds and mvex/trex per track', () => {
    const init = encodeInitSegment([
      { kind: 'video', trackId: 1, codec: 'h264', timescale: 90000, width: 320, height: 240, config: AVCC },
      {
        kind: 'audio',
        trackId: 2,
        codec: 'aac',
        timescale: 44100,
        sampleRate: 44100,
        channels: 2,
        config: ASC,
      },
    ]);
    const types = boxes(init).map((b) => b.type);
    expect(types.slice(0, 2)).toEqual(['ftyp', 'moov']);
    expect(types.filter((t) => t === 'trak')).toHaveLength(2);
    expect(types.filter((t) => t === 'trex')).toHaveLength(2);
    const s = Buffer.from(init);
    expect(s.indexOf('avcC')).toBeGreaterThan(0);
    expect(s.indexOf('esds')).toBeGreaterThan(0);
    expect(s.indexOf(Buffer.from(AVCC))).toBeGreaterThan(0);
  });
  it('writes Opus/dOps big-endian from an OpusHead', () => {
    const init = encodeInitSegment([
      {
        kind: 'audio',
        trackId: 1,
        codec: 'opus',
        timescale: 48000,
        sampleRate: 48000,
        channels: 2,
        config: encodeOpusHead(2, 312),
      },
    ]);
    const s = Buffer.from(init);
    const at = s.indexOf('dOps');
    expect(at).toBeGreaterThan(0);
    expect([...s.subarray(at + 4, at + 8)]).toEqual([0, 2, 0x01, 0x38]);
  });
});
