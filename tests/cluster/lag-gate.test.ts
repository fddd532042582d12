import { describe, expect, it } from 'vitest';
import { LagGate } from '../../engine/cluster/lag-gate.js';

const v = (key = false) => ({ kind: 'video', key, config: false });
const a = () => ({ kind: 'audio', key: true, config: false });

describe('LagGate', () => {
  it('passes frames on time whatever the clock offset between the machines', () => {
    const g = new LagGate({ maxLagMs: 500 });
    // The origin's clock is 60 s ahead: lag is -60 s + transit, a constant baseline.
    for (let t = 0; t < 5000; t += 40)
      expect(g.check(1_000_000 + t, 1_060_000 + t - 3, v(t % 1000 === 0))).toBe('pass');
    expect(g.dropped).toBe(0);
  });

  it('after a stall, drops the backlog until an on-time keyframe, keeping config frames', () => {
    const g = new LagGate({ maxLagMs: 500 });
    for (let t = 0; t < 2000; t += 40) expect(g.check(t + 5, t, v(t % 1000 === 0))).toBe('pass');
    // Stalled 3 s: frames ingested during the stall all arrive at once.
    const now = 5000;
    const verdicts = [];
    for (let t = 2000; t < 5000; t += 40) verdicts.push(g.check(now, t, v(t % 1000 === 0)));
    expect(verdicts.slice(0, 30).every((x) => x === 'drop')).toBe(true);
    expect(g.check(now, 2040, { kind: 'video', key: true, config: true })).toBe('pass');
    expect(g.check(now, 4990, a())).toBe('drop'); // audio waits for the video keyframe
    expect(g.check(now + 5, 5000, v(false))).toBe('drop');
    expect(g.check(now + 10, 5000, v(true))).toBe('pass');
    expect(g.check(now + 50, 5040, v(false))).toBe('pass');
    expect(g.skips).toBe(1);
    expect(g.dropped).toBeGreaterThan(70);
  });
});
