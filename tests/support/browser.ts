/**
 * Headless Chromium for browser tests (playwright-core driving the Debian /usr/bin/chromium).
 * Playwright gives every `launch()` a fresh temporary profile, removed on `close()`.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type LaunchOptions, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags measured to work here (see /work/shared/MEASURED.md). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

/** True when the Chromium binary exists (use with `describe.skipIf(!chromiumAvailable())` if you must). */
export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

export interface LaunchChromiumOptions {
  /** Extra Chromium flags appended to CHROMIUM_ARGS. */
  args?: string[];
  /** Launch timeout; default 30 s. */
  timeoutMs?: number;
  /** Anything else for playwright's `launch()`. */
  launch?: Omit<LaunchOptions, 'executablePath' | 'args' | 'headless'>;
}

/** Launches headless Chromium; throws one clear line when the binary is missing. Close it in afterEach. */
export async function launchChromium(opts: LaunchChromiumOptions = {}): Promise<Browser> {
  if (!chromiumAvailable()) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it: apt-get install chromium`);
  }
  return chromium.launch({
    ...opts.launch,
    executablePath: CHROMIUM_PATH,
    // Playwright's own headless switch would add the old --headless; we pass --headless=new ourselves.
    headless: false,
    args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
    timeout: opts.timeoutMs ?? 30_000,
  });
}

/**
 * Collects a page's console lines and page errors, for failure messages:
 * `const log = collectPageLog(page); … expect(x, log()).toBe(y)`.
 */
export function collectPageLog(page: Page, maxLines = 200): () => string {
  const lines: string[] = [];
  const push = (l: string): void => {
    lines.push(l);
    if (lines.length > maxLines) lines.shift();
  };
  page.on('console', (m) => push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => push(`[pageerror] ${e.message}`));
  page.on('requestfailed', (r) => push(`[requestfailed] ${r.url()} ${r.failure()?.errorText ?? ''}`));
  return () => lines.join('\n');
}
