import { describe, expect, it } from 'vitest';
import {
  findDigest,
  makeDigestBlock,
  PLAYER_KEY_OPEN,
  SERVER_KEY_OPEN,
} from '../../../../../transports/rtmp/handshake/handshake-digest.js';
import {
  HANDSHAKE_SIZE,
  RtmpClientHandshake,
  RtmpProtocolError,
  RtmpServerHandshake,
} from '../../../../../transports/rtmp/index.js';

function run(digest: boolean, split: number): { server: RtmpServerHandshake; rest?: Uint8Array } {
  const client = new RtmpClientHandshake({ digest });
  const server = new RtmpServerHandshake();
  const c0c1 = client.start();
  expect(server.push(c0c1.subarray(0, split)).output).toBeUndefined();
  const s = server.push(c0c1.subarray(split));
  expect(s.output?.length).toBe(1 + 2 * HANDSHAKE_SIZE);
  const c = client.push(s.output!);
  expect(c.done).toBe(true);
  const first = Uint8Array.of(0x03, 0, 0, 0);
  const end = server.push(Buffer.concat([c.output!, first]));
  expect(end.done).toBe(true);
  return { server, rest: end.rest };
}

describe('RTMP handshake (5.2)', () => {
  it('plain: S2 echoes C1, C2 echoes S1, bytes after C2 are handed on', () => {
    const { server, rest } = run(false, 700);
    expect(server.digest).toBe(false);
    expect(Array.from(rest!)).toEqual([3, 0, 0, 0]);
  });

  it('digest: a signed C1 gets a signed S1 and an S2 the client verifies', () => {
    const { server } = run(true, 1);
    expect(server.digest).toBe(true);
  });

  it('the server S1 digest verifies with the server key at either scheme', () => {
    for (const scheme of [0, 1] as const) {
      const { block, digest } = makeDigestBlock(0x04050001, SERVER_KEY_OPEN, scheme);
      expect(findDigest(block, SERVER_KEY_OPEN)?.digest).toEqual(digest);
      expect(findDigest(block, PLAYER_KEY_OPEN)).toBeUndefined();
    }
  });

  it('refuses a wrong version byte (garbage, HTTP, RTMPE) at the first byte', () => {
    const server = new RtmpServerHandshake();
    expect(() => server.push(Buffer.from('GET / HTTP/1.1\r\n'))).toThrow(RtmpProtocolError);
    expect(() => new RtmpServerHandshake().push(Uint8Array.of(6))).toThrow(/version/);
  });
});
