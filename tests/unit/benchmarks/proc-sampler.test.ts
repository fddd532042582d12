import { describe, expect, it } from 'vitest';
import { parseStatCpuSeconds, parseStatusRss, readProc } from '../../../benchmarks/load/proc-sampler.js';

describe('proc-sampler parsers', () => {
  it('parseStatCpuSeconds() adds utime and stime (fields 14, 15) after a comm with spaces and parentheses', () => {
    const stat = '1234 (node (x) y) S 1 1234 1234 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 11 0 100 1000 200';
    expect(parseStatCpuSeconds(stat)).toBe(3);
  });
  it('parseStatusRss() reads VmRSS in kB as bytes', () => {
    expect(parseStatusRss('Name:\tnode\nVmRSS:\t   20480 kB\nThreads:\t7\n')).toBe(20480 * 1024);
    expect(parseStatusRss('Name:\tzombie\n')).toBe(0);
  });
  it('readProc() reads this process', () => {
    const s = readProc(process.pid);
    expect(s?.rssBytes).toBeGreaterThan(1024 * 1024);
    expect(s?.cpuSeconds).toBeGreaterThan(0);
  });
});
