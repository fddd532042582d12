import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

export const FFMPEG: string = require('@ffmpeg-installer/ffmpeg').path;
export const FFPROBE: string = require('@ffprobe-installer/ffprobe').path;
for (const bin of [FFMPEG, FFPROBE]) {
  try {
    chmodSync(bin, 0o755);
  } catch {
    // read-only install: assume it is already executable
  }
}

export interface FlvRecipe {
  profile: 'baseline' | 'high';
  bframes: number;
  width: number;
  height: number;
  seconds: number;
  fps?: number;
  gop?: number;
  level?: string;
  audioRate?: number;
  codec?: 'libx264' | 'libx265';
}

/** Runs ffmpeg (lavfi test sources) to make an FLV file; returns its bytes. */
export async function makeFlv(r: FlvRecipe): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'rts-flv-'));
  const out = join(dir, 'out.flv');
  const fps = r.fps ?? 25;
  try {
    const video =
      r.codec === 'libx265'
        ? [
            '-c:v',
            'libx265',
            '-preset',
            'ultrafast',
            '-x265-params',
            `keyint=${r.gop ?? fps}:bframes=${r.bframes}:log-level=error`,
          ]
        : [
            '-c:v',
            'libx264',
            '-preset',
            'veryfast',
            '-profile:v',
            r.profile,
            '-level',
            r.level ?? '3.1',
            '-bf',
            String(r.bframes),
            '-g',
            String(r.gop ?? fps),
            '-keyint_min',
            String(r.gop ?? fps),
            '-sc_threshold',
            '0',
          ];
    await run(
      FFMPEG,
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        `testsrc2=size=${r.width}x${r.height}:rate=${fps}`,
        '-f',
        'lavfi',
        '-i',
        `sine=frequency=440:sample_rate=${r.audioRate ?? 44100}`,
        '-t',
        String(r.seconds),
        '-pix_fmt',
        'yuv420p',
        ...video,
        '-c:a',
        'aac',
        '-b:a',
        '64k',
        '-ac',
        '2',
        '-f',
        'flv',
        out,
      ],
      { timeout: 30_000 },
    );
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runTool(
  bin: string,
  args: string[],
  timeout = 30_000,
): Promise<{ stdout: string; stderr: string }> {
  return run(bin, args, { timeout, maxBuffer: 64 * 1024 * 1024 });
}

/** A short HEVC MP4 (video only) made by ffmpeg/libx265. */
export async function makeMp4Hevc(width: number, height: number): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'rts-mp4-'));
  const out = join(dir, 'out.mp4');
  try {
    await run(
      FFMPEG,
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        `testsrc2=size=${width}x${height}:rate=25`,
        '-t',
        '0.4',
        '-pix_fmt',
        'yuv420p',
        '-c:v',
        'libx265',
        '-preset',
        'ultrafast',
        '-x265-params',
        'log-level=error',
        '-tag:v',
        'hvc1',
        out,
      ],
      { timeout: 30_000 },
    );
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
