/**
 * Tracks child processes spawned by tests so `afterEach(killTrackedChildren)` can kill leftovers.
 * Every helper here that spawns registers its child; tests may register their own with `track()`.
 */
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();

/** Registers `proc` until it exits; returns it. */
export function track<T extends ChildProcess>(proc: T): T {
  if (proc.exitCode !== null || proc.signalCode !== null) return proc;
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  proc.once('error', () => live.delete(proc));
  return proc;
}

/** Child processes still running. */
export function trackedChildren(): ChildProcess[] {
  return [...live];
}

/** Resolves when `proc` has exited (immediately if it already has), with its exit code (null if signalled). */
export function exited(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => {
    proc.once('exit', (code) => resolve(code));
    proc.once('error', () => resolve(proc.exitCode));
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function killChild(proc: ChildProcess, graceMs = 1500): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = exited(proc);
  proc.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }, graceMs);
  await gone;
  clearTimeout(timer);
}

/**
 * Kills every tracked child still alive and returns how many there were, so a test can assert
 * it left nothing behind: `expect(await killTrackedChildren()).toBe(0)`.
 */
export async function killTrackedChildren(graceMs = 1500): Promise<number> {
  const left = [...live];
  await Promise.all(left.map((p) => killChild(p, graceMs)));
  return left.length;
}

process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});
