/**
 * Polls until `check` returns undefined (done) or a string saying what is still missing; on
 * timeout it rejects with that last description.
 */
export async function waitFor(
  check: () => string | undefined | Promise<string | undefined>,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const intervalMs = opts.intervalMs ?? 10;
  const deadline = Date.now() + timeoutMs;
  let missing = await check();
  while (missing !== undefined) {
    if (Date.now() > deadline) throw new Error(`waitFor timed out after ${timeoutMs} ms: ${missing}`);
    await new Promise((r) => setTimeout(r, intervalMs));
    missing = await check();
  }
}
