/**
 * Drops relayed frames that arrive late, so an edge that stalled (paused process, GC, saturated
 * link) and then receives the backlog NATS kept for it skips to the live edge on a keyframe
 * instead of replaying seconds of old media to its players.
 *
 * Lateness is relative: lag = local clock − the origin's ingest time, minus the smallest lag seen
 * recently (which absorbs the clock offset between the two machines and the normal transit). No
 * clock synchronisation is assumed. Pure: no timers, the caller passes `now`.
 */
export interface LagGateOptions {
  /** Frames later than this (beyond the baseline) are dropped until a fresh keyframe. */
  maxLagMs?: number;
  /** The baseline is the minimum over the last one or two windows of this length. */
  baselineWindowMs?: number;
}

export type LagVerdict = 'pass' | 'drop';

export class LagGate {
  readonly maxLagMs: number;
  readonly #windowMs: number;
  #prevMin = Number.POSITIVE_INFINITY;
  #curMin = Number.POSITIVE_INFINITY;
  #windowStart = Number.NaN;
  #skipping = false;
  /** Frames dropped for being late. */
  dropped = 0;
  /** Times the gate started skipping. */
  skips = 0;

  constructor(opts: LagGateOptions = {}) {
    this.maxLagMs = opts.maxLagMs ?? 1500;
    this.#windowMs = opts.baselineWindowMs ?? 10_000;
  }

  get skipping(): boolean {
    return this.#skipping;
  }

  /**
   * One frame: `ingestTime` is the origin's wall clock (ms) when it took the frame in. Config
   * frames always pass; while skipping, everything else is dropped until a video keyframe
   * (or, for audio-only streams, an audio frame) that is on time again.
   */
  check(now: number, ingestTime: number, f: { kind: string; key: boolean; config: boolean }): LagVerdict {
    const lag = now - ingestTime;
    if (Number.isNaN(this.#windowStart) || now - this.#windowStart >= this.#windowMs) {
      this.#prevMin = this.#curMin;
      this.#curMin = Number.POSITIVE_INFINITY;
      this.#windowStart = now;
    }
    if (lag < this.#curMin) this.#curMin = lag;
    if (f.config) return 'pass';
    const late = lag - Math.min(this.#prevMin, this.#curMin) > this.maxLagMs;
    if (this.#skipping) {
      const resume = !late && (f.kind === 'video' ? f.key : f.kind === 'audio' && !this.#sawVideo);
      if (!resume) {
        this.dropped++;
        return 'drop';
      }
      this.#skipping = false;
    } else if (late) {
      this.#skipping = true;
      this.skips++;
      this.dropped++;
      return 'drop';
    }
    if (f.kind === 'video') this.#sawVideo = true;
    return 'pass';
  }

  #sawVideo = false;
}
