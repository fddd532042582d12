import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function executable(path: string): string {
  if ((statSync(path).mode & 0o111) === 0) chmodSync(path, 0o755);
  return path;
}

export const ffmpegPath = executable((require('@ffmpeg-installer/ffmpeg') as { path: string }).path);
export const ffprobePath = executable((require('@ffprobe-installer/ffprobe') as { path: string }).path);

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a binary to completion, killed after `timeoutMs`; `children` collects it for cleanup. */
export function run(
  bin: string,
  args: string[],
  timeoutMs: number,
  children?: Set<ChildProcess>,
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children?.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      children?.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** ffmpeg arguments publishing an H.264/AAC test pattern in real time to `url`. */
export function testPatternArgs(url: string, seconds: number, size = '320x240'): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-re',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${size}:rate=25`,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=44100',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-tune',
    'zerolatency',
    '-g',
    '25',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-b:a',
    '64k',
    '-t',
    String(seconds),
    '-f',
    'flv',
    url,
  ];
}
