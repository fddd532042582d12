// Builds dist/ with tsc when a TypeScript source is newer than the build (used by `npm start`).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['engine', 'actors', 'media', 'transports', 'cli', 'benchmarks', 'player/sdk'];
const stamp = 'dist/.build-stamp';
function newest(dir) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }
  return t;
}
const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
if (built === 0 || roots.some((r) => newest(r) > built)) {
  process.stderr.write('building TypeScript (npm run build)...\n');
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}
