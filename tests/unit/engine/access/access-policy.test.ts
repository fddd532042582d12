import { describe, expect, it } from 'vitest';
import { AccessPolicy } from '../../../../engine/access/access-policy.js';
import { makeAuthKey, signUrl, verifyAuthKey } from '../../../../engine/access/auth-key.js';
import { resolveConfig } from '../../../../engine/config/config.js';

const NOW = 1_800_000_000;
const domains = resolveConfig({
  domains: [
    { name: 'push.example.com', type: 'ingest', authKey: 'pushkey' },
    {
      name: 'play.example.com',
      type: 'play',
      ingest: 'push.example.com',
      authKey: 'k1',
      authKey2: 'k2',
      authValidity: 60,
    },
    { name: 'rts.example.com', type: 'rts', parent: 'play.example.com' },
    { name: 'other-push.example.com', type: 'ingest' },
    { name: 'other-play.example.com', type: 'play', ingest: 'other-push.example.com' },
  ],
}).domains;
const policy = new AccessPolicy(domains, () => NOW);

const play = (
  host: string,
  protocol: 'rtmp' | 'flv' | 'hls' | 'rts',
  uri: string,
  query: Record<string, string> = {},
) => policy.check({ action: 'play', protocol, host, app: 'live', stream: 's', uri, query });

describe('auth_key Type A', () => {
  it('verifyAuthKey() accepts a fresh signature and rejects expired, forged and other-URI ones', () => {
    const good = makeAuthKey('/live/s', 'k', NOW + 10, '0', 'abc');
    const base = { uri: '/live/s', keys: ['k'], validitySeconds: 0, nowSeconds: NOW };
    expect(verifyAuthKey({ ...base, authKey: good })).toEqual({ ok: true });
    expect(verifyAuthKey({ ...base, authKey: good, nowSeconds: NOW + 11 })).toMatchObject({
      ok: false,
      reason: 'auth_key expired',
    });
    expect(verifyAuthKey({ ...base, authKey: good.replace(/.$/, (c) => (c === '0' ? '1' : '0')) }).ok).toBe(
      false,
    );
    expect(verifyAuthKey({ ...base, authKey: good, uri: '/live/other' }).ok).toBe(false);
    expect(verifyAuthKey({ ...base, authKey: undefined })).toMatchObject({ reason: 'auth_key missing' });
    expect(verifyAuthKey({ ...base, authKey: 'nonsense' })).toMatchObject({ reason: 'auth_key malformed' });
  });

  it('matches the md5 of {URI}-{timestamp}-{rand}-{uid}-{key} as documented by the service', () => {
    // md5("/live/s-1800000000-0-0-secret")
    const k = makeAuthKey('/live/s', 'secret', 1800000000, '0', '0');
    expect(k).toBe('1800000000-0-0-b1282235474c19731104a75edd7aa736'); // computed independently with Python's hashlib
  });

  it('signUrl() signs the path of rtmp, http and artc URLs', () => {
    const url = signUrl('artc://rts.example.com/live/s?x=1', 'k1', 100, NOW);
    expect(url.startsWith('artc://rts.example.com/live/s?x=1&auth_key=')).toBe(true);
    const key = new URL(url.replace('artc:', 'http:')).searchParams.get('auth_key')!;
    expect(
      verifyAuthKey({ uri: '/live/s', authKey: key, keys: ['k1'], validitySeconds: 0, nowSeconds: NOW }).ok,
    ).toBe(true);
  });
});

describe('AccessPolicy', () => {
  it('lets anything through with no domains configured', () => {
    const open = new AccessPolicy([]);
    expect(
      open.check({
        action: 'publish',
        protocol: 'rtmp',
        host: '1.2.3.4',
        app: 'a',
        stream: 'b',
        uri: '/a/b',
        query: {},
      }),
    ).toMatchObject({ ok: true, streamKey: '_/a/b' });
  });

  it('refuses publishing on a play domain and accepts a signed publish on the ingest domain', () => {
    const v = policy.check({
      action: 'publish',
      protocol: 'rtmp',
      host: 'play.example.com',
      app: 'live',
      stream: 's',
      uri: '/live/s',
      query: {},
    });
    expect(v).toMatchObject({ ok: false, code: 'RTS_ERR_DOMAIN_NOT_INGEST' });
    const auth_key = makeAuthKey('/live/s', 'pushkey', NOW + 5);
    const ok = policy.check({
      action: 'publish',
      protocol: 'rtmp',
      host: '127.0.0.1',
      app: 'live',
      stream: 's',
      uri: '/live/s',
      query: { domain: 'push.example.com', auth_key },
    });
    expect(ok).toMatchObject({ ok: true, streamKey: 'push.example.com/live/s' });
  });

  it('binds play domains to their ingest domain, also through a parent', () => {
    const k = makeAuthKey('/live/s.flv', 'k2', NOW - 30); // secondary key, within authValidity 60 s
    expect(play('play.example.com', 'flv', '/live/s.flv', { auth_key: k })).toMatchObject({
      ok: true,
      streamKey: 'push.example.com/live/s',
    });
    const r = makeAuthKey('/live/s', 'k1', NOW + 5);
    expect(play('rts.example.com', 'rts', '/live/s', { auth_key: r })).toMatchObject({
      ok: true,
      streamKey: 'push.example.com/live/s',
    });
    expect(play('other-play.example.com', 'flv', '/live/s.flv')).toMatchObject({
      ok: true,
      streamKey: 'other-push.example.com/live/s',
    });
  });

  it('keeps RTS and RTMP/FLV/HLS on separate domains', () => {
    const r = makeAuthKey('/live/s.flv', 'k1', NOW + 5);
    expect(play('rts.example.com', 'flv', '/live/s.flv', { auth_key: r })).toMatchObject({
      ok: false,
      code: 'RTS_ERR_DOMAIN_RTS_ONLY',
    });
    expect(play('play.example.com', 'rts', '/live/s')).toMatchObject({
      ok: false,
      code: 'RTS_ERR_DOMAIN_NOT_RTS',
    });
  });

  it('refuses expired, forged, other-URI and missing keys with a reason', () => {
    expect(play('play.example.com', 'flv', '/live/s.flv', {})).toMatchObject({
      ok: false,
      reason: 'auth_key missing',
    });
    const old = makeAuthKey('/live/s.flv', 'k1', NOW - 61);
    expect(play('play.example.com', 'flv', '/live/s.flv', { auth_key: old })).toMatchObject({
      ok: false,
      reason: 'auth_key expired',
    });
    const forged = makeAuthKey('/live/s.flv', 'wrong', NOW + 5);
    expect(play('play.example.com', 'flv', '/live/s.flv', { auth_key: forged }).ok).toBe(false);
    const otherUri = makeAuthKey('/live/s.m3u8', 'k1', NOW + 5);
    expect(play('play.example.com', 'flv', '/live/s.flv', { auth_key: otherUri }).ok).toBe(false);
    expect(play('nowhere.example.com', 'flv', '/live/s.flv')).toMatchObject({
      ok: false,
      code: 'RTS_ERR_DOMAIN_UNKNOWN',
    });
  });
});
