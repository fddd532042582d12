import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';

/** Builds the browser player SDK once before the tests when its output is missing or stale. */
export default function setup(): void {
  const out = 'player/dist/sdk.js';
  const newest = Math.max(...readdirSync('player/sdk').map((f) => statSync(`player/sdk/${f}`).mtimeMs));
  if (!existsSync(out) || statSync(out).mtimeMs < newest) {
    execFileSync('node', ['scripts/build-player.mjs'], { stdio: 'inherit' });
  }
}
