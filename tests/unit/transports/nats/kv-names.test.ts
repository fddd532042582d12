import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeKvKey, encodeKvKey, sanitizeBucketName } from '../../../../transports/nats/kv-names.js';

describe('KV names', () => {
  it('encodeKvKey() yields a valid JetStream key that decodes back, for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
        const k = encodeKvKey(s);
        expect(k).toMatch(/^[-/=\w]+$/);
        expect(decodeKvKey(k)).toBe(s);
      }),
    );
    expect(encodeKvKey('live/cam1')).toBe('live/cam1');
    expect(encodeKvKey('a.b=c')).toBe('a=2Eb=3Dc');
  });

  it('sanitizeBucketName() keeps [-A-Za-z0-9_] and replaces the rest', () => {
    expect(sanitizeBucketName('rts-streams-eu.west/1')).toBe('rts-streams-eu_west_1');
    expect(sanitizeBucketName('')).toBe('_');
  });
});
