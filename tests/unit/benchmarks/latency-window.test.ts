import { describe, expect, it } from 'vitest';
import { bucketPercentile, diffBuckets, windowLatency } from '../../../benchmarks/webrtc/latency-window.js';
import { LatencyHistogram } from '../../../engine/telemetry/metrics.js';

describe('latency window from two bucket readings', () => {
  it('diffs cumulative buckets and reads percentiles of the window only', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 100; i++) h.record(50); // before the window: slow
    const before = h.buckets();
    for (let i = 0; i < 98; i++) h.record(1);
    h.record(3);
    h.record(3);
    const w = windowLatency(before, h.buckets());
    expect(w.samples).toBe(100);
    expect(w.p50).toBeGreaterThanOrEqual(1);
    expect(w.p50).toBeLessThan(1.2);
    expect(w.p99).toBeGreaterThanOrEqual(3);
    expect(w.p99).toBeLessThan(3.5);
    expect(w.max).toBe(w.p99);
  });
  it('is empty when nothing was recorded in between; percentiles of sorted buckets are nearest-rank', () => {
    expect(windowLatency([[1, 5]], [[1, 5]])).toEqual({ p50: 0, p99: 0, max: 0, samples: 0 });
    expect(
      diffBuckets(
        [],
        [
          [2, 1],
          [1, 3],
        ],
      ),
    ).toEqual([
      [1, 3],
      [2, 1],
    ]);
    expect(
      bucketPercentile(
        [
          [1, 3],
          [2, 1],
        ],
        75,
      ),
    ).toBe(1);
    expect(
      bucketPercentile(
        [
          [1, 3],
          [2, 1],
        ],
        76,
      ),
    ).toBe(2);
  });
});
