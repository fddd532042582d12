import { cpus, loadavg } from 'node:os';
import { MachineLoad } from '../../benchmarks/load/proc-sampler.js';

/**
 * Whether the machine was contended over a window: the share of all cores busy (from /proc/stat,
 * measured over the window itself) above 70 %, or a 1-minute load average above twice the cores.
 * A browser's renderer starved by the suite's other files may freeze a frame then; the tests
 * that count freezes tolerate one there and say so in their message.
 */
export function contentionWindow(): { stop(): { contended: boolean; why: string } } {
  const cores = cpus().length;
  const load = new MachineLoad(cores);
  return {
    stop() {
      const busy = load.stop(); // % of one core, summed over the cores
      const share = Number.isFinite(busy) ? busy / cores : 0;
      const avg = loadavg()[0];
      return {
        contended: share > 70 || avg > cores * 2,
        why: `machine ${share.toFixed(0)} % busy over the window, load average ${avg.toFixed(2)}`,
      };
    },
  };
}
