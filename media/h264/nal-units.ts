import { ProtocolError } from '../../engine/errors.js';

/** H.264 NAL unit types used by the engine (ITU-T H.264 Table 7-1). */
export const H264_NAL_SLICE = 1;
export const H264_NAL_IDR = 5;
export const H264_NAL_SEI = 6;
export const H264_NAL_SPS = 7;
export const H264_NAL_PPS = 8;
export const H264_NAL_AUD = 9;

/**
 * Iterates the NAL units of an AVCC/HVCC access unit (length-prefixed, ISO/IEC 14496-15 5.3.2)
 * as views. Throws ProtocolError when a length runs past the end.
 */
export function* iterateAvccNalUnits(payload: Uint8Array, nalLengthSize = 4): Generator<Uint8Array> {
  let p = 0;
  while (p < payload.length) {
    const len = readNalLength(payload, p, nalLengthSize);
    p += nalLengthSize;
    yield payload.subarray(p, p + len);
    p += len;
  }
}

/**
 * Calls `fn(payload, start, end)` for each NAL unit: the allocation-free form of
 * {@link iterateAvccNalUnits} for per-frame paths. Stops early when `fn` returns true.
 */
export function forEachAvccNalUnit(
  payload: Uint8Array,
  nalLengthSize: number,
  fn: (buf: Uint8Array, start: number, end: number) => boolean | undefined,
): void {
  let p = 0;
  while (p < payload.length) {
    const len = readNalLength(payload, p, nalLengthSize);
    p += nalLengthSize;
    if (fn(payload, p, p + len) === true) return;
    p += len;
  }
}

export function readNalLength(buf: Uint8Array, p: number, nalLengthSize: number): number {
  if (p + nalLengthSize > buf.length) {
    throw new ProtocolError('RTS_ERR_NAL_TRUNCATED', 'NAL unit length prefix truncated');
  }
  let len = 0;
  for (let i = 0; i < nalLengthSize; i++) len = len * 256 + buf[p + i];
  if (p + nalLengthSize + len > buf.length) {
    throw new ProtocolError('RTS_ERR_NAL_TRUNCATED', `NAL unit of ${len} bytes runs past the access unit`);
  }
  return len;
}

/** Annex-B size of an AVCC access unit: every length prefix becomes a 4-byte start code. */
export function sizeOfAnnexB(payload: Uint8Array, nalLengthSize: number): number {
  let n = 0;
  let p = 0;
  while (p < payload.length) {
    const len = readNalLength(payload, p, nalLengthSize);
    n += 4 + len;
    p += nalLengthSize + len;
  }
  return n;
}

/** Writes an AVCC access unit as Annex-B (00 00 00 01 start codes) into `out`; returns bytes written. */
export function writeAnnexB(
  payload: Uint8Array,
  nalLengthSize: number,
  out: Uint8Array,
  offset: number,
): number {
  let p = 0;
  let o = offset;
  while (p < payload.length) {
    const len = readNalLength(payload, p, nalLengthSize);
    p += nalLengthSize;
    if (o + 4 + len > out.length) throw new RangeError('writeAnnexB: buffer too short');
    out[o] = 0;
    out[o + 1] = 0;
    out[o + 2] = 0;
    out[o + 3] = 1;
    out.set(payload.subarray(p, p + len), o + 4);
    o += 4 + len;
    p += len;
  }
  return o - offset;
}
