import { SegmentBuffer } from '../../media/mpegts/segment-buffer.js';
import { TsMuxer } from '../../media/mpegts/ts-muxer.js';
import type { HlsSegment } from './types.js';

/** Builds classic HLS MPEG-TS segments from frames; the caller decides where segments are cut. */
export class TsSegmenter {
  readonly muxer = new TsMuxer();
  private readonly buf = new SegmentBuffer();
  private open = false;
  private startDts = 0;
  private startWall = 0;
  private discontinuityNext = false;
  private lastDts = 0;

  get isOpen(): boolean {
    return this.open;
  }

  elapsed(dts: number): number {
    return dts - this.startDts;
  }

  start(dts: number, wall: number): void {
    this.open = true;
    this.startDts = dts;
    this.startWall = wall;
    this.lastDts = dts;
    this.muxer.writeTables(this.buf);
  }

  video(payload: Uint8Array, dts: number, pts: number, key: boolean): void {
    this.muxer.writeVideo(payload, dts, pts, key, this.buf);
    if (dts > this.lastDts) this.lastDts = dts;
  }

  audio(payload: Uint8Array, dts: number): void {
    this.muxer.writeAudio(payload, dts, this.buf);
    if (dts > this.lastDts) this.lastDts = dts;
  }

  markDiscontinuity(): void {
    this.discontinuityNext = true;
  }

  /** Closes the open segment at `endDts` (or after its last frame plus `tailMs`). */
  finish(msn: number, endDts: number | undefined, tailMs: number): HlsSegment | undefined {
    if (!this.open) return undefined;
    this.open = false;
    const end = endDts ?? this.lastDts + tailMs;
    const seg: HlsSegment = {
      msn,
      durationMs: Math.max(1, end - this.startDts),
      programDateTime: this.startWall,
      discontinuity: this.discontinuityNext,
      data: this.buf.take(),
      initId: 0,
    };
    this.discontinuityNext = false;
    return seg;
  }
}
