import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../../engine/errors.js';
import { decodeAmf0All, decodeAmf3, encodeAmf0 } from '../../../media/amf0/index.js';
import { serverPipeline } from '../../support/rtmp/pipeline.js';

/** A whole ffmpeg 4.1 publish session (client → server bytes, digest handshake to deleteStream). */
const corpus = new Uint8Array(
  readFileSync(new URL('../../fixtures/rtmp/ffmpeg-publish.bin', import.meta.url)),
);

/** Only named protocol errors may leave the parsers: anything else is a bug. */
function feed(chunks: Uint8Array[]): void {
  const p = serverPipeline({ maxMessageSize: 256 * 1024, maxPendingBytes: 1024 * 1024 });
  try {
    for (const c of chunks) p.push(c);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
  }
}

function split(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, data.length]) {
    out.push(data.subarray(prev, p));
    prev = p;
  }
  return out;
}

describe('RTMP golden capture', () => {
  it('the captured ffmpeg publish parses into publish, metadata, AVC/AAC headers, frames and FCUnpublish, however it is split', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        const p = serverPipeline();
        for (const c of split(corpus, cuts)) p.push(c);
        expect(p.handshake.digest).toBe(true);
        expect(p.requests).toMatchObject([{ kind: 'publish', app: 'live', name: 'fixture' }]);
        expect(p.media[0]).toMatchObject({ typeId: 18, name: 'onMetaData' });
        const video = p.media.filter((m) => m.typeId === 9);
        expect(Array.from(video[0].payload.subarray(0, 2))).toEqual([0x17, 0]);
        expect(video.length).toBeGreaterThanOrEqual(30);
        expect(p.media.some((m) => m.typeId === 8 && m.payload[0] >> 4 === 10)).toBe(true);
        expect(p.stopped).toEqual(['1:publish:FCUnpublish']);
      }),
      { numRuns: 30 },
    );
  });
});

describe('RTMP fuzz: nothing but ProtocolError escapes, nothing hangs', () => {
  it('mutated captures (byte flips, cuts, insertions) through handshake, chunk reader and session', () => {
    const mutation = fc.record({
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 20 }),
      truncate: fc.option(fc.nat()),
      insert: fc.option(fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 64 }))),
      cuts: fc.array(fc.nat(), { maxLength: 10 }),
    });
    fc.assert(
      fc.property(mutation, (m) => {
        let data: Uint8Array = Uint8Array.from(corpus);
        // Flips after the handshake reach the chunk and AMF layers.
        for (const [at, v] of m.flips) data[1537 + 1536 + (at % (data.length - 3073))] = v;
        if (m.insert !== null) {
          const at = m.insert[0] % data.length;
          data = Buffer.concat([data.subarray(0, at), m.insert[1], data.subarray(at)]);
        }
        if (m.truncate !== null) data = data.subarray(0, m.truncate % (data.length + 1));
        const t0 = performance.now();
        feed(split(data, m.cuts));
        expect(performance.now() - t0).toBeLessThan(1000);
      }),
      { numRuns: 1500 },
    );
  });

  it('random bytes before and after a valid handshake', () => {
    const handshake = corpus.subarray(0, 1537 + 1536);
    fc.assert(
      fc.property(fc.boolean(), fc.uint8Array({ minLength: 1, maxLength: 4096 }), (after, junk) => {
        feed(after ? [handshake, junk] : [junk]);
      }),
      { numRuns: 2000 },
    );
  });

  it('random and mutated AMF0/AMF3 bodies', () => {
    const seed = encodeAmf0(
      'connect',
      1,
      { app: 'live', tcUrl: 'rtmp://h/live', caps: [1, 'x', { n: null }] },
      undefined,
    );
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 512 }),
      fc
        .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })
        .map((flips) => {
          const b = Uint8Array.from(seed);
          for (const [at, v] of flips) b[at % b.length] = v;
          return b;
        }),
    );
    fc.assert(
      fc.property(body, (bytes) => {
        for (const decode of [() => decodeAmf0All(bytes), () => decodeAmf3(bytes, 0)]) {
          try {
            decode();
          } catch (err) {
            if (!(err instanceof ProtocolError)) throw err;
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});
