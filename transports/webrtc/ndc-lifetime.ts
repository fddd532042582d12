import type ndc from 'node-datachannel';

/**
 * node-datachannel keeps every native Track wrapper in a process-global set until the track's
 * `onClosed` callback has run on the JS thread; a wrapper garbage-collected before that stays in
 * the set as a dangling pointer, and `cleanup()` (or the next CloseAll) crashes the process on it
 * (SIGSEGV/SIGABRT in ThreadSafeCallback, seen at node shutdown). So every track we create gets
 * an `onClosed` handler, and a strong reference here until that handler has run.
 */
const open = new Set<ndc.Track>();

export function holdUntilClosed(track: ndc.Track, onClosed?: () => void): ndc.Track {
  open.add(track);
  track.onClosed(() => {
    open.delete(track);
    onClosed?.();
  });
  return track;
}

/** Tracks not yet reported closed (for tests and shutdown). */
export function tracksOpen(): number {
  return open.size;
}

/** Resolves once every held track reported closed, or after `timeoutMs`. */
export async function tracksClosed(timeoutMs = 2000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (open.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  return open.size === 0;
}
