import { encodeFragment, type FragmentSample, type FragmentTrack } from '../../media/fmp4/fragment.js';
import { encodeInitSegment, type InitTrack } from '../../media/fmp4/init-segment.js';
import type { HlsPart, HlsSegment } from './types.js';

export const VIDEO_TRACK_ID = 1;
export const AUDIO_TRACK_ID = 2;
export const VIDEO_TIMESCALE = 90000;
/** AAC frames are 1024 samples. */
const AAC_FRAME_SAMPLES = 1024;

interface Pending {
  dtsTicks: number;
  cto: number;
  key: boolean;
  data: Uint8Array;
}

interface TrackState {
  timescale: number;
  /** Samples of the part being built. */
  samples: FragmentSample[];
  baseTicks: number;
  /** Held back until the next sample gives its duration. */
  pending: Pending | undefined;
  lastDuration: number;
  fixedDuration: number;
  /** Running decode time for fixed-duration audio. */
  nextTicks: number;
}

/**
 * Builds LL-HLS fMP4 parts and segments. The primary track (video if any) drives part cuts;
 * a sample is held back until the next one gives its duration, so every part's duration is
 * exact and at most the part target.
 */
export class LlSegmenter {
  private video: TrackState | undefined;
  private audio: TrackState | undefined;
  private fragmentSeq = 1;
  initId = -1;
  init: Uint8Array | undefined;
  parts: HlsPart[] = [];
  private partDurationTicks = 0;
  private open = false;
  private segStartTicks = 0;
  private segWall = 0;
  private discontinuityNext = false;
  /** Called when a part is published. */
  onPart: () => void = () => {};

  constructor(private readonly partTargetMs: number) {}

  get isOpen(): boolean {
    return this.open;
  }

  setTracks(tracks: InitTrack[]): void {
    this.video = undefined;
    this.audio = undefined;
    for (const t of tracks) {
      const st: TrackState = {
        timescale: t.timescale,
        samples: [],
        baseTicks: 0,
        pending: undefined,
        lastDuration: 0,
        fixedDuration: t.kind === 'audio' && t.codec === 'aac' ? AAC_FRAME_SAMPLES : 0,
        nextTicks: -1,
      };
      if (t.kind === 'video') this.video = st;
      else this.audio = st;
    }
    this.init = encodeInitSegment(tracks);
    this.initId++;
  }

  private get primary(): TrackState | undefined {
    return this.video ?? this.audio;
  }

  get hasTracks(): boolean {
    return this.init !== undefined;
  }

  markDiscontinuity(): void {
    this.discontinuityNext = true;
  }

  start(wall: number): void {
    this.open = true;
    this.segWall = wall;
    this.parts = [];
    this.segStartTicks = -1;
  }

  /** Elapsed ms of the open segment up to `dts` (ms). */
  elapsed(dtsMs: number): number {
    const p = this.primary;
    if (!p || this.segStartTicks < 0) return 0;
    return dtsMs - (this.segStartTicks * 1000) / p.timescale;
  }

  addVideo(dtsMs: number, ptsMs: number, key: boolean, data: Uint8Array): void {
    if (this.video) this.add(this.video, dtsMs, ptsMs, key, data);
  }

  addAudio(dtsMs: number, data: Uint8Array): void {
    if (this.audio) this.add(this.audio, dtsMs, dtsMs, true, data);
  }

  private add(t: TrackState, dtsMs: number, ptsMs: number, key: boolean, data: Uint8Array): void {
    let dtsTicks = Math.round((dtsMs * t.timescale) / 1000);
    if (t.fixedDuration) {
      // Keep a continuous audio timeline; resync only on a jump of more than one frame.
      if (t.nextTicks >= 0 && Math.abs(dtsTicks - t.nextTicks) <= t.fixedDuration) dtsTicks = t.nextTicks;
      t.nextTicks = dtsTicks + t.fixedDuration;
    }
    const sample: Pending = {
      dtsTicks,
      cto: Math.round(((ptsMs - dtsMs) * t.timescale) / 1000),
      key,
      data: data.slice(),
    };
    if (t.fixedDuration) {
      this.commit(t, sample, t.fixedDuration);
      return;
    }
    const prev = t.pending;
    t.pending = sample;
    if (prev) this.commit(t, prev, Math.max(1, dtsTicks - prev.dtsTicks));
  }

  /** A sample whose duration is known joins the part; part cuts follow the primary track. */
  private commit(t: TrackState, s: Pending, duration: number): void {
    const primary = t === this.primary;
    if (primary && this.segStartTicks < 0) {
      this.segStartTicks = s.dtsTicks;
    }
    const limit = (this.partTargetMs * t.timescale) / 1000;
    if (primary && t.samples.length > 0 && this.partDurationTicks + duration > limit) this.flushPart();
    if (t.samples.length === 0) t.baseTicks = s.dtsTicks;
    t.samples.push({ duration, cto: s.cto, key: s.key, data: s.data });
    t.lastDuration = duration;
    if (!primary) return;
    this.partDurationTicks += duration;
    // Publish now if one more sample of this length would overflow the part; the very first
    // part of the stream goes out with its keyframe alone, so playback can start at once.
    const first = this.parts.length === 0 && this.fragmentSeq === 1;
    if (first || this.partDurationTicks + duration > limit) this.flushPart();
  }

  private flushPart(): void {
    const p = this.primary;
    if (!p || p.samples.length === 0) return;
    const tracks: FragmentTrack[] = [];
    if (this.video && this.video.samples.length > 0) {
      tracks.push({
        trackId: VIDEO_TRACK_ID,
        baseDecodeTime: this.video.baseTicks,
        samples: this.video.samples,
      });
    }
    if (this.audio && this.audio.samples.length > 0) {
      tracks.push({
        trackId: AUDIO_TRACK_ID,
        baseDecodeTime: this.audio.baseTicks,
        samples: this.audio.samples,
      });
    }
    const data = encodeFragment(this.fragmentSeq++, tracks);
    this.parts.push({
      durationMs: (this.partDurationTicks * 1000) / p.timescale,
      independent: p.samples[0].key,
      data,
    });
    if (this.video) this.video.samples = [];
    if (this.audio) this.audio.samples = [];
    this.partDurationTicks = 0;
    this.onPart();
  }

  /** Commits held-back samples (with their last known duration) before a segment ends for good. */
  drain(): void {
    for (const t of [this.video, this.audio]) {
      if (t?.pending) {
        const s = t.pending;
        t.pending = undefined;
        this.commit(t, s, t.lastDuration || Math.round(t.timescale / 30));
      }
    }
  }

  /**
   * Closes the open segment before the sample that starts the next one. The held-back sample
   * (the new keyframe) stays pending, so it opens the next segment.
   */
  finish(msn: number): HlsSegment | undefined {
    if (!this.open) return undefined;
    this.flushPart();
    this.open = false;
    const parts = this.parts;
    if (parts.length === 0) return undefined;
    let n = 0;
    let dur = 0;
    for (const part of parts) {
      n += part.data.length;
      dur += part.durationMs;
    }
    const data = new Uint8Array(n);
    let o = 0;
    for (const part of parts) {
      data.set(part.data, o);
      o += part.data.length;
    }
    const seg: HlsSegment = {
      msn,
      durationMs: dur,
      programDateTime: this.segWall,
      discontinuity: this.discontinuityNext,
      data,
      initId: this.initId,
      parts,
    };
    this.discontinuityNext = false;
    this.parts = [];
    return seg;
  }

  get discontinuityPending(): boolean {
    return this.discontinuityNext;
  }
}
