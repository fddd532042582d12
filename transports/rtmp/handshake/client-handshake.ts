import { HANDSHAKE_SIZE, RTMP_VERSION } from '../constants.js';
import { RtmpProtocolError } from '../errors.js';
import {
  findDigest,
  makeDigestBlock,
  makeDigestResponse,
  PLAYER_KEY,
  PLAYER_KEY_OPEN,
  SERVER_KEY,
  SERVER_KEY_OPEN,
  verifyDigestResponse,
} from './handshake-digest.js';
import type { HandshakeStep } from './server-handshake.js';

/** Client version announced in a digest C1 (as ffmpeg: 9.0.124.2). */
const CLIENT_VERSION = 0x09007c02;

/**
 * Client side of the RTMP handshake (5.2): `start()` gives C0+C1, `push()` takes S0+S1+S2 and
 * gives C2. With `digest` it signs C1 and verifies the server's S2 when the server signs S1.
 */
export class RtmpClientHandshake {
  #buf: Uint8Array = new Uint8Array(0);
  #c1: Buffer | undefined;
  #c1Digest: Buffer | undefined;
  #done = false;
  readonly #useDigest: boolean;

  constructor(opts: { digest?: boolean } = {}) {
    this.#useDigest = opts.digest ?? false;
  }

  get done(): boolean {
    return this.#done;
  }

  start(): Uint8Array {
    const { block, digest } = this.#useDigest
      ? makeDigestBlock(CLIENT_VERSION, PLAYER_KEY_OPEN, 0)
      : makeDigestBlock(0, undefined);
    this.#c1 = block;
    this.#c1Digest = this.#useDigest ? digest : undefined;
    const out = Buffer.allocUnsafe(1 + HANDSHAKE_SIZE);
    out[0] = RTMP_VERSION;
    block.copy(out, 1);
    return out;
  }

  push(data: Uint8Array): HandshakeStep {
    if (this.#c1 === undefined || this.#done) {
      throw new RtmpProtocolError('RTS_ERR_RTMP_HANDSHAKE', 'handshake bytes out of order');
    }
    const buf = this.#buf.length === 0 ? data : Buffer.concat([this.#buf, data]);
    if (buf[0] !== RTMP_VERSION) {
      throw new RtmpProtocolError(
        'RTS_ERR_RTMP_HANDSHAKE',
        `server answered version 0x${buf[0].toString(16)}`,
      );
    }
    const need = 1 + 2 * HANDSHAKE_SIZE;
    if (buf.length < need) {
      this.#buf = Uint8Array.prototype.slice.call(buf);
      return { done: false };
    }
    const s1 = buf.subarray(1, 1 + HANDSHAKE_SIZE);
    const s2 = buf.subarray(1 + HANDSHAKE_SIZE, need);
    let c2: Uint8Array = s1;
    if (this.#c1Digest !== undefined && s1[4] !== 0) {
      const found = findDigest(s1, SERVER_KEY_OPEN);
      if (found === undefined)
        throw new RtmpProtocolError('RTS_ERR_RTMP_HANDSHAKE', 'server S1 digest invalid');
      if (!verifyDigestResponse(s2, this.#c1Digest, SERVER_KEY)) {
        throw new RtmpProtocolError('RTS_ERR_RTMP_HANDSHAKE', 'server S2 signature mismatch');
      }
      c2 = makeDigestResponse(found.digest, PLAYER_KEY);
    }
    this.#done = true;
    this.#buf = new Uint8Array(0);
    return {
      output: Uint8Array.prototype.slice.call(c2),
      done: true,
      rest: need < buf.length ? buf.subarray(need) : undefined,
    };
  }
}
