import { execFileSync } from 'node:child_process';

/** Helpers shared by the `rts bench` command's modes (RTMP/FLV and WHEP). */

/** `--players 10,100` → [10, 100]; positive integers only. */
export function parseList(v: string, what: string): number[] {
  const out = v.split(',').map((s) => Number(s.trim()));
  if (out.some((n) => !Number.isInteger(n) || n <= 0))
    throw new Error(`--${what} must be a comma list of positive integers`);
  return out;
}

/** True when `taskset` runs here (pinning server and clients to separate cores). */
export function tasksetWorks(): boolean {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Pins this process (publisher, orchestration) with the clients. */
export function pinSelf(cpuList: string): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(process.pid)], { stdio: 'ignore' });
  } catch {
    // not fatal: figures are then less clean
  }
}
