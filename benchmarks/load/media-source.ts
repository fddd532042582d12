/**
 * The benchmark stream: 720p30 H.264 baseline (no B-frames, GOP 1 s, ~2 Mbps CBR) + AAC-LC,
 * encoded once by ffmpeg into an FLV file cached under os.tmpdir(), then loaded as tag views.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveFfmpegPath } from '../../actors/transcoder/ffmpeg-binary.js';
import { iterateFlvFileTags } from '../../media/flv/flv-file-reader.js';

export interface SourceSpec {
  width: number;
  height: number;
  fps: number;
  videoKbps: number;
  audioKbps: number;
  /** Length of the file; the publisher loops it. */
  seconds: number;
}

export const DEFAULT_SOURCE: SourceSpec = {
  width: 1280,
  height: 720,
  fps: 30,
  videoKbps: 2000,
  audioKbps: 128,
  seconds: 10,
};

export interface SourceTag {
  typeId: 8 | 9 | 18;
  /** ms from the file start. */
  timestamp: number;
  body: Uint8Array;
  /** Video keyframe (not a sequence header). */
  key: boolean;
  /** Sequence header or onMetaData: sent once, not looped. */
  config: boolean;
}

export interface LoadedSource {
  path: string;
  spec: SourceSpec;
  /** Sequence headers and metadata, in file order. */
  configs: SourceTag[];
  /** Media tags in file order. */
  media: SourceTag[];
  /** Timestamp the second loop starts at (last media timestamp + one frame interval). */
  loopMs: number;
  /** Average media bit rate (bit/s) over the file. */
  bitrate: number;
}

/** ffmpeg: $FFMPEG, else the engine's lookup (FFMPEG_PATH, PATH, then @ffmpeg-installer). */
export function findFfmpeg(): string {
  return process.env.FFMPEG ?? resolveFfmpegPath();
}

export function sourceFileName(s: SourceSpec): string {
  return `rts-bench-${s.width}x${s.height}p${s.fps}-${s.videoKbps}k-a${s.audioKbps}k-${s.seconds}s.flv`;
}

/** Encodes the source file unless it is cached; returns its path. */
export async function ensureSourceFile(
  spec: SourceSpec = DEFAULT_SOURCE,
  timeoutMs = 180_000,
): Promise<string> {
  const path = join(tmpdir(), sourceFileName(spec));
  if (existsSync(path)) return path;
  const tmp = `${path}.${process.pid}.part`;
  const gop = spec.fps;
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${spec.width}x${spec.height}:rate=${spec.fps}`,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=44100',
    '-t',
    String(spec.seconds),
    '-map',
    '0:v',
    '-map',
    '1:a',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    '-preset',
    'veryfast',
    '-profile:v',
    'baseline',
    '-tune',
    'zerolatency',
    '-g',
    String(gop),
    '-keyint_min',
    String(gop),
    '-sc_threshold',
    '0',
    '-bf',
    '0',
    '-b:v',
    `${spec.videoKbps}k`,
    '-maxrate',
    `${spec.videoKbps}k`,
    '-bufsize',
    `${spec.videoKbps}k`,
    '-x264-params',
    'nal-hrd=cbr:force-cfr=1',
    '-c:a',
    'aac',
    '-b:a',
    `${spec.audioKbps}k`,
    '-ar',
    '44100',
    '-ac',
    '2',
    '-f',
    'flv',
    '-y',
    tmp,
  ];
  const proc = spawn(findFfmpeg(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr?.on('data', (b: Buffer) => {
    err = (err + b.toString('utf8')).slice(-4000);
  });
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => {
    proc.once('exit', (c) => resolve(c));
    proc.once('error', () => resolve(-1));
  });
  clearTimeout(timer);
  if (code !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`ffmpeg exited ${code} encoding the benchmark source: ${err}`);
  }
  renameSync(tmp, path);
  return path;
}

function isConfig(typeId: number, body: Uint8Array): boolean {
  if (typeId === 18) return true;
  if (body.length < 2) return false;
  if (typeId === 9) {
    if (body[0] & 0x80) return (body[0] & 0x0f) === 0; // enhanced RTMP: PacketTypeSequenceStart
    return (body[0] & 0x0f) === 7 && body[1] === 0; // AVC sequence header
  }
  return body[0] >> 4 === 10 && body[1] === 0; // AAC sequence header
}

/** Reads an FLV file into tag views split into configs and media. */
export function loadSource(path: string, spec: SourceSpec = DEFAULT_SOURCE): LoadedSource {
  const buf = readFileSync(path);
  const configs: SourceTag[] = [];
  const media: SourceTag[] = [];
  let bytes = 0;
  for (const t of iterateFlvFileTags(buf)) {
    if (t.type !== 8 && t.type !== 9 && t.type !== 18) continue;
    const config = isConfig(t.type, t.body);
    const tag: SourceTag = {
      typeId: t.type,
      timestamp: t.timestamp,
      body: t.body,
      key: t.type === 9 && !config && ((t.body[0] >> 4) & 7) === 1,
      config,
    };
    if (config) configs.push(tag);
    else {
      media.push(tag);
      bytes += t.body.length;
    }
  }
  if (media.length === 0) throw new Error(`${path} has no media tags`);
  const first = media[0].timestamp;
  const last = media[media.length - 1].timestamp;
  const loopMs = last - first + Math.round(1000 / spec.fps);
  return { path, spec, configs, media, loopMs, bitrate: (bytes * 8 * 1000) / loopMs };
}
