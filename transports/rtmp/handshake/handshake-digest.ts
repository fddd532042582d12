import { createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';
import { HANDSHAKE_SIZE } from '../constants.js';

/**
 * The "complex" (digest) RTMP handshake used by Flash Player 9+, ffmpeg and most encoders.
 * It is not in the published RTMP 1.0 spec; the layout every implementation agrees on is:
 *
 *   C1/S1 (1536 bytes):  time(4) | version(4) | 764-byte block | 764-byte block
 *   scheme 0: digest block first  -> digest offset = (sum of bytes 8..11) % 728 + 12
 *   scheme 1: key block first     -> digest offset = (sum of bytes 772..775) % 728 + 776
 *   digest = HMAC-SHA256(key, the 1536 bytes without the 32 digest bytes)
 *     key = "Genuine Adobe Flash Player 001" (30 bytes) for C1, "...Media Server 001" (36) for S1.
 *   C2/S2: random(1504) | HMAC-SHA256(HMAC-SHA256(fullKey, peer's C1/S1 digest), random(1504))
 *     fullKey = the text above followed by 32 fixed bytes (62 bytes for the player, 68 for the server).
 */
const KEY_TAIL = [
  0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0, 0xd1, 0x02, 0x9e, 0x7e, 0x57, 0x6e, 0xec,
  0x5d, 0x2d, 0x29, 0x80, 0x6f, 0xab, 0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
];
const PLAYER_TEXT = 'Genuine Adobe Flash Player 001';
const SERVER_TEXT = 'Genuine Adobe Flash Media Server 001';

export const PLAYER_KEY = Buffer.concat([Buffer.from(PLAYER_TEXT, 'latin1'), Buffer.from(KEY_TAIL)]);
export const SERVER_KEY = Buffer.concat([Buffer.from(SERVER_TEXT, 'latin1'), Buffer.from(KEY_TAIL)]);
export const PLAYER_KEY_OPEN = PLAYER_KEY.subarray(0, PLAYER_TEXT.length);
export const SERVER_KEY_OPEN = SERVER_KEY.subarray(0, SERVER_TEXT.length);

export const DIGEST_SIZE = 32;

export type DigestScheme = 0 | 1;

/** Offset of the 32-byte digest inside a 1536-byte C1/S1 for `scheme`. */
export function digestOffset(block: Uint8Array, scheme: DigestScheme): number {
  const base = scheme === 0 ? 8 : 772;
  const sum = block[base] + block[base + 1] + block[base + 2] + block[base + 3];
  return (sum % 728) + base + 4;
}

/** HMAC-SHA256 of `block` with the 32 bytes at `gap` left out. */
export function digestOf(block: Uint8Array, gap: number, key: Uint8Array): Buffer {
  return createHmac('sha256', key)
    .update(block.subarray(0, gap))
    .update(block.subarray(gap + DIGEST_SIZE, HANDSHAKE_SIZE))
    .digest();
}

/** Finds a valid digest in a C1 (key = player) or S1 (key = server); undefined for a plain handshake. */
export function findDigest(
  block: Uint8Array,
  key: Uint8Array,
): { scheme: DigestScheme; offset: number; digest: Uint8Array } | undefined {
  for (const scheme of [0, 1] as const) {
    const offset = digestOffset(block, scheme);
    const expected = digestOf(block, offset, key);
    const got = block.subarray(offset, offset + DIGEST_SIZE);
    if (timingSafeEqual(expected, got)) return { scheme, offset, digest: got };
  }
  return undefined;
}

/**
 * Builds C1 or S1: `version` in bytes 4..7 (0 for a plain handshake), a digest when `key` is given.
 * Returns the block and its digest (empty for plain).
 */
export function makeDigestBlock(
  version: number,
  key: Uint8Array | undefined,
  scheme: DigestScheme = 0,
  epoch = 0,
): { block: Buffer; digest: Buffer } {
  const block = Buffer.allocUnsafe(HANDSHAKE_SIZE);
  randomFillSync(block, 8);
  block.writeUInt32BE(epoch >>> 0, 0);
  block.writeUInt32BE(version >>> 0, 4);
  if (key === undefined) return { block, digest: Buffer.alloc(0) };
  const offset = digestOffset(block, scheme);
  const digest = digestOf(block, offset, key);
  digest.copy(block, offset);
  return { block, digest };
}

/** C2/S2 answering a peer digest: random 1504 bytes then the keyed signature. */
export function makeDigestResponse(peerDigest: Uint8Array, fullKey: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HANDSHAKE_SIZE);
  randomFillSync(out, 0, HANDSHAKE_SIZE - DIGEST_SIZE);
  const key = createHmac('sha256', fullKey).update(peerDigest).digest();
  createHmac('sha256', key)
    .update(out.subarray(0, HANDSHAKE_SIZE - DIGEST_SIZE))
    .digest()
    .copy(out, HANDSHAKE_SIZE - DIGEST_SIZE);
  return out;
}

/** Checks a C2/S2 produced by makeDigestResponse for `ourDigest`. */
export function verifyDigestResponse(
  response: Uint8Array,
  ourDigest: Uint8Array,
  fullKey: Uint8Array,
): boolean {
  const key = createHmac('sha256', fullKey).update(ourDigest).digest();
  const expected = createHmac('sha256', key)
    .update(response.subarray(0, HANDSHAKE_SIZE - DIGEST_SIZE))
    .digest();
  return timingSafeEqual(expected, response.subarray(HANDSHAKE_SIZE - DIGEST_SIZE, HANDSHAKE_SIZE));
}
