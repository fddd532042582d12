/**
 * Names for JetStream KV. A bucket name may hold only `[-A-Za-z0-9_]`, a key only `[-/=.\w]`
 * without a leading or trailing dot (nats.js `validBucketRe`/`validKeyRe`).
 */

/** Replaces every character a bucket name cannot hold with `_` (not reversible; names are ours). */
export function sanitizeBucketName(name: string): string {
  const s = name.replace(/[^-\w]/g, '_');
  return s.length > 0 ? s : '_';
}

const SAFE_KEY_CHAR = /^[A-Za-z0-9_\-/]$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes any string as a valid KV key, reversibly: characters outside `[A-Za-z0-9_-/]`
 * (including `.` and `=`) become `=XX` per UTF-8 byte; the empty string becomes `=`.
 */
export function encodeKvKey(key: string): string {
  if (key.length === 0) return '=';
  let out = '';
  for (const ch of key) {
    if (SAFE_KEY_CHAR.test(ch)) out += ch;
    else for (const b of encoder.encode(ch)) out += `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function decodeKvKey(encoded: string): string {
  if (encoded === '=') return '';
  if (!encoded.includes('=')) return encoded;
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; ) {
    if (encoded[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(encoded.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      for (const b of encoder.encode(encoded[i]!)) bytes.push(b);
      i++;
    }
  }
  return decoder.decode(new Uint8Array(bytes));
}
