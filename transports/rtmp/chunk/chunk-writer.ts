import { MAX_PROTOCOL_MESSAGE_LENGTH } from '../constants.js';
import { RtmpProtocolError } from '../errors.js';

/** What the chunk writer needs of a message; the payload stays a view. */
export interface OutgoingMessage {
  readonly csid: number;
  readonly typeId: number;
  readonly streamId: number;
  /** Timestamp in ms; written modulo 2^32. */
  readonly timestamp: number;
  readonly payload: Uint8Array;
}

function basicHeaderSize(csid: number): number {
  return csid < 64 ? 1 : csid < 320 ? 2 : 3;
}

function writeBasicHeader(fmt: number, csid: number, out: Uint8Array, offset: number): number {
  if (csid < 2 || csid > 65599) throw new RangeError(`chunk stream id ${csid} out of range`);
  if (csid < 64) {
    out[offset] = (fmt << 6) | csid;
    return 1;
  }
  if (csid < 320) {
    out[offset] = fmt << 6;
    out[offset + 1] = csid - 64;
    return 2;
  }
  out[offset] = (fmt << 6) | 1;
  out[offset + 1] = (csid - 64) & 0xff;
  out[offset + 2] = (csid - 64) >>> 8;
  return 3;
}

/** Size of the type 0 header this writer starts every message with (basic + 11 + extended). */
export function sizeOfType0Header(csid: number, timestamp: number): number {
  return basicHeaderSize(csid) + 11 + (timestamp >>> 0 >= 0xffffff ? 4 : 0);
}

/**
 * Writes a type 0 chunk header (5.3.1.2.1) for `msg` at `offset`; returns the bytes written.
 * @throws RangeError when `out` is too short.
 */
export function writeType0Header(msg: OutgoingMessage, out: Uint8Array, offset: number): number {
  const ts = msg.timestamp >>> 0;
  const size = sizeOfType0Header(msg.csid, ts);
  if (offset + size > out.length) throw new RangeError(`chunk header needs ${size} bytes at ${offset}`);
  const len = msg.payload.length;
  if (len > MAX_PROTOCOL_MESSAGE_LENGTH) {
    throw new RtmpProtocolError('RTS_ERR_RTMP_MESSAGE_TOO_LARGE', `message of ${len} bytes over 24 bits`);
  }
  let p = offset + writeBasicHeader(0, msg.csid, out, offset);
  const field = Math.min(ts, 0xffffff);
  out[p] = field >>> 16;
  out[p + 1] = (field >>> 8) & 0xff;
  out[p + 2] = field & 0xff;
  out[p + 3] = len >>> 16;
  out[p + 4] = (len >>> 8) & 0xff;
  out[p + 5] = len & 0xff;
  out[p + 6] = msg.typeId;
  const sid = msg.streamId >>> 0;
  out[p + 7] = sid & 0xff;
  out[p + 8] = (sid >>> 8) & 0xff;
  out[p + 9] = (sid >>> 16) & 0xff;
  out[p + 10] = sid >>> 24;
  p += 11;
  if (ts >= 0xffffff) {
    out[p] = ts >>> 24;
    out[p + 1] = (ts >>> 16) & 0xff;
    out[p + 2] = (ts >>> 8) & 0xff;
    out[p + 3] = ts & 0xff;
    p += 4;
  }
  return p - offset;
}

/** The type 3 continuation header for `msg` (basic header, plus the extended timestamp if the type 0 had one). */
function type3Header(msg: OutgoingMessage): Uint8Array {
  const ts = msg.timestamp >>> 0;
  const out = new Uint8Array(basicHeaderSize(msg.csid) + (ts >= 0xffffff ? 4 : 0));
  const p = writeBasicHeader(3, msg.csid, out, 0);
  if (ts >= 0xffffff) {
    out[p] = ts >>> 24;
    out[p + 1] = (ts >>> 16) & 0xff;
    out[p + 2] = (ts >>> 8) & 0xff;
    out[p + 3] = ts & 0xff;
  }
  return out;
}

/**
 * Splits `msg` into chunks of `chunkSize` (5.3.1): a type 0 header, then type 3 headers between
 * the pieces. Returns header bytes and payload *views* in wire order, for `writev`; the payload is
 * never copied. The result depends only on (msg, chunkSize), so a stream builds it once per frame
 * and hands the same array to every player that shares the chunk size and message stream id.
 */
export function encodeChunks(msg: OutgoingMessage, chunkSize: number): Uint8Array[] {
  const payload = msg.payload;
  const header = new Uint8Array(sizeOfType0Header(msg.csid, msg.timestamp));
  writeType0Header(msg, header, 0);
  if (payload.length <= chunkSize) return payload.length === 0 ? [header] : [header, payload];
  const parts: Uint8Array[] = [header, payload.subarray(0, chunkSize)];
  const t3 = type3Header(msg);
  for (let off = chunkSize; off < payload.length; off += chunkSize) {
    parts.push(t3, payload.subarray(off, Math.min(off + chunkSize, payload.length)));
  }
  return parts;
}

/** Total bytes of the chunked form of `msg`. */
export function sizeOfChunks(msg: OutgoingMessage, chunkSize: number): number {
  const len = msg.payload.length;
  const pieces = Math.max(1, Math.ceil(len / chunkSize));
  const t3 = basicHeaderSize(msg.csid) + (msg.timestamp >>> 0 >= 0xffffff ? 4 : 0);
  return sizeOfType0Header(msg.csid, msg.timestamp) + len + (pieces - 1) * t3;
}

/** The chunked form of `msg` in one contiguous buffer (control and command messages). */
export function encodeChunksFlat(msg: OutgoingMessage, chunkSize: number): Buffer {
  const parts = encodeChunks(msg, chunkSize);
  return Buffer.concat(parts, sizeOfChunks(msg, chunkSize));
}
