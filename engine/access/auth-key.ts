import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * `auth_key` Type A, as in the service we model:
 * `auth_key={timestamp}-{rand}-{uid}-{md5hash}`, md5hash = lowercase hex md5 of
 * `{URI}-{timestamp}-{rand}-{uid}-{key}` where URI is the request path without its query.
 * The URL is valid until `timestamp + validitySeconds`.
 */
export type AuthVerdict = { ok: true } | { ok: false; reason: string };

const AUTH_KEY_RE = /^(\d{1,12})-([0-9A-Za-z]{0,64})-([0-9A-Za-z_]{0,64})-([0-9a-fA-F]{32})$/;

export function md5Hex(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

export function authHash(uri: string, timestamp: number, rand: string, uid: string, key: string): string {
  return md5Hex(`${uri}-${timestamp}-${rand}-${uid}-${key}`);
}

export function makeAuthKey(uri: string, key: string, expiresAt: number, uid = '0', rand?: string): string {
  const r = rand ?? randomBytes(8).toString('hex');
  return `${expiresAt}-${r}-${uid}-${authHash(uri, expiresAt, r, uid, key)}`;
}

export interface AuthCheck {
  uri: string;
  authKey: string | undefined;
  keys: readonly string[];
  /** Seconds the URL stays valid after its timestamp (0: the timestamp is the expiry). */
  validitySeconds: number;
  nowSeconds: number;
}

export function verifyAuthKey(c: AuthCheck): AuthVerdict {
  if (!c.authKey) return { ok: false, reason: 'auth_key missing' };
  const m = AUTH_KEY_RE.exec(c.authKey);
  if (!m) return { ok: false, reason: 'auth_key malformed' };
  const ts = Number(m[1]);
  const given = Buffer.from(m[4].toLowerCase(), 'utf8');
  let matched = false;
  for (const key of c.keys) {
    const want = Buffer.from(authHash(c.uri, ts, m[2], m[3], key), 'utf8');
    // constant time; evaluate every key so timing does not tell which one failed
    if (timingSafeEqual(want, given)) matched = true;
  }
  if (!matched) return { ok: false, reason: 'auth_key signature does not match this URI' };
  if (c.nowSeconds > ts + c.validitySeconds) return { ok: false, reason: 'auth_key expired' };
  return { ok: true };
}

/** Signs a URL: adds or replaces its auth_key for the URL's own path. */
export function signUrl(
  url: string,
  key: string,
  ttlSeconds: number,
  nowSeconds = Date.now() / 1000,
): string {
  const u = new URL(url.replace(/^artc:/, 'http:').replace(/^rtmp:/, 'http:'));
  const scheme = url.slice(0, url.indexOf(':'));
  const expires = Math.floor(nowSeconds + ttlSeconds);
  u.searchParams.delete('auth_key');
  const authKey = makeAuthKey(u.pathname, key, expires);
  const rest = u.search ? `${u.search}&auth_key=${authKey}` : `?auth_key=${authKey}`;
  return `${scheme}://${u.host}${u.pathname}${rest}`;
}
