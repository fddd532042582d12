import { HANDSHAKE_SIZE, RTMP_VERSION } from '../constants.js';
import { RtmpProtocolError } from '../errors.js';
import {
  findDigest,
  makeDigestBlock,
  makeDigestResponse,
  PLAYER_KEY_OPEN,
  SERVER_KEY,
  SERVER_KEY_OPEN,
} from './handshake-digest.js';

/** Server version announced in a digest S1 (FMS 4.5.0.1, as clients expect a value >= 3 in byte 5). */
const SERVER_VERSION = 0x04050001;

export interface HandshakeStep {
  /** Bytes to send to the peer now (S0+S1+S2 once C0+C1 are in). */
  output?: Uint8Array;
  /** True once C2 has arrived: the chunk stream starts. */
  done: boolean;
  /** Bytes that followed C2 in the same read: the first chunks, to feed the chunk reader. */
  rest?: Uint8Array;
}

/**
 * Server side of the RTMP handshake (5.2), push-based and socket-free.
 *
 *   client                server
 *   C0(1) C1(1536)  --->
 *                   <---  S0(1) S1(1536) S2(1536)
 *   C2(1536)        --->
 *
 * A C1 carrying a valid Flash Player digest gets the digest S1/S2 (ffmpeg, OBS, Flash verify it);
 * any other C1 gets the plain answer, S2 echoing C1. C2 is not verified: real clients disagree on it.
 */
export class RtmpServerHandshake {
  #buf: Uint8Array = new Uint8Array(0);
  #stage: 'c0c1' | 'c2' | 'done' = 'c0c1';
  #digest = false;

  /** Whether the client used the digest handshake (known after C1). */
  get digest(): boolean {
    return this.#digest;
  }

  get done(): boolean {
    return this.#stage === 'done';
  }

  /** @throws RtmpProtocolError on a wrong version byte (garbage, HTTP, RTMPE) or after completion. */
  push(data: Uint8Array): HandshakeStep {
    if (this.#stage === 'done')
      throw new RtmpProtocolError('RTS_ERR_RTMP_HANDSHAKE', 'handshake already complete');
    const buf = this.#buf.length === 0 ? data : Buffer.concat([this.#buf, data]);
    if (buf.length > 0 && this.#stage === 'c0c1' && buf[0] !== RTMP_VERSION) {
      throw new RtmpProtocolError(
        'RTS_ERR_RTMP_HANDSHAKE',
        `unsupported RTMP version byte 0x${buf[0].toString(16)} (expected 3)`,
      );
    }
    let output: Uint8Array | undefined;
    let offset = 0;
    if (this.#stage === 'c0c1') {
      if (buf.length < 1 + HANDSHAKE_SIZE) {
        this.#buf = Uint8Array.prototype.slice.call(buf);
        return { done: false };
      }
      output = this.#answer(buf.subarray(1, 1 + HANDSHAKE_SIZE));
      offset = 1 + HANDSHAKE_SIZE;
      this.#stage = 'c2';
    }
    if (buf.length - offset < HANDSHAKE_SIZE) {
      this.#buf = Uint8Array.prototype.slice.call(buf, offset);
      return { output, done: false };
    }
    this.#stage = 'done';
    this.#buf = new Uint8Array(0);
    const end = offset + HANDSHAKE_SIZE;
    return { output, done: true, rest: end < buf.length ? buf.subarray(end) : undefined };
  }

  #answer(c1: Uint8Array): Uint8Array {
    const out = Buffer.allocUnsafe(1 + 2 * HANDSHAKE_SIZE);
    out[0] = RTMP_VERSION;
    const clientVersion = (c1[4] << 24) | (c1[5] << 16) | (c1[6] << 8) | c1[7];
    const found = clientVersion !== 0 ? findDigest(c1, PLAYER_KEY_OPEN) : undefined;
    if (found !== undefined) {
      this.#digest = true;
      const s1 = makeDigestBlock(SERVER_VERSION, SERVER_KEY_OPEN, found.scheme);
      s1.block.copy(out, 1);
      makeDigestResponse(found.digest, SERVER_KEY).copy(out, 1 + HANDSHAKE_SIZE);
      return out;
    }
    makeDigestBlock(0, undefined).block.copy(out, 1);
    // S2 echoes C1 (5.2.4); its second field is the time C1 was read, 0 here as most servers send.
    out.set(c1, 1 + HANDSHAKE_SIZE);
    return out;
  }
}
