/**
 * Minimal FLV file writer for feeding ffmpeg's stdin (Adobe FLV spec v10.1, E.2 and E.4.1).
 *
 * ```
 * header: 'F' 'L' 'V' | version=1 | 00000 audio:1 0 video:1 | dataOffset=9:32 | PreviousTagSize0=0:32
 * tag:    reserved:2 filter:1 type:5 | dataSize:24 | timestamp:24 | timestampExt:8 | streamId=0:24 | body | PreviousTagSize:32
 * ```
 * PreviousTagSize = 11 + dataSize.
 */
export const FLV_HEADER_SIZE = 9 + 4;
export const FLV_TAG_OVERHEAD = 11 + 4;
/** FLV dataSize is 24 bits. */
export const MAX_FLV_TAG_BODY = 0xffffff;

/** Writes the 9-byte FLV header plus PreviousTagSize0 into `out` at `offset`; returns 13. */
export function writeFlvHeader(
  flags: { audio: boolean; video: boolean },
  out: Uint8Array,
  offset: number,
): number {
  if (offset + FLV_HEADER_SIZE > out.length) throw new RangeError('writeFlvHeader: buffer too short');
  out.set(
    [0x46, 0x4c, 0x56, 1, (flags.audio ? 4 : 0) | (flags.video ? 1 : 0), 0, 0, 0, 9, 0, 0, 0, 0],
    offset,
  );
  return FLV_HEADER_SIZE;
}

export function encodeFlvHeader(flags: { audio: boolean; video: boolean }): Uint8Array {
  const out = new Uint8Array(FLV_HEADER_SIZE);
  writeFlvHeader(flags, out, 0);
  return out;
}

export function sizeOfFlvTag(body: Uint8Array): number {
  return FLV_TAG_OVERHEAD + body.length;
}

/**
 * Writes one tag (header, body, PreviousTagSize). `timestamp` is in ms, 0 ≤ t < 2^32;
 * its top byte goes to TimestampExtended.
 */
export function writeFlvTag(
  tag: { type: number; timestamp: number; body: Uint8Array },
  out: Uint8Array,
  offset: number,
): number {
  const { type, body } = tag;
  if (body.length > MAX_FLV_TAG_BODY)
    throw new RangeError(`FLV tag body of ${body.length} bytes exceeds 24 bits`);
  const size = sizeOfFlvTag(body);
  if (offset + size > out.length) throw new RangeError('writeFlvTag: buffer too short');
  const ts = Math.max(0, Math.floor(tag.timestamp)) >>> 0;
  const n = body.length;
  let p = offset;
  out[p++] = type & 0x1f;
  out[p++] = (n >>> 16) & 0xff;
  out[p++] = (n >>> 8) & 0xff;
  out[p++] = n & 0xff;
  out[p++] = (ts >>> 16) & 0xff;
  out[p++] = (ts >>> 8) & 0xff;
  out[p++] = ts & 0xff;
  out[p++] = (ts >>> 24) & 0xff;
  out[p++] = 0;
  out[p++] = 0;
  out[p++] = 0;
  out.set(body, p);
  p += n;
  const prev = 11 + n;
  out[p++] = (prev >>> 24) & 0xff;
  out[p++] = (prev >>> 16) & 0xff;
  out[p++] = (prev >>> 8) & 0xff;
  out[p++] = prev & 0xff;
  return size;
}

/** Allocates exactly once. */
export function encodeFlvTag(tag: { type: number; timestamp: number; body: Uint8Array }): Uint8Array {
  const out = new Uint8Array(sizeOfFlvTag(tag.body));
  writeFlvTag(tag, out, 0);
  return out;
}
