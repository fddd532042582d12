import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MediaFrame } from '../../../../media/frame/media-frame.js';
import {
  decodeFrame,
  decodeFrameHeader,
  encodeFrameParts,
  FRAME_HEADER_SIZE,
  FrameCodecError,
  FrameReassembler,
  fragmentCountFor,
} from '../../../../transports/nats/frame-codec.js';

function makeFrame(size: number, over: Partial<MediaFrame> = {}): MediaFrame {
  const body = new Uint8Array(size);
  for (let i = 0; i < size; i++) body[i] = (i * 31 + size) & 0xff;
  const payloadOffset = Math.min(5, size);
  return {
    kind: 'video',
    codec: 'h264',
    dts: 40_000,
    pts: 40_066,
    key: false,
    config: false,
    body,
    payload: body.subarray(payloadOffset),
    seq: 7,
    ingestTime: 1_764_000_000_123.25,
    ...over,
  };
}

function expectSameFrame(got: MediaFrame | undefined, want: MediaFrame, seq = want.seq): void {
  expect(got).toBeDefined();
  expect(got!.kind).toBe(want.kind);
  expect(got!.codec).toBe(want.codec);
  expect(got!.dts).toBe(want.dts);
  expect(got!.pts).toBe(want.pts);
  expect(got!.key).toBe(want.key);
  expect(got!.config).toBe(want.config);
  expect(got!.seq).toBe(seq >>> 0);
  expect(got!.ingestTime).toBe(want.ingestTime);
  expect(Buffer.from(got!.body).equals(Buffer.from(want.body))).toBe(true);
  expect(Buffer.from(got!.payload).equals(Buffer.from(want.payload))).toBe(true);
}

