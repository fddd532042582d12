/**
 * NATS-style subjects: dot-separated tokens; in a subscription `*` matches exactly one token and
 * `>` (last token only) matches one or more remaining tokens.
 *
 * Reference: NATS subject-based messaging, "Wildcards" (https://docs.nats.io/nats-concepts/subjects).
 */

/** Splits and validates a subject used to subscribe (wildcards allowed). Throws TypeError. */
export function parseSubscriptionSubject(subject: string): string[] {
  const tokens = splitTokens(subject);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.length > 1 && (t.includes('*') || t.includes('>'))) {
      throw new TypeError(`invalid subject ${JSON.stringify(subject)}: wildcard inside a token`);
    }
    if (t === '>' && i !== tokens.length - 1) {
      throw new TypeError(`invalid subject ${JSON.stringify(subject)}: '>' must be the last token`);
    }
  }
  return tokens;
}

/** Validates a subject used to publish (no wildcards). Throws TypeError. */
export function assertPublishSubject(subject: string): void {
  for (const t of splitTokens(subject)) {
    if (t.includes('*') || t.includes('>')) {
      throw new TypeError(`invalid publish subject ${JSON.stringify(subject)}: wildcards are not allowed`);
    }
  }
}

function splitTokens(subject: string): string[] {
  if (subject.length === 0 || /\s/.test(subject)) {
    throw new TypeError(`invalid subject ${JSON.stringify(subject)}`);
  }
  const tokens = subject.split('.');
  if (tokens.some((t) => t.length === 0)) {
    throw new TypeError(`invalid subject ${JSON.stringify(subject)}: empty token`);
  }
  return tokens;
}

/** True when a subject (tokens, no wildcards) matches a subscription pattern (tokens, wildcards). */
export function matchTokens(pattern: readonly string[], subject: readonly string[]): boolean {
  const n = pattern.length;
  for (let i = 0; i < n; i++) {
    const p = pattern[i]!;
    if (p === '>') return subject.length > i;
    if (i >= subject.length) return false;
    if (p !== '*' && p !== subject[i]) return false;
  }
  return subject.length === n;
}

/** Convenience form of {@link matchTokens} on strings. */
export function subjectMatches(pattern: string, subject: string): boolean {
  return matchTokens(parseSubscriptionSubject(pattern), subject.split('.'));
}

const SAFE_TOKEN_CHAR = /[A-Za-z0-9_\-/]/;

/**
 * Encodes any string (a stream key such as `live/cam.1`) as ONE subject token: every character
 * outside `[A-Za-z0-9_-/]` becomes `%XX` per UTF-8 byte, so `.`, `*`, `>` and spaces never leak
 * into the subject structure. Reversible with {@link decodeSubjectToken}.
 */
export function encodeSubjectToken(value: string): string {
  if (value.length === 0) return '%';
  let out = '';
  for (const ch of value) {
    if (SAFE_TOKEN_CHAR.test(ch)) {
      out += ch;
    } else {
      for (const b of new TextEncoder().encode(ch))
        out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return out;
}

export function decodeSubjectToken(token: string): string {
  if (token === '%') return '';
  return decodeURIComponent(token);
}
