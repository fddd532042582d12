import { accessSync, chmodSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

let cached: string | undefined;

function find(): string {
  const env = process.env.FFMPEG_PATH;
  if (env && existsSync(env)) return env;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, 'ffmpeg');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  const require = createRequire(import.meta.url);
  const p = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  try {
    accessSync(p, constants.X_OK);
  } catch {
    chmodSync(p, 0o755);
  }
  return p;
}

/** ffmpeg to run: FFMPEG_PATH, then `ffmpeg` on PATH, then the @ffmpeg-installer/ffmpeg binary (made executable). */
export function resolveFfmpegPath(): string {
  cached ??= find();
  return cached;
}
