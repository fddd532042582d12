/**
 * Where the ffmpeg/ffprobe binaries are: a system binary on PATH wins, else the one shipped by
 * `@ffmpeg-installer/ffmpeg` / `@ffprobe-installer/ffprobe` (made executable on first use).
 */
import { accessSync, chmodSync, constants, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const cache = new Map<string, string>();

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

function makeExecutable(p: string): string {
  try {
    accessSync(p, constants.X_OK);
  } catch {
    chmodSync(p, 0o755);
  }
  return p;
}

function fromInstaller(pkg: string, bin: string): string | undefined {
  const platformPkg = `${pkg.split('/')[0]}/${process.platform}-${process.arch}`;
  try {
    const dir = dirname(require.resolve(`${platformPkg}/package.json`));
    const p = join(dir, bin);
    if (existsSync(p)) return makeExecutable(p);
  } catch {
    // fall through to the generic installer entry point
  }
  try {
    const mod = require(pkg) as { path?: string };
    if (mod.path && existsSync(mod.path)) return makeExecutable(mod.path);
  } catch {
    // not installed
  }
  return undefined;
}

function resolveBinary(name: 'ffmpeg' | 'ffprobe'): string {
  const hit = cache.get(name);
  if (hit) return hit;
  const envVar = name === 'ffmpeg' ? process.env.FFMPEG_PATH : process.env.FFPROBE_PATH;
  const p =
    (envVar && existsSync(envVar) ? envVar : undefined) ??
    onPath(name) ??
    fromInstaller(`@${name}-installer/${name}`, name);
  if (!p) throw new Error(`${name} not found: put it on PATH or install @${name}-installer/${name}`);
  cache.set(name, p);
  return p;
}

/** Absolute path of a runnable ffmpeg (FFMPEG_PATH, PATH, then @ffmpeg-installer). */
export function ffmpegPath(): string {
  return resolveBinary('ffmpeg');
}

/** Absolute path of a runnable ffprobe (FFPROBE_PATH, PATH, then @ffprobe-installer). */
export function ffprobePath(): string {
  return resolveBinary('ffprobe');
}
