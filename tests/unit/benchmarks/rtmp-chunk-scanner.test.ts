import { describe, expect, it } from 'vitest';
import { RtmpChunkScanner, RtmpScanError } from '../../../benchmarks/load/rtmp-chunk-scanner.js';
import { ChunkReader } from '../../../transports/rtmp/chunk/chunk-reader.js';
import { encodeChunksFlat } from '../../../transports/rtmp/chunk/chunk-writer.js';
import { setChunkSizeMessage } from '../../../transports/rtmp/message/control-message.js';
import { DEFAULT_RTMP_LIMITS, type RtmpMessage } from '../../../transports/rtmp/types.js';

type Event = [string, number, number, number, number | string];

function body(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff);
}

/** A stream mixing fmt 0, 1, 2 and 3 headers, an extended timestamp, two chunk sizes and a command. */
function makeStream(): Uint8Array {
  const parts: Uint8Array[] = [];
  // Video on csid 6: fmt 0 at ts 1000, 300 bytes at chunk size 128 (fmt 3 continuations).
  parts.push(
    encodeChunksFlat({ csid: 6, typeId: 9, streamId: 1, timestamp: 1000, payload: body(300, 1) }, 128),
  );
  // fmt 1 (delta 33, new length 5, video) on csid 6.
  parts.push(Uint8Array.from([0x46, 0, 0, 33, 0, 0, 5, 9]), body(5, 2));
  // fmt 2 (delta 34, same length/type) then fmt 3 as a new message (adds 34 again).
  parts.push(Uint8Array.from([0x86, 0, 0, 34]), body(5, 3));
  parts.push(Uint8Array.from([0xc6]), body(5, 4));
  // A command on csid 3 (not media: assembled).
  parts.push(
    encodeChunksFlat({ csid: 3, typeId: 20, streamId: 0, timestamp: 0, payload: body(200, 5) }, 128),
  );
  // Set Chunk Size 4096, then a 5000-byte audio message on csid 4 with an extended timestamp.
  parts.push(encodeChunksFlat({ ...setChunkSizeMessage(4096), csid: 2 }, 128));
  parts.push(
    encodeChunksFlat(
      { csid: 4, typeId: 8, streamId: 1, timestamp: 0x01_23_45_67, payload: body(5000, 6) },
      4096,
    ),
  );
  // An empty data message.
  parts.push(
    encodeChunksFlat({ csid: 5, typeId: 18, streamId: 1, timestamp: 7, payload: new Uint8Array(0) }, 4096),
  );
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function viaScanner(pieces: Uint8Array[]): Event[] {
  const ev: Event[] = [];
  const s = new RtmpChunkScanner(
    (typeId, ts, len, b0) => ev.push(['media', typeId, ts, len, b0]),
    (m) => ev.push(['msg', m.typeId, m.timestamp, m.payload.length, Buffer.from(m.payload).toString('hex')]),
  );
  for (const p of pieces) s.push(p);
  return ev;
}

function viaReader(data: Uint8Array): Event[] {
  const ev: Event[] = [];
  const r = new ChunkReader((m: RtmpMessage) => {
    if (m.typeId === 8 || m.typeId === 9)
      ev.push(['media', m.typeId, m.timestamp, m.payload.length, m.payload.length ? m.payload[0] : -1]);
    else ev.push(['msg', m.typeId, m.timestamp, m.payload.length, Buffer.from(m.payload).toString('hex')]);
  }, DEFAULT_RTMP_LIMITS);
  r.push(data);
  return ev;
}

describe('RtmpChunkScanner', () => {
  const stream = makeStream();

  it('push() reports the same messages as ChunkReader (media by type, timestamp, length, first byte)', () => {
    const expected = viaReader(stream);
    expect(expected.map((e) => e[0]).filter((k) => k === 'media').length).toBe(5);
    expect(viaScanner([stream])).toEqual(expected);
  });

  it('push() gives the same result for every 2-way split and for 1-byte pushes', () => {
    const expected = viaReader(stream);
    for (let cut = 1; cut < stream.length; cut += 7) {
      expect(viaScanner([stream.subarray(0, cut), stream.subarray(cut)])).toEqual(expected);
    }
    expect(viaScanner(Array.from(stream, (b) => Uint8Array.of(b)))).toEqual(expected);
  });

  it('push() throws RtmpScanError on a type 3 chunk with no header before it', () => {
    const s = new RtmpChunkScanner(
      () => undefined,
      () => undefined,
    );
    expect(() => s.push(Uint8Array.of(0xc7, 1, 2, 3))).toThrow(RtmpScanError);
  });
});
