import { ProtocolError } from '../../engine/errors.js';

/**
 * AVCDecoderConfigurationRecord (ISO/IEC 14496-15, 5.3.3.1.2).
 *
 * ```
 * 0        1        2        3        4        5
 * +--------+--------+--------+--------+--------+--------+---------+-----+--------+---------+-----+
 * | ver=1  |profile | compat | level  |111111LL|111SSSSS| len:16  | SPS | numPPS | len:16  | PPS |
 * +--------+--------+--------+--------+--------+--------+---------+-----+--------+---------+-----+
 * LL = lengthSizeMinusOne, SSSSS = numOfSequenceParameterSets
 * ```
 * The parameter sets are views into the record.
 */
export interface AvcConfig {
  profileIdc: number;
  profileCompat: number;
  levelIdc: number;
  nalLengthSize: number;
  sps: Uint8Array[];
  pps: Uint8Array[];
}

export function decodeAvcConfig(buf: Uint8Array, offset = 0): { value: AvcConfig; bytesRead: number } {
  const truncated = () =>
    new ProtocolError('RTS_ERR_AVCC_TRUNCATED', 'AVCDecoderConfigurationRecord truncated');
  if (buf.length - offset < 7) throw truncated();
  if (buf[offset] !== 1) {
    throw new ProtocolError('RTS_ERR_AVCC_VERSION', `AVCDecoderConfigurationRecord version ${buf[offset]}`);
  }
  let p = offset + 5;
  const numSps = buf[p++] & 0x1f;
  const sps: Uint8Array[] = [];
  for (let i = 0; i < numSps; i++) {
    if (p + 2 > buf.length) throw truncated();
    const len = (buf[p] << 8) | buf[p + 1];
    p += 2;
    if (p + len > buf.length) throw truncated();
    sps.push(buf.subarray(p, p + len));
    p += len;
  }
  if (p >= buf.length) throw truncated();
  const numPps = buf[p++];
  const pps: Uint8Array[] = [];
  for (let i = 0; i < numPps; i++) {
    if (p + 2 > buf.length) throw truncated();
    const len = (buf[p] << 8) | buf[p + 1];
    p += 2;
    if (p + len > buf.length) throw truncated();
    pps.push(buf.subarray(p, p + len));
    p += len;
  }
  return {
    value: {
      profileIdc: buf[offset + 1],
      profileCompat: buf[offset + 2],
      levelIdc: buf[offset + 3],
      nalLengthSize: (buf[offset + 4] & 3) + 1,
      sps,
      pps,
    },
    bytesRead: p - offset,
  };
}

export function sizeOfAvcConfig(c: Pick<AvcConfig, 'sps' | 'pps'>): number {
  let n = 7;
  for (const s of c.sps) n += 2 + s.length;
  for (const s of c.pps) n += 2 + s.length;
  return n;
}

/** Writes a minimal record (no High-profile chroma extension) built from the first SPS's bytes. */
export function writeAvcConfig(
  c: Omit<AvcConfig, 'profileIdc' | 'profileCompat' | 'levelIdc'> & Partial<AvcConfig>,
  out: Uint8Array,
  offset: number,
): number {
  const size = sizeOfAvcConfig(c);
  if (offset + size > out.length) throw new RangeError('writeAvcConfig: buffer too short');
  const s0 = c.sps[0];
  let p = offset;
  out[p++] = 1;
  out[p++] = c.profileIdc ?? s0?.[1] ?? 0;
  out[p++] = c.profileCompat ?? s0?.[2] ?? 0;
  out[p++] = c.levelIdc ?? s0?.[3] ?? 0;
  out[p++] = 0xfc | ((c.nalLengthSize - 1) & 3);
  out[p++] = 0xe0 | c.sps.length;
  for (const s of c.sps) {
    out[p++] = s.length >> 8;
    out[p++] = s.length & 0xff;
    out.set(s, p);
    p += s.length;
  }
  out[p++] = c.pps.length;
  for (const s of c.pps) {
    out[p++] = s.length >> 8;
    out[p++] = s.length & 0xff;
    out.set(s, p);
    p += s.length;
  }
  return size;
}

export function encodeAvcConfig(c: Parameters<typeof writeAvcConfig>[0]): Uint8Array {
  const out = new Uint8Array(sizeOfAvcConfig(c));
  writeAvcConfig(c, out, 0);
  return out;
}
