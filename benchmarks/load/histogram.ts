/**
 * A log-bucketed latency histogram that merges exactly: every instance has the same buckets, so
 * player processes ship bucket counts (sparse) instead of raw samples, and the parent adds them.
 *
 * Buckets grow by 2 % from 0.01 ms up to 120 s: a percentile read back is the bucket's upper bound,
 * within 2 % of the true value (exact for min/max, which are tracked apart).
 */
export const HIST_MIN_MS = 0.01;
export const HIST_MAX_MS = 120_000;
export const HIST_GROWTH = 1.02;
const LOG_GROWTH = Math.log(HIST_GROWTH);
/** Bucket 0 holds values ≤ HIST_MIN_MS; the last bucket holds values above HIST_MAX_MS. */
export const HIST_BUCKETS = Math.ceil(Math.log(HIST_MAX_MS / HIST_MIN_MS) / LOG_GROWTH) + 2;

/** Upper bound (ms) of bucket `i`. */
export function bucketUpperBound(i: number): number {
  if (i >= HIST_BUCKETS - 1) return Number.POSITIVE_INFINITY;
  return HIST_MIN_MS * HIST_GROWTH ** i;
}

/** Index of the bucket that holds `ms`. */
export function bucketOf(ms: number): number {
  if (!(ms > HIST_MIN_MS)) return 0;
  if (ms > HIST_MAX_MS) return HIST_BUCKETS - 1;
  let i = Math.ceil(Math.log(ms / HIST_MIN_MS) / LOG_GROWTH);
  // Floating point at bucket edges: settle on the first bucket whose upper bound is >= ms.
  while (i > 0 && bucketUpperBound(i - 1) >= ms) i--;
  while (bucketUpperBound(i) < ms) i++;
  return i;
}

/** Wire form: sparse [index, count] pairs plus exact count/min/max/sum. */
export interface HistogramJson {
  count: number;
  min: number;
  max: number;
  sum: number;
  buckets: [number, number][];
}

export class LatencyHistogram {
  readonly counts = new Float64Array(HIST_BUCKETS);
  count = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  sum = 0;

  record(ms: number): void {
    if (Number.isNaN(ms)) return;
    this.counts[bucketOf(ms)]++;
    this.count++;
    this.sum += ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  merge(other: LatencyHistogram | HistogramJson): this {
    if (other instanceof LatencyHistogram) {
      for (let i = 0; i < HIST_BUCKETS; i++) this.counts[i] += other.counts[i];
    } else {
      for (const [i, n] of other.buckets) {
        if (!Number.isInteger(i) || i < 0 || i >= HIST_BUCKETS)
          throw new RangeError(`bucket ${i} out of range`);
        this.counts[i] += n;
      }
    }
    if (other.count > 0) {
      this.count += other.count;
      this.sum += other.sum;
      if (other.min < this.min) this.min = other.min;
      if (other.max > this.max) this.max = other.max;
    }
    return this;
  }

  /**
   * The value at or below which `p` percent of the samples fall (nearest-rank), as the bucket's
   * upper bound clamped to the exact min/max. NaN when empty.
   */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    if (p <= 0) return this.min;
    if (p >= 100) return this.max;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < HIST_BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(Math.max(bucketUpperBound(i), this.min), this.max);
    }
    return this.max;
  }

  get mean(): number {
    return this.count === 0 ? Number.NaN : this.sum / this.count;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
  }

  toJSON(): HistogramJson {
    const buckets: [number, number][] = [];
    for (let i = 0; i < HIST_BUCKETS; i++) if (this.counts[i] !== 0) buckets.push([i, this.counts[i]]);
    const empty = this.count === 0;
    return {
      count: this.count,
      min: empty ? 0 : this.min,
      max: empty ? 0 : this.max,
      sum: this.sum,
      buckets,
    };
  }

  static fromJSON(j: HistogramJson): LatencyHistogram {
    return new LatencyHistogram().merge(j);
  }
}
