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
  /** Limit (primary track ticks) of the part being built; see planGop(). */
  private partLimitTicks = -1;
  /** Video: decode time of the last keyframe and the frames since, for the GOP estimate. */
  private lastKeyTicks = -1;
  private framesSinceKey = 0;
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
    this.partLimitTicks = -1;
    this.lastKeyTicks = -1;
    this.framesSinceKey = 0;
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

  private normalLimit(t: TrackState): number {
    return (this.partTargetMs * t.timescale) / 1000;
  }

  /**
   * Called on each video keyframe, which always starts a part. Parts are at most the part target,
   * so a GOP rarely splits into whole parts (30 frames at 30 fps with a 250 ms target: 4 × 7
   * frames + 2). The remainder goes first, in the keyframe's own part (INDEPENDENT=YES, exempt
   * from the 85 % rule), rather than last: a segment then ends with a full part. hls.js treats a
   * fragment as buffered to its end once its buffer reaches within 0.2 s of that end (fragment
   * tracker padding), so a short final part (133 ms, say) was never loaded when the playlist
   * completing the segment arrived while the part before it was loading: a stall, then a seek
   * over the hole (bufferSeekOverHole). The GOP length is taken from the previous one.
   */
  private planGop(t: TrackState, keyTicks: number): void {
    const normal = this.normalLimit(t);
    this.partLimitTicks = normal;
    if (this.lastKeyTicks >= 0 && this.framesSinceKey > 0 && keyTicks > this.lastKeyTicks) {
      const frame = (keyTicks - this.lastKeyTicks) / this.framesSinceKey;
      const perPart = Math.max(1, Math.floor(normal / frame + 1e-6));
      const rest = this.framesSinceKey % perPart;
      if (rest > 0) this.partLimitTicks = Math.min(normal, (rest + 0.5) * frame);
    }
    this.lastKeyTicks = keyTicks;
    this.framesSinceKey = 0;
  }

  /** A sample whose duration is known joins the part; part cuts follow the primary track. */
  private commit(t: TrackState, s: Pending, duration: number): void {
    const primary = t === this.primary;
    if (primary && this.segStartTicks < 0) {
      this.segStartTicks = s.dtsTicks;
    }
    if (primary && t === this.video && s.key) {
      // A keyframe starts a part (INDEPENDENT=YES), so a player can start there.
      this.flushPart();
      this.planGop(t, s.dtsTicks);
    }
    if (primary && t === this.video) this.framesSinceKey++;
    if (primary && this.partLimitTicks < 0) this.partLimitTicks = this.normalLimit(t);
    if (primary && t.samples.length > 0 && this.partDurationTicks + duration > this.partLimitTicks)
      this.flushPart();
    if (t.samples.length === 0) t.baseTicks = s.dtsTicks;
    t.samples.push({ duration, cto: s.cto, key: s.key, data: s.data });
    t.lastDuration = duration;
    if (!primary) return;
    this.partDurationTicks += duration;
    // Publish now if one more sample of this length would overflow the part.
    if (this.partDurationTicks + duration > this.partLimitTicks) this.flushPart();
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
    this.partLimitTicks = this.normalLimit(p);
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
