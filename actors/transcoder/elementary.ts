/**
 * Elementary-stream helpers for ffmpeg's MPEG-TS output: H.264 Annex-B access units to AVCC, and
 * Opus access units with the TS control header to raw Opus packets.
 */

/** H.264 NAL unit types (ITU-T H.264 Table 7-1) the transcoder cares about. */
export const NAL_IDR = 5;
export const NAL_SEI = 6;
export const NAL_SPS = 7;
export const NAL_PPS = 8;
export const NAL_AUD = 9;

/** Splits an Annex-B byte stream (ITU-T H.264 Annex B, 00 00 01 / 00 00 00 01 start codes) into NAL unit views. */
export function splitAnnexB(buf: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = -1;
  let i = 0;
  const n = buf.length;
  while (i + 2 < n) {
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
      if (start >= 0) {
        let end = i;
        while (end > start && buf[end - 1] === 0) end--;
        if (end > start) out.push(buf.subarray(start, end));
      }
      i += 3;
      start = i;
      continue;
    }
    i++;
  }
  if (start >= 0) {
    let end = n;
    while (end > start && buf[end - 1] === 0) end--;
    if (end > start) out.push(buf.subarray(start, end));
  }
  return out;
}

export interface AvcAccessUnit {
  /** AVCC (4-byte length-prefixed) NAL units without SPS/PPS/AUD. */
  avcc: Uint8Array;
  key: boolean;
  sps: Uint8Array | undefined;
  pps: Uint8Array | undefined;
}

/** Converts one Annex-B access unit to AVCC, pulling SPS/PPS out and dropping AUDs. */
export function annexBToAvcc(au: Uint8Array): AvcAccessUnit {
  const nals = splitAnnexB(au);
  let size = 0;
  let key = false;
  let sps: Uint8Array | undefined;
  let pps: Uint8Array | undefined;
  const keep: Uint8Array[] = [];
  for (const nal of nals) {
    const type = nal[0] & 0x1f;
    if (type === NAL_SPS) sps = nal;
    else if (type === NAL_PPS) pps = nal;
    else if (type !== NAL_AUD) {
      if (type === NAL_IDR) key = true;
      keep.push(nal);
      size += 4 + nal.length;
    }
  }
  const avcc = new Uint8Array(size);
  let p = 0;
  for (const nal of keep) {
    const len = nal.length;
    avcc[p++] = (len >>> 24) & 0xff;
    avcc[p++] = (len >>> 16) & 0xff;
    avcc[p++] = (len >>> 8) & 0xff;
    avcc[p++] = len & 0xff;
    avcc.set(nal, p);
    p += len;
  }
  return { avcc, key, sps, pps };
}

/**
 * Splits a PES payload of Opus-in-TS access units into raw Opus packets.
 *
 * ```
 * opus_control_header: 0x3ff:11 | start_trim_flag:1 | end_trim_flag:1 | control_extension_flag:1 | reserved:2
 *                      | au_size: (0xff)* last:8 | [start_trim:16] | [end_trim:16] | [ext_len:8 ext...] | Opus packet
 * ```
 * (Opus in MPEG-TS, ETSI TS 102 366 style control header as written by ffmpeg's mpegts muxer.)
 * A payload without the 0x7FE prefix is taken as one bare packet.
 */
export function splitOpusAccessUnits(data: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let p = 0;
  while (p + 2 <= data.length) {
    if (data[p] !== 0x7f || (data[p + 1] & 0xe0) !== 0xe0) {
      if (out.length === 0) out.push(data.subarray(p));
      break;
    }
    const flags = data[p + 1];
    p += 2;
    let size = 0;
    while (p < data.length && data[p] === 0xff) {
      size += 255;
      p++;
    }
    if (p >= data.length) break;
    size += data[p++];
    if (flags & 0x10) p += 2;
    if (flags & 0x08) p += 2;
    if (flags & 0x04) {
      if (p >= data.length) break;
      p += 1 + data[p];
    }
    if (p + size > data.length) break;
    out.push(data.subarray(p, p + size));
    p += size;
  }
  return out;
}

const SILK_MS = [10, 20, 40, 60];
const CELT_MS = [2.5, 5, 10, 20];

/** Duration of one Opus packet in ms from its TOC byte (RFC 6716, 3.1 and 3.2); 0 if unreadable. */
export function opusPacketDurationMs(pkt: Uint8Array): number {
  if (pkt.length < 1) return 0;
  const toc = pkt[0];
  const config = toc >> 3;
  const frameMs =
    config < 12 ? SILK_MS[config & 3] : config < 16 ? (config & 1 ? 20 : 10) : CELT_MS[config & 3];
  const code = toc & 3;
  let frames = 1;
  if (code === 1 || code === 2) frames = 2;
  else if (code === 3) frames = pkt.length >= 2 ? pkt[1] & 0x3f : 0;
  return frameMs * frames;
}
