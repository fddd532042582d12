import { describe, expect, it } from 'vitest';
import {
  bucketOf,
  bucketUpperBound,
  HIST_BUCKETS,
  HIST_GROWTH,
  LatencyHistogram,
} from '../../../benchmarks/load/histogram.js';

function exactPercentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)];
}

describe('LatencyHistogram', () => {
  it('bucketOf() returns the first bucket whose upper bound holds the value', () => {
    for (const v of [0.011, 0.5, 1, 1.02, 3.3, 99.9, 1000, 65_000]) {
      const i = bucketOf(v);
      expect(bucketUpperBound(i)).toBeGreaterThanOrEqual(v);
      expect(i === 0 || bucketUpperBound(i - 1) < v).toBe(true);
    }
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(-5)).toBe(0);
    expect(bucketOf(1e9)).toBe(HIST_BUCKETS - 1);
  });

  it('percentile() is within one bucket (2 %) of the exact nearest-rank value', () => {
    const values: number[] = [];
    let x = 12345;
    for (let i = 0; i < 5000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      values.push(0.2 + (x / 2 ** 31) * 80);
    }
    const h = new LatencyHistogram();
    for (const v of values) h.record(v);
    for (const p of [50, 90, 99, 99.9]) {
      const exact = exactPercentile(values, p);
      const got = h.percentile(p);
      expect(got).toBeGreaterThanOrEqual(exact);
      expect(got).toBeLessThanOrEqual(exact * HIST_GROWTH * 1.0001);
    }
    expect(h.percentile(100)).toBe(Math.max(...values));
    expect(h.percentile(0)).toBe(Math.min(...values));
  });

  it('merge() of parts equals one histogram of all samples, also through toJSON()', () => {
    const all = new LatencyHistogram();
    const parts = [new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram()];
    for (let i = 0; i < 3000; i++) {
      const v = ((i * 7919) % 997) / 10 + 0.05;
      all.record(v);
      parts[i % 3].record(v);
    }
    const merged = new LatencyHistogram();
    merged
      .merge(parts[0])
      .merge(JSON.parse(JSON.stringify(parts[1].toJSON())))
      .merge(parts[2].toJSON());
    expect(merged.count).toBe(all.count);
    expect(merged.min).toBe(all.min);
    expect(merged.max).toBe(all.max);
    expect(merged.sum).toBeCloseTo(all.sum, 6);
    expect([...merged.counts]).toEqual([...all.counts]);
    for (const p of [50, 99]) expect(merged.percentile(p)).toBe(all.percentile(p));
  });

  it('an empty histogram reports NaN percentiles and merges as a no-op', () => {
    const h = new LatencyHistogram();
    expect(h.percentile(50)).toBeNaN();
    const j = h.toJSON();
    expect(j).toEqual({ count: 0, min: 0, max: 0, sum: 0, buckets: [] });
    const other = new LatencyHistogram();
    other.record(5);
    other.merge(j);
    expect(other.min).toBe(5);
    expect(other.max).toBe(5);
    expect(other.count).toBe(1);
  });

  it('merge() rejects a bucket index out of range', () => {
    expect(() =>
      new LatencyHistogram().merge({ count: 1, min: 1, max: 1, sum: 1, buckets: [[HIST_BUCKETS, 1]] }),
    ).toThrow(RangeError);
  });
});
