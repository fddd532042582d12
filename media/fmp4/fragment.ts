/** One sample of a fragment; `data` is the sample's bytes (AVCC access unit, raw AAC, Opus packet). */
export interface FragmentSample {
  duration: number;
  /** pts − dts in the track timescale. */
  cto: number;
  key: boolean;
  data: Uint8Array;
}

export interface FragmentTrack {
  trackId: number;
  /** tfdt baseMediaDecodeTime in the track timescale. */
  baseDecodeTime: number;
  samples: readonly FragmentSample[];
}

/** sample_flags (14496-12 8.8.3.1): sync = depends_on 2; non-sync = depends_on 1 + is_non_sync_sample. */
export const SAMPLE_FLAGS_SYNC = 0x02000000;
export const SAMPLE_FLAGS_NON_SYNC = 0x01010000;

const MOOF_HEADER = 8;
const MFHD_SIZE = 16;
const TRAF_HEADER = 8;
const TFHD_SIZE = 16;
const TFDT_SIZE = 20;
const TRUN_FIXED = 20;
const TRUN_PER_SAMPLE = 16;
/** tfhd flags: default-base-is-moof. */
const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;
/** trun flags: data-offset, sample duration, size, flags, composition time offset. */
const TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800;

export function sizeOfFragment(tracks: readonly FragmentTrack[]): number {
  let n = MOOF_HEADER + MFHD_SIZE + 8;
  for (const t of tracks) {
    n += TRAF_HEADER + TFHD_SIZE + TFDT_SIZE + TRUN_FIXED + TRUN_PER_SAMPLE * t.samples.length;
    for (const s of t.samples) n += s.data.length;
  }
  return n;
}

/**
 * Writes moof + mdat (ISO/IEC 14496-12 8.8.4 / 8.1.1):
 *
 * ```
 * moof { mfhd(seq) traf { tfhd(track, default-base-is-moof) tfdt(v1, base) trun(v1, data_offset, samples...) } ... }
 * mdat { track 1 samples | track 2 samples ... }
 * ```
 * Returns bytes written; throws RangeError on a short buffer.
 */
export function writeFragment(
  sequence: number,
  tracks: readonly FragmentTrack[],
  out: Uint8Array,
  offset: number,
): number {
  const size = sizeOfFragment(tracks);
  if (offset + size > out.length) throw new RangeError('writeFragment: buffer too short');
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let moofSize = MOOF_HEADER + MFHD_SIZE;
  for (const t of tracks)
    moofSize += TRAF_HEADER + TFHD_SIZE + TFDT_SIZE + TRUN_FIXED + TRUN_PER_SAMPLE * t.samples.length;
  let p = offset;
  const header = (sz: number, type: number) => {
    dv.setUint32(p, sz);
    dv.setUint32(p + 4, type);
    p += 8;
  };
  header(moofSize, 0x6d6f6f66); // moof
  header(MFHD_SIZE, 0x6d666864); // mfhd
  dv.setUint32(p, 0);
  dv.setUint32(p + 4, sequence >>> 0);
  p += 8;
  let dataOffset = moofSize + 8;
  for (const t of tracks) {
    const n = t.samples.length;
    header(TRAF_HEADER + TFHD_SIZE + TFDT_SIZE + TRUN_FIXED + TRUN_PER_SAMPLE * n, 0x74726166); // traf
    header(TFHD_SIZE, 0x74666864); // tfhd
    dv.setUint32(p, TFHD_DEFAULT_BASE_IS_MOOF);
    dv.setUint32(p + 4, t.trackId);
    p += 8;
    header(TFDT_SIZE, 0x74666474); // tfdt
    dv.setUint32(p, 0x01000000);
    dv.setUint32(p + 4, Math.floor(t.baseDecodeTime / 2 ** 32));
    dv.setUint32(p + 8, t.baseDecodeTime >>> 0);
    p += 12;
    header(TRUN_FIXED + TRUN_PER_SAMPLE * n, 0x7472756e); // trun
    dv.setUint32(p, 0x01000000 | TRUN_FLAGS); // version 1: signed composition offsets
    dv.setUint32(p + 4, n);
    dv.setInt32(p + 8, dataOffset);
    p += 12;
    for (const s of t.samples) {
      dv.setUint32(p, s.duration);
      dv.setUint32(p + 4, s.data.length);
      dv.setUint32(p + 8, s.key ? SAMPLE_FLAGS_SYNC : SAMPLE_FLAGS_NON_SYNC);
      dv.setInt32(p + 12, s.cto);
      p += 16;
      dataOffset += s.data.length;
    }
  }
  header(size - moofSize, 0x6d646174); // mdat
  for (const t of tracks) {
    for (const s of t.samples) {
      out.set(s.data, p);
      p += s.data.length;
    }
  }
  return size;
}

export function encodeFragment(sequence: number, tracks: readonly FragmentTrack[]): Uint8Array {
  const out = new Uint8Array(sizeOfFragment(tracks));
  writeFragment(sequence, tracks, out, 0);
  return out;
}
