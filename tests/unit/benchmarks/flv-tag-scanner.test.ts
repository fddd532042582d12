import { describe, expect, it } from 'vitest';
import { FlvScanError, FlvTagScanner, isVideoKeyframe } from '../../../benchmarks/load/flv-tag-scanner.js';

interface Seen {
  type: number;
  timestamp: number;
  size: number;
  b0: number;
  b1: number;
}

function tag(type: number, timestamp: number, body: number[]): number[] {
  const size = body.length;
  const ts = timestamp >>> 0;
  const header = [
    type,
    (size >> 16) & 0xff,
    (size >> 8) & 0xff,
    size & 0xff,
    (ts >> 16) & 0xff,
    (ts >> 8) & 0xff,
    ts & 0xff,
    (ts >>> 24) & 0xff,
    0,
    0,
    0,
  ];
  const prev = size + 11;
  return [...header, ...body, (prev >>> 24) & 0xff, (prev >> 16) & 0xff, (prev >> 8) & 0xff, prev & 0xff];
}

const FILE_HEADER = [0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0];

const stream = Uint8Array.from([
  ...FILE_HEADER,
  ...tag(18, 0, [2, 0, 10, ...'onMetaData'.split('').map((c) => c.charCodeAt(0))]),
  ...tag(9, 0, [0x17, 0, 0, 0, 0, 1, 0x64]),
  ...tag(8, 23, [0xaf, 1, 0x21, 0x10]),
  ...tag(9, 33, [0x27, 1, 0, 0, 0, 0, 0, 0, 3, 0x41, 0x9a, 0x00]),
  ...tag(8, 0x01_00_00_05, [0xaf, 1]),
  ...tag(9, 66, []),
]);

const expected: Seen[] = [
  { type: 18, timestamp: 0, size: 13, b0: 2, b1: 0 },
  { type: 9, timestamp: 0, size: 7, b0: 0x17, b1: 0 },
  { type: 8, timestamp: 23, size: 4, b0: 0xaf, b1: 1 },
  { type: 9, timestamp: 33, size: 12, b0: 0x27, b1: 1 },
  { type: 8, timestamp: 0x01_00_00_05, size: 2, b0: 0xaf, b1: 1 },
  { type: 9, timestamp: 66, size: 0, b0: -1, b1: -1 },
];

function scan(pieces: Uint8Array[]): Seen[] {
  const seen: Seen[] = [];
  const s = new FlvTagScanner((type, timestamp, size, b0, b1) =>
    seen.push({ type, timestamp, size, b0, b1 }),
  );
  for (const p of pieces) s.push(p);
  return seen;
}

describe('FlvTagScanner', () => {
  it('push() reports every tag with type, extended timestamp, size and first body bytes', () => {
    expect(scan([stream])).toEqual(expected);
  });

  it('push() gives the same tags for every split of the stream (1-byte pushes, every 2-way split)', () => {
    expect(scan(Array.from(stream, (b) => Uint8Array.of(b)))).toEqual(expected);
    for (let cut = 1; cut < stream.length; cut++) {
      expect(scan([stream.subarray(0, cut), stream.subarray(cut)])).toEqual(expected);
    }
  });

  it('a tag is reported only once its last body byte arrived', () => {
    const seen: number[] = [];
    const s = new FlvTagScanner((type) => seen.push(type));
    const firstTagEnd = FILE_HEADER.length + 11 + 13;
    s.push(stream.subarray(0, firstTagEnd - 1));
    expect(seen).toEqual([]);
    s.push(stream.subarray(firstTagEnd - 1, firstTagEnd));
    expect(seen).toEqual([18]);
    expect(s.tags).toBe(1);
  });

  it('push() throws FlvScanError on a bad signature or an unknown tag type', () => {
    const s = new FlvTagScanner(() => undefined);
    expect(() => s.push(Uint8Array.from([0x47, 0x4c, 0x56, 1, 5, 0, 0, 0, 9]))).toThrow(FlvScanError);
    const t = new FlvTagScanner(() => undefined);
    expect(() => t.push(Uint8Array.from([...FILE_HEADER, ...tag(7, 0, [1])]))).toThrow(/tag type 7/);
  });

  it('isVideoKeyframe() reads frame type 1 from legacy and enhanced video headers', () => {
    expect(isVideoKeyframe(0x17)).toBe(true);
    expect(isVideoKeyframe(0x27)).toBe(false);
    expect(isVideoKeyframe(0x91)).toBe(true);
    expect(isVideoKeyframe(0xa1)).toBe(false);
  });
});
