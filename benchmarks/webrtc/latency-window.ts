/**
 * Percentiles of one measurement window from two readings of a server's latency buckets
 * (`/api/v1/node` → `webrtc.serverLatencyMs.buckets`: [upper bound ms, count], cumulative).
 */
export type LatencyBuckets = [number, number][];

export interface WindowLatency {
  p50: number;
  p99: number;
  /** Upper bound of the highest bucket that got a sample in the window. */
  max: number;
  samples: number;
}

/** `after` minus `before`, bucket by bucket (same bounds: the same histogram read twice). */
export function diffBuckets(before: LatencyBuckets, after: LatencyBuckets): LatencyBuckets {
  const was = new Map(before);
  return after
    .map(([bound, n]): [number, number] => [bound, n - (was.get(bound) ?? 0)])
    .filter(([, n]) => n > 0)
    .sort((a, b) => a[0] - b[0]);
}

/** Nearest-rank percentile of sorted buckets, as the bucket's upper bound (0 when empty). */
export function bucketPercentile(buckets: LatencyBuckets, p: number): number {
  const total = buckets.reduce((n, [, c]) => n + c, 0);
  if (total === 0) return 0;
  let rank = Math.ceil((p / 100) * total);
  for (const [bound, c] of buckets) {
    rank -= c;
    if (rank <= 0) return bound;
  }
  return buckets[buckets.length - 1][0];
}

export function windowLatency(before: LatencyBuckets, after: LatencyBuckets): WindowLatency {
  const d = diffBuckets(before, after);
  return {
    p50: bucketPercentile(d, 50),
    p99: bucketPercentile(d, 99),
    max: d.length ? d[d.length - 1][0] : 0,
    samples: d.reduce((n, [, c]) => n + c, 0),
  };
}
