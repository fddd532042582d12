import { H264_NAL_IDR, H264_NAL_SLICE, readNalLength } from './nal-units.js';
import { RbspReader } from './rbsp-reader.js';

/** slice_type values (ITU-T H.264 Table 7-6); 5..9 mean "all slices of the picture have this type". */
export const H264_SLICE_P = 0;
export const H264_SLICE_B = 1;
export const H264_SLICE_I = 2;

const reader = new RbspReader();

/**
 * slice_type of the first slice in an AVCC access unit (ITU-T H.264 7.3.3: first_mb_in_slice ue,
 * slice_type ue), reduced modulo 5; -1 when the unit carries no slice. Allocation-free.
 */
export function h264FirstSliceType(payload: Uint8Array, nalLengthSize = 4): number {
  let p = 0;
  while (p < payload.length) {
    const len = readNalLength(payload, p, nalLengthSize);
    p += nalLengthSize;
    const type = payload[p] & 0x1f;
    if (len > 1 && (type === H264_NAL_SLICE || type === H264_NAL_IDR)) {
      reader.reset(payload, p + 1, p + len);
      reader.ue();
      return reader.ue() % 5;
    }
    p += len;
  }
  return -1;
}

/** True when the access unit's slices are B slices (the RTS rule refuses such streams). */
export function h264HasBFrames(payload: Uint8Array, nalLengthSize = 4): boolean {
  return h264FirstSliceType(payload, nalLengthSize) === H264_SLICE_B;
}

/**
 * Per-stream B-frame detection, fed every video frame. For H.264 it reads slice_type; for other
 * codecs it watches presentation order: a pts lower than an earlier
 * frame's pts means frames are reordered, which only bidirectional prediction requires.
 */
export class BFrameDetector {
  private maxPts = Number.NEGATIVE_INFINITY;
  private found = false;
  /** Frame count at which B-frames were first seen, or -1. */
  firstAt = -1;
  private frames = 0;

  get detected(): boolean {
    return this.found;
  }

  /** Returns true once B-frames have been seen (sticky until `reset()`). */
  push(codec: string, dts: number, pts: number, payload: Uint8Array, nalLengthSize = 4): boolean {
    this.frames++;
    if (this.found) return true;
    // H.264: the slice header says it. Others: reordering (a pts below an earlier one) implies B.
    const b = codec === 'h264' ? h264HasBFrames(payload, nalLengthSize) : pts < this.maxPts || pts < dts;
    if (pts > this.maxPts) this.maxPts = pts;
    if (b) {
      this.found = true;
      this.firstAt = this.frames;
    }
    return b;
  }

  /** New publisher or new sequence header. */
  reset(): void {
    this.maxPts = Number.NEGATIVE_INFINITY;
    this.found = false;
    this.firstAt = -1;
    this.frames = 0;
  }
}
