import { describe, expect, it } from 'vitest';
import { cpuListSize } from '../../../benchmarks/webrtc/whep-bench-cli.js';

describe('cpuListSize (taskset CPU lists)', () => {
  it('counts single CPUs, ranges and mixes', () => {
    expect(cpuListSize('0')).toBe(1);
    expect(cpuListSize('0,1')).toBe(2);
    expect(cpuListSize('0-3')).toBe(4);
    expect(cpuListSize('0-3,6, 8-9')).toBe(7);
  });
  it('never says fewer than one', () => {
    expect(cpuListSize('')).toBe(1);
    expect(cpuListSize('x')).toBe(1);
  });
});
