import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertPublishSubject,
  decodeSubjectToken,
  encodeSubjectToken,
  parseSubscriptionSubject,
  subjectMatches,
} from '../../../../engine/bus/subject.js';

describe('subject matching', () => {
  const table: [pattern: string, subject: string, match: boolean][] = [
    ['a.b.c', 'a.b.c', true],
    ['a.b.c', 'a.b', false],
    ['a.b', 'a.b.c', false],
    ['a.*.c', 'a.b.c', true],
    ['a.*.c', 'a.b.d', false],
    ['a.*', 'a.b.c', false],
    ['*', 'a', true],
    ['*', 'a.b', false],
    ['a.>', 'a.b', true],
    ['a.>', 'a.b.c.d', true],
    ['a.>', 'a', false],
    ['>', 'a.b', true],
    ['*.b.>', 'x.b.y', true],
    ['*.b.>', 'x.c.y', false],
  ];
  it.each(table)('subjectMatches(%s, %s) is %s', (pattern, subject, match) => {
    expect(subjectMatches(pattern, subject)).toBe(match);
  });

  it('parseSubscriptionSubject() rejects empty tokens, spaces, inner wildcards and a non-final >', () => {
    for (const bad of ['', 'a..b', '.a', 'a.', 'a b', 'a.b*', 'a.>.b', 'a.*x']) {
      expect(() => parseSubscriptionSubject(bad), bad).toThrow(TypeError);
    }
    expect(() => assertPublishSubject('a.*')).toThrow(TypeError);
    expect(() => assertPublishSubject('a.b')).not.toThrow();
  });

  it('encodeSubjectToken() yields one valid token and decodes back for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
        const tok = encodeSubjectToken(s);
        expect(tok).toMatch(/^[A-Za-z0-9_\-/%]+$/);
        expect(() => assertPublishSubject(`rts.media.${tok}`)).not.toThrow();
        expect(decodeSubjectToken(tok)).toBe(s);
      }),
    );
    expect(encodeSubjectToken('live/cam.1')).toBe('live/cam%2E1');
  });
});
