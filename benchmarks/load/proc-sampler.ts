/**
 * CPU and RSS of a server process from /proc (Linux): utime+stime of all its threads from
 * /proc/<pid>/stat, VmRSS from /proc/<pid>/status, sampled once a second.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on every mainstream Linux build). */
const CLK_TCK = 100;

/** utime + stime in seconds, from the text of /proc/<pid>/stat. */
export function parseStatCpuSeconds(stat: string): number {
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** VmRSS in bytes from the text of /proc/<pid>/status (0 when absent). */
export function parseStatusRss(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** The thread (command) name in the text of /proc/<pid>/stat. */
export function parseStatName(stat: string): string {
  return stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
}

/** CPU seconds of each thread of `pid` (from /proc/<pid>/task/<tid>/stat), by tid. Empty when gone. */
export function readThreadCpu(pid: number): Map<number, { name: string; cpuSeconds: number }> {
  const out = new Map<number, { name: string; cpuSeconds: number }>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      out.set(Number(tid), { name: parseStatName(stat), cpuSeconds: parseStatCpuSeconds(stat) });
    } catch {
      // the thread ended
    }
  }
  return out;
}

/**
 * CPU % of one core per thread between two readThreadCpu readings `wallS` seconds apart, as
 * `name:tid` (Node's worker threads are all named `node`; the process's first thread is `main`),
 * busiest first; threads under 0.5 % summed as `other`.
 */
export function threadCpuPercent(
  pid: number,
  before: Map<number, { name: string; cpuSeconds: number }>,
  after: Map<number, { name: string; cpuSeconds: number }>,
  wallS: number,
): Record<string, number> {
  const byName = new Map<string, number>();
  for (const [tid, t] of after) {
    const d = t.cpuSeconds - (before.get(tid)?.cpuSeconds ?? 0);
    const name = tid === pid ? 'main' : d / wallS < 0.005 ? 'other' : `${t.name}:${tid}`;
    byName.set(name, (byName.get(name) ?? 0) + d);
  }
  return Object.fromEntries(
    [...byName]
      .filter(([, d]) => d > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([n, d]) => [n, Math.round((d / wallS) * 1000) / 10]),
  );
}

export interface ProcSample {
  wallMs: number;
  cpuSeconds: number;
  rssBytes: number;
}

export interface ProcSummary {
  pid: number;
  /** Mean CPU over the window, % of one core. */
  cpuPercent: number;
  /** Highest one-second CPU in the window. */
  cpuPeakPercent: number;
  rssMaxBytes: number;
  rssEndBytes: number;
  samples: number;
}

export function readProc(pid: number): ProcSample | undefined {
  try {
    return {
      wallMs: performance.now(),
      cpuSeconds: parseStatCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8')),
      rssBytes: parseStatusRss(readFileSync(`/proc/${pid}/status`, 'utf8')),
    };
  } catch {
    return undefined;
  }
}

export class ProcSampler {
  readonly pid: number;
  readonly #samples: ProcSample[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(pid: number) {
    this.pid = pid;
  }

  start(intervalMs = 1000): void {
    this.#samples.length = 0;
    const s = readProc(this.pid);
    if (s) this.#samples.push(s);
    this.#timer = setInterval(() => {
      const x = readProc(this.pid);
      if (x && this.#samples.length < 100_000) this.#samples.push(x);
    }, intervalMs);
  }

  stop(): ProcSummary {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    const last = readProc(this.pid);
    if (last) this.#samples.push(last);
    const s = this.#samples;
    let peak = 0;
    let rssMax = 0;
    for (let i = 0; i < s.length; i++) {
      if (s[i].rssBytes > rssMax) rssMax = s[i].rssBytes;
      if (i > 0) {
        const dt = (s[i].wallMs - s[i - 1].wallMs) / 1000;
        if (dt > 0.5) peak = Math.max(peak, ((s[i].cpuSeconds - s[i - 1].cpuSeconds) / dt) * 100);
      }
    }
    const first = s[0];
    const end = s[s.length - 1];
    const wall = first && end ? (end.wallMs - first.wallMs) / 1000 : 0;
    return {
      pid: this.pid,
      cpuPercent: wall > 0 ? ((end.cpuSeconds - first.cpuSeconds) / wall) * 100 : Number.NaN,
      cpuPeakPercent: peak,
      rssMaxBytes: rssMax,
      rssEndBytes: end?.rssBytes ?? 0,
      samples: s.length,
    };
  }
}

/** Busy and total jiffies of the whole machine (first line of /proc/stat), or undefined. */
export function readMachineJiffies(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Machine CPU busy over a window, in % of one core (200 % = both cores of a 2-core machine). */
export class MachineLoad {
  readonly #start = readMachineJiffies();
  readonly #cores: number;
  constructor(cores: number) {
    this.#cores = cores;
  }
  stop(): number {
    const end = readMachineJiffies();
    if (!this.#start || !end || end.total === this.#start.total) return Number.NaN;
    return ((end.busy - this.#start.busy) / (end.total - this.#start.total)) * 100 * this.#cores;
  }
}

/**
 * Waits (bounded by `maxWaitMs`) until the machine's busy time over a 2 s window is below
 * `maxBusyPercent` (% of one core, summed over cores). Returns the last busy figure seen.
 */
export async function waitForQuietMachine(
  maxBusyPercent: number,
  maxWaitMs: number,
  cores: number,
): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  let busy = Number.NaN;
  for (let i = 0; i < 1000; i++) {
    const m = new MachineLoad(cores);
    await new Promise((r) => setTimeout(r, 2000));
    busy = m.stop();
    if (!(busy > maxBusyPercent) || Date.now() >= deadline) return busy;
  }
  return busy;
}
