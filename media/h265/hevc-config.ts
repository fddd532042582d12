import { ProtocolError } from '../../engine/errors.js';

/** H.265 NAL unit types (ITU-T H.265 Table 7-1). */
export const H265_NAL_IDR_W_RADL = 19;
export const H265_NAL_IDR_N_LP = 20;
export const H265_NAL_CRA = 21;
export const H265_NAL_VPS = 32;
export const H265_NAL_SPS = 33;
export const H265_NAL_PPS = 34;
export const H265_NAL_AUD = 35;

export function h265NalType(firstByte: number): number {
  return (firstByte >> 1) & 0x3f;
}

/**
 * HEVCDecoderConfigurationRecord (ISO/IEC 14496-15, 8.3.3.1.2): a fixed 23-byte header then arrays.
 *
 * ```
 * ver | sp(2)t(1)pidc(5) | compat:32 | constraint:48 | level | 1111 minSeg:12 | 111111 par:2
 *     | 111111 chroma:2 | 11111 bdl:3 | 11111 bdc:3 | avgFrameRate:16 | cfr:2 ntl:3 tn:1 LL:2
 *     | numArrays | { compl:1 0 type:6 | numNalus:16 | { len:16 | nal } } ...
 * ```
 */
export interface HevcConfig {
  profileSpace: number;
  tierFlag: number;
  profileIdc: number;
  profileCompat: number;
  /** 6 bytes, a view. */
  constraintFlags: Uint8Array;
  levelIdc: number;
  chromaFormatIdc: number;
  nalLengthSize: number;
  vps: Uint8Array[];
  sps: Uint8Array[];
  pps: Uint8Array[];
}

export const HVCC_HEADER_SIZE = 23;

export function decodeHevcConfig(buf: Uint8Array, offset = 0): { value: HevcConfig; bytesRead: number } {
  const truncated = () =>
    new ProtocolError('RTS_ERR_HVCC_TRUNCATED', 'HEVCDecoderConfigurationRecord truncated');
  if (buf.length - offset < HVCC_HEADER_SIZE) throw truncated();
  const o = offset;
  const vps: Uint8Array[] = [];
  const sps: Uint8Array[] = [];
  const pps: Uint8Array[] = [];
  let p = o + 23;
  const numArrays = buf[o + 22];
  for (let a = 0; a < numArrays; a++) {
    if (p + 3 > buf.length) throw truncated();
    const type = buf[p] & 0x3f;
    const n = (buf[p + 1] << 8) | buf[p + 2];
    p += 3;
    for (let i = 0; i < n; i++) {
      if (p + 2 > buf.length) throw truncated();
      const len = (buf[p] << 8) | buf[p + 1];
      p += 2;
      if (p + len > buf.length) throw truncated();
      const nal = buf.subarray(p, p + len);
      p += len;
      if (type === H265_NAL_VPS) vps.push(nal);
      else if (type === H265_NAL_SPS) sps.push(nal);
      else if (type === H265_NAL_PPS) pps.push(nal);
    }
  }
  return {
    value: {
      profileSpace: buf[o + 1] >> 6,
      tierFlag: (buf[o + 1] >> 5) & 1,
      profileIdc: buf[o + 1] & 0x1f,
      profileCompat: ((buf[o + 2] << 24) | (buf[o + 3] << 16) | (buf[o + 4] << 8) | buf[o + 5]) >>> 0,
      constraintFlags: buf.subarray(o + 6, o + 12),
      levelIdc: buf[o + 12],
      chromaFormatIdc: buf[o + 16] & 3,
      nalLengthSize: (buf[o + 21] & 3) + 1,
      vps,
      sps,
      pps,
    },
    bytesRead: p - o,
  };
}

export function h265ProfileName(profileIdc: number): string {
  switch (profileIdc) {
    case 1: {
      return 'Main';
    }
    case 2: {
      return 'Main 10';
    }
    case 3: {
      return 'Main Still Picture';
    }
    case 4: {
      return 'Range Extensions';
    }
    default: {
      return `profile ${profileIdc}`;
    }
  }
}

/** general_level_idc is 30 × level: 93 → "3.1". */
export function h265LevelName(levelIdc: number): string {
  const l = levelIdc / 30;
  return Number.isInteger(l) ? `${l}` : l.toFixed(1);
}

/** RFC 6381 / ISO 14496-15 Annex E codec string, e.g. `hvc1.1.6.L93.B0`. */
export function h265CodecString(c: HevcConfig, sample: 'hvc1' | 'hev1' = 'hvc1'): string {
  const space = ['', 'A', 'B', 'C'][c.profileSpace];
  // The 32 compatibility flags in reverse bit order, as hex without leading zeros.
  let rev = 0;
  for (let i = 0; i < 32; i++) if (c.profileCompat & (1 << i)) rev |= 1 << (31 - i);
  let s = `${sample}.${space}${c.profileIdc}.${(rev >>> 0).toString(16).toUpperCase()}.${c.tierFlag ? 'H' : 'L'}${c.levelIdc}`;
  let last = c.constraintFlags.length;
  while (last > 0 && c.constraintFlags[last - 1] === 0) last--;
  for (let i = 0; i < last; i++) s += `.${c.constraintFlags[i].toString(16).toUpperCase()}`;
  return s;
}