describe('frame codec', () => {
  it('encodeFrameParts() writes the documented header bytes for a one-part frame', () => {
    const body = Uint8Array.of(0x17, 0x01, 0x00, 0x00, 0x42, 0xaa, 0xbb);
    const frame: MediaFrame = {
      kind: 'video',
      codec: 'h264',
      dts: 1000,
      pts: 1066,
      key: true,
      config: false,
      body,
      payload: body.subarray(5),
      seq: 0x01020304,
      ingestTime: 2,
    };
    const parts = encodeFrameParts(frame, 1024);
    expect(parts).toHaveLength(1);
    const want = Buffer.from(
      '01' + // version
        '00' + // kind video
        '01' + // codec h264
        '01' + // flags: key
        '408f400000000000' + // dts 1000.0
        '42840000' + // pts - dts = 66.0f
        '01020304' + // seq
        '4000000000000000' + // ingestTime 2.0
        '00000007' + // body length
        '0000' + // fragment index
        '0001' + // fragment count
        '0005' + // payload offset
        '1701000042aabb',
      'hex',
    );
    expect(Buffer.from(parts[0]!).toString('hex')).toBe(want.toString('hex'));
    const back = decodeFrame(parts[0]!);
    expectSameFrame(back, frame);
    expect(back.body.buffer).toBe(parts[0]!.buffer);
  });

  it('decodeFrameHeader() rejects unknown versions, codecs and bad fragment numbers with FrameCodecError', () => {
    const [part] = encodeFrameParts(makeFrame(10), 1024);
    const bad = (mutate: (b: Uint8Array) => void): (() => void) => {
      const b = Uint8Array.from(part!);
      mutate(b);
      return () => decodeFrameHeader(b, 0);
    };
    expect(bad((b) => (b[0] = 2))).toThrow(FrameCodecError);
    expect(bad((b) => (b[1] = 9))).toThrow(FrameCodecError);
    expect(bad((b) => (b[2] = 99))).toThrow(FrameCodecError);
    expect(bad((b) => (b[35] = 0))).toThrow(FrameCodecError);
    expect(bad((b) => (b[37] = 200))).toThrow(FrameCodecError);
    expect(() => decodeFrameHeader(part!.subarray(0, 20), 0)).toThrow(FrameCodecError);
  });

  it('encodeFrameParts() splits at maxPayload and every part fits it', () => {
    const max = 1000;
    const chunk = max - FRAME_HEADER_SIZE;
    for (const size of [0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk, 3 * chunk + 1]) {
      const parts = encodeFrameParts(makeFrame(size), max);
      expect(parts).toHaveLength(fragmentCountFor(size, max));
      for (const p of parts) expect(p.length).toBeLessThanOrEqual(max);
      expect(parts.reduce((a, p) => a + p.length - FRAME_HEADER_SIZE, 0)).toBe(size);
      // One allocation for all parts.
      for (const p of parts) expect(p.buffer).toBe(parts[0]!.buffer);
    }
  });

  it('round-trips any frame through encodeFrameParts() and FrameReassembler for sizes around the split', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 64, max: 600 }),
        fc.integer({ min: 0, max: 3000 }),
        fc.record({
          kind: fc.constantFrom('video', 'audio', 'data') as fc.Arbitrary<MediaFrame['kind']>,
          codec: fc.constantFrom('h264', 'h265', 'av1', 'vp9', 'aac', 'opus', 'mp3', 'amf') as fc.Arbitrary<
            MediaFrame['codec']
          >,
          key: fc.boolean(),
          config: fc.boolean(),
          dts: fc.integer({ min: 0, max: 2 ** 40 }),
          cts: fc.integer({ min: -1000, max: 100_000 }),
          seq: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
          ingestTime: fc.double({ min: 0, max: 2e12, noNaN: true }),
        }),
        (maxPayload, size, f) => {
          const frame = makeFrame(size, { ...f, pts: f.dts + f.cts });
          const parts = encodeFrameParts(frame, maxPayload);
          const r = new FrameReassembler({ maxPendingFrames: 2 });
          let out: MediaFrame | undefined;
          parts.forEach((p, i) => {
            const got = r.push(p);
            if (i < parts.length - 1) expect(got).toBeUndefined();
            else out = got;
          });
          expectSameFrame(out, frame);
          expect(r.lost + r.malformed + r.stale + r.incomplete).toBe(0);
          expect(r.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('FrameReassembler reassembles fragments pushed in any order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 200, max: 5000 }), fc.infiniteStream(fc.nat()), (size, rnd) => {
        const frame = makeFrame(size);
        const parts = encodeFrameParts(frame, 100);
        const shuffled = parts.map((p) => [rnd.next().value as number, p] as const);
        shuffled.sort((a, b) => a[0] - b[0]);
        const r = new FrameReassembler();
        const outs = shuffled.map(([, p]) => r.push(p)).filter((f) => f !== undefined);
        expect(outs).toHaveLength(1);
        expectSameFrame(outs[0], frame);
      }),
      { numRuns: 100 },
    );
  });

  it('FrameReassembler counts every frame with a missing part as lost, and delivers the rest in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.boolean(), { minLength: 200, maxLength: 200 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        (sizes, keepMask, seq0) => {
          const r = new FrameReassembler({ maxPendingFrames: 64 });
          const losses: number[] = [];
          const r2 = new FrameReassembler({ maxPendingFrames: 64, onLoss: (n) => losses.push(n) });
          let k = 0;
          const delivered: number[] = [];
          const complete = new Set<number>();
          sizes.forEach((size, i) => {
            const seq = (seq0 + i) >>> 0;
            const parts = encodeFrameParts(makeFrame(size, { seq }), 200);
            let all = true;
            for (const p of parts) {
              // Keep the last frame whole so that every earlier loss is observable.
              const keep = i === sizes.length - 1 || keepMask[k++ % keepMask.length]!;
              if (!keep) {
                all = false;
                continue;
              }
              const f = r.push(p);
              r2.push(p);
              if (f !== undefined) delivered.push(f.seq);
            }
            if (all) complete.add(seq);
          });
          const want = [...complete];
          // The first delivered frame starts the sequence: nothing before it counts as lost.
          const first = delivered[0]!;
          const missingAfterFirst = sizes.length - 1 - ((first - seq0) >>> 0) + 1 - delivered.length;
          expect(delivered).toEqual(want);
          expect(r.lost).toBe(missingAfterFirst);
          expect(losses.reduce((a, b) => a + b, 0)).toBe(missingAfterFirst);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('FrameReassembler bounds its memory: frames beyond maxPendingFrames/maxBufferedBytes are discarded', () => {
    const r = new FrameReassembler({ maxPendingFrames: 2, maxBufferedBytes: 10_000 });
    // First parts of 3 big frames: only 2 may be pending.
    for (let s = 0; s < 3; s++) r.push(encodeFrameParts(makeFrame(3000, { seq: s }), 1000)[0]!);
    expect(r.incomplete).toBe(1);
    expect(r.bufferedBytes).toBe(6000);
    // A frame that alone exceeds the byte bound is dropped at once.
    r.push(encodeFrameParts(makeFrame(20_000, { seq: 3 }), 1000)[0]!);
    expect(r.bufferedBytes).toBeLessThanOrEqual(10_000);
    expect(r.incomplete).toBeGreaterThanOrEqual(2);
  });

  it('FrameReassembler ignores late parts and treats a far jump as a restart, not as loss', () => {
    const discontinuities: number[] = [];
    const r = new FrameReassembler({ onDiscontinuity: (s) => discontinuities.push(s) });
    expect(r.push(encodeFrameParts(makeFrame(10, { seq: 100 }), 1000)[0]!)?.seq).toBe(100);
    expect(r.push(encodeFrameParts(makeFrame(10, { seq: 101 }), 1000)[0]!)?.seq).toBe(101);
    expect(r.push(encodeFrameParts(makeFrame(10, { seq: 99 }), 1000)[0]!)).toBeUndefined();
    expect(r.stale).toBe(1);
    expect(r.push(encodeFrameParts(makeFrame(10, { seq: 5_000_000 }), 1000)[0]!)?.seq).toBe(5_000_000);
    expect(r.lost).toBe(0);
    expect(discontinuities).toEqual([5_000_000]);
    // seq wraps past 2^32 without loss.
    const w = new FrameReassembler();
    w.push(encodeFrameParts(makeFrame(10, { seq: 2 ** 32 - 1 }), 1000)[0]!);
    expect(w.push(encodeFrameParts(makeFrame(10, { seq: 0 }), 1000)[0]!)?.seq).toBe(0);
    expect(w.lost).toBe(0);
  });

  it('FrameReassembler counts malformed parts without throwing', () => {
    const r = new FrameReassembler();
    expect(r.push(new Uint8Array(5))).toBeUndefined();
    const [p] = encodeFrameParts(makeFrame(100), 1000);
    expect(r.push(p!.subarray(0, 60))).toBeUndefined();
    expect(r.malformed).toBe(2);
  });
});
