import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ChunkReader,
  DEFAULT_RTMP_LIMITS,
  encodeChunks,
  encodeChunksFlat,
  type RtmpMessage,
  RtmpProtocolError,
} from '../../../../../transports/rtmp/index.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function reader(limits = {}): { r: ChunkReader; got: RtmpMessage[] } {
  const got: RtmpMessage[] = [];
  const r = new ChunkReader((m) => got.push(m), { ...DEFAULT_RTMP_LIMITS, ...limits });
  return { r, got };
}

describe('ChunkReader / encodeChunks byte tables (RTMP 5.3.1)', () => {
  it('type 0 header with a 1-byte basic header, both ways', () => {
    //        fmt0 csid3 | ts 000010 | len 000003 | type 14 | msid 01000000 (LE) | payload
    const bytes = hex('03 000010 000003 14 01000000 aabbcc');
    const { r, got } = reader();
    r.push(bytes);
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ csid: 3, timestamp: 16, typeId: 20, streamId: 1 });
    expect(toHex(got[0].payload)).toBe('aabbcc');
    expect(toHex(encodeChunksFlat(got[0], 128))).toBe(toHex(bytes));
  });

  it('2- and 3-byte basic headers (csid 64..319 and 320..65599), both ways', () => {
    for (const [csid, basic] of [
      [64, '00 00'],
      [319, '00 ff'],
      [320, '01 0001'],
      [65599, '01 ffff'],
    ] as const) {
      const bytes = hex(`${basic} 000000 000001 09 00000000 7f`);
      const { r, got } = reader();
      r.push(bytes);
      expect(got[0]?.csid).toBe(csid);
      expect(toHex(encodeChunksFlat(got[0], 128))).toBe(toHex(bytes));
    }
  });

  it('splits a message into type 3 continuation chunks, and reads it back as one message', () => {
    const payload = new Uint8Array(300).map((_, i) => i & 0xff);
    const msg = { csid: 6, typeId: 9, streamId: 1, timestamp: 1000, payload };
    const flat = encodeChunksFlat(msg, 128);
    // 12-byte type 0 header + 128 + 1 + 128 + 1 + 44
    expect(flat.length).toBe(12 + 300 + 2);
    expect(flat[12 + 128]).toBe(0xc6);
    expect(flat[12 + 128 + 1 + 128]).toBe(0xc6);
    const { r, got } = reader();
    r.push(flat);
    expect(got).toHaveLength(1);
    expect(got[0].timestamp).toBe(1000);
    expect(toHex(got[0].payload)).toBe(toHex(payload));
  });

  it('keeps the payload as views: no copy in the chunk list, a view of the read for a one-chunk message', () => {
    const payload = new Uint8Array(1000);
    const parts = encodeChunks({ csid: 4, typeId: 8, streamId: 1, timestamp: 0, payload }, 400);
    expect(parts.filter((p) => p.buffer === payload.buffer)).toHaveLength(3);
    const read = Buffer.from(
      encodeChunksFlat({ csid: 4, typeId: 8, streamId: 1, timestamp: 0, payload }, 4096),
    );
    const { r, got } = reader();
    r.push(hex('02 000000 000004 01 00000000 00001000')); // Set Chunk Size 4096
    r.push(read);
    expect(got[1].payload.buffer).toBe(read.buffer);
  });

  it('extended timestamps: type 0 field 0xffffff + 4 bytes, repeated in type 3 chunks', () => {
    const payload = new Uint8Array(200).fill(7);
    const msg = { csid: 6, typeId: 9, streamId: 1, timestamp: 0x12345678, payload };
    const flat = encodeChunksFlat(msg, 128);
    expect(toHex(flat.subarray(0, 16))).toBe('06ffffff0000c809010000001234567' + '8');
    expect(toHex(flat.subarray(16 + 128, 16 + 128 + 5))).toBe('c612345678');
    const { r, got } = reader();
    r.push(flat);
    expect(got[0].timestamp).toBe(0x12345678);
    expect(toHex(got[0].payload)).toBe(toHex(payload));
  });

  it('type 1, 2 and 3 headers accumulate deltas; a new type 3 message adds the last timestamp field', () => {
    const bytes = hex(
      [
        '04 000064 000001 08 01000000 01', // type 0: ts 100
        '44 000014 000002 08 0202', //        type 1: +20 -> 120, len 2
        '84 00000a 0303', //                  type 2: +10 -> 130
        'c4 0404', //                         type 3: +10 -> 140
      ].join(''),
    );
    const { r, got } = reader();
    r.push(bytes);
    expect(got.map((m) => m.timestamp)).toEqual([100, 120, 130, 140]);
    expect(got.map((m) => toHex(m.payload))).toEqual(['01', '0202', '0303', '0404']);
    expect(got.every((m) => m.streamId === 1)).toBe(true);
  });

  it('reads the same bytes split at every position (headers and payloads across reads)', () => {
    const msgs = [
      { csid: 3, typeId: 20, streamId: 0, timestamp: 0, payload: new Uint8Array(50).fill(1) },
      { csid: 6, typeId: 9, streamId: 1, timestamp: 0xfffffff0, payload: new Uint8Array(333).fill(2) },
      { csid: 400, typeId: 8, streamId: 1, timestamp: 5, payload: new Uint8Array(129).fill(3) },
    ];
    const stream = Buffer.concat(msgs.map((m) => encodeChunksFlat(m, 128)));
    for (let cut = 0; cut <= stream.length; cut++) {
      const { r, got } = reader();
      r.push(stream.subarray(0, cut));
      r.push(stream.subarray(cut));
      expect(got.map((m) => [m.csid, m.timestamp, m.payload.length])).toEqual(
        msgs.map((m) => [m.csid, m.timestamp, m.payload.length]),
      );
    }
  });

  it('applies Set Chunk Size before the next chunk of the same read', () => {
    const big = { csid: 6, typeId: 9, streamId: 1, timestamp: 0, payload: new Uint8Array(5000).fill(9) };
    const bytes = Buffer.concat([hex('02 000000 000004 01 00000000 00002000'), encodeChunksFlat(big, 8192)]);
    const { r, got } = reader();
    r.push(bytes);
    expect(r.chunkSize).toBe(8192);
    expect(got[1].payload.length).toBe(5000);
  });

  it('Abort drops the partial message of a chunk stream', () => {
    const msg = { csid: 6, typeId: 9, streamId: 1, timestamp: 0, payload: new Uint8Array(300) };
    const flat = encodeChunksFlat(msg, 128);
    const { r, got } = reader();
    r.push(flat.subarray(0, 12 + 128)); // first chunk only
    expect(r.pendingBytes).toBe(300);
    r.push(hex('02 000000 000004 02 00000000 00000006'));
    expect(r.pendingBytes).toBe(0);
    r.push(encodeChunksFlat({ ...msg, payload: Uint8Array.of(1) }, 128));
    expect(got.map((m) => m.typeId)).toEqual([2, 9]);
    expect(got[1].payload.length).toBe(1);
  });

  it.each([
    [
      'message length over maxMessageSize',
      '04 000000 0f4241 09 01000000',
      'RTS_ERR_RTMP_MESSAGE_TOO_LARGE',
      {},
    ],
    [
      'chunk size over maxChunkSize',
      '02 000000 000004 01 00000000 7fffffff',
      'RTS_ERR_RTMP_CHUNK_TOO_LARGE',
      { maxChunkSize: 65536 },
    ],
    ['chunk size 0', '02 000000 000004 01 00000000 00000000', 'RTS_ERR_RTMP_CHUNK', {}],
    ['type 3 without a header', 'c5 00', 'RTS_ERR_RTMP_CHUNK', {}],
    ['type 2 without a header', '85 000000', 'RTS_ERR_RTMP_CHUNK', {}],
  ])('throws RtmpProtocolError for %s', (_, bytes, code, limits) => {
    const { r } = reader({ maxMessageSize: 1_000_000, ...limits });
    let err: unknown;
    try {
      r.push(hex(bytes));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RtmpProtocolError);
    expect((err as RtmpProtocolError).code).toBe(code);
  });

  it('bounds open chunk streams and bytes held in partial messages', () => {
    const { r } = reader({ maxChunkStreams: 4 });
    const open = (csid: number) =>
      hex(`${(csid & 0x3f).toString(16).padStart(2, '0')} 000000 000001 09 01000000 00`);
    for (let csid = 3; csid < 7; csid++) r.push(open(csid));
    expect(() => r.push(open(7))).toThrow(/chunk streams/);
    const { r: r2 } = reader({ maxPendingBytes: 1000, maxMessageSize: 900 });
    const firstChunk = '00'.repeat(128);
    r2.push(hex(`04 000000 000384 09 01000000 ${firstChunk}`)); // 900 bytes announced, one chunk sent
    expect(r2.pendingBytes).toBe(900);
    expect(() => r2.push(hex(`05 000000 000384 09 01000000 ${firstChunk}`))).toThrow(/partial messages/);
  });

  it('parses random message sequences split at random points (property)', () => {
    const message = fc.record({
      csid: fc.integer({ min: 2, max: 400 }),
      typeId: fc.constantFrom(8, 9, 18, 20),
      streamId: fc.integer({ min: 0, max: 5 }),
      timestamp: fc.integer({ min: 0, max: 0xffffffff }),
      payload: fc.uint8Array({ maxLength: 600 }),
    });
    fc.assert(
      fc.property(
        fc.array(message, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (msgs, cuts) => {
          const stream = Buffer.concat(msgs.map((m) => encodeChunksFlat(m, 128)));
          const { r, got } = reader();
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          let prev = 0;
          for (const p of [...points, stream.length]) {
            r.push(stream.subarray(prev, p));
            prev = p;
          }
          expect(got.map((m) => ({ ...m, payload: toHex(m.payload) }))).toEqual(
            msgs.map((m) => ({ ...m, payload: toHex(m.payload) })),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
