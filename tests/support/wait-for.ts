/** Polls until `fn` returns a truthy value; the timeout error says what was still missing. */
export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** What we are waiting for, used in the error: "viewer count to reach 3". */
  what?: string;
}

/**
 * Calls `fn` every `intervalMs` (default 25) until it returns something truthy (returned) or
 * `timeoutMs` (default 5000) passes. `fn` may be async; when it throws, the last error is kept
 * and reported on timeout. A function returning a string is treated as "not yet" when the
 * string starts with `missing:` so callers can say exactly what is absent.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  opts: WaitForOptions = {},
): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const intervalMs = opts.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    try {
      const v = await fn();
      lastValue = v;
      const missing = typeof v === 'string' && v.startsWith('missing:');
      if (v && !missing) return v as Exclude<T, false | null | undefined | 0 | ''>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, Math.max(1, deadline - Date.now()))));
  }
  const what = opts.what ?? 'condition';
  const detail =
    lastError !== undefined
      ? `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`
      : typeof lastValue === 'string' && lastValue.startsWith('missing:')
        ? `; ${lastValue}`
        : `; last value: ${JSON.stringify(lastValue)}`;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
