/**
 * ffmpeg/ffprobe drivers for interop tests: publish a lavfi test pattern, decode what a server
 * serves and count frames, probe a URL or file as JSON. Every child is tracked (children.ts) and
 * every run has a hard timeout.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { ffmpegPath, ffprobePath } from './binaries.js';
import { exited, killChild, track } from './children.js';

export interface PublishOptions {
  /** Where to publish: `rtmp://127.0.0.1:1935/live/test`, or a file path. */
  url: string;
  /** How long the pattern runs (ffmpeg `-t`); default 10. */
  seconds?: number;
  width?: number;
  height?: number;
  fps?: number;
  /** Keyframe interval in frames; default `fps` (1 s). */
  gop?: number;
  /** Max consecutive B-frames; default 0. */
  bframes?: number;
  audio?: 'aac' | 'none';
  /** false: audio only (no video track); default true. */
  video?: boolean;
  videoCodec?: 'libx264' | 'libx265';
  /** Video bitrate in kbit/s; default 500. */
  videoKbps?: number;
  /** Output format; default `flv`. */
  format?: string;
  /** Pace input in real time (`-re`); default true. */
  realtime?: boolean;
  /** Inserted just before the output URL. */
  extraArgs?: string[];
}

export interface RunningFfmpeg {
  proc: ChildProcess;
  /** Exit code (null when killed by a signal). */
  done: Promise<number | null>;
  /** Last stderr lines (for assertion messages). */
  stderr(): string;
  /** SIGTERM then SIGKILL; resolves when gone. */
  stop(): Promise<void>;
}

function keepTail(proc: ChildProcess, maxChars = 8000): () => string {
  let tail = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (s: string) => {
    tail += s;
    if (tail.length > maxChars * 2) tail = tail.slice(-maxChars);
  });
  return () => tail.slice(-maxChars);
}

/** ffmpeg args that make a lavfi testsrc2 (+ sine) H.264/H.265 (+ AAC) stream. */
export function testPatternArgs(o: PublishOptions): string[] {
  const seconds = o.seconds ?? 10;
  const width = o.width ?? 640;
  const height = o.height ?? 360;
  const fps = o.fps ?? 25;
  const gop = o.gop ?? fps;
  const bframes = o.bframes ?? 0;
  const audio = o.audio ?? 'aac';
  const videoCodec = o.videoCodec ?? 'libx264';
  const kbps = o.videoKbps ?? 500;
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'level+warning'];
  if (o.realtime !== false) args.push('-re');
  if (o.video === false) {
    // audio only: one AAC track
    args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', String(seconds));
    args.push('-map', '0:a', '-c:a', 'aac', '-b:a', '64k', '-ar', '44100', '-ac', '2');
    args.push(...(o.extraArgs ?? []), '-f', o.format ?? 'flv', '-y', o.url);
    return args;
  }
  args.push('-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${fps}`);
  if (audio === 'aac') args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100');
  args.push('-t', String(seconds), '-map', '0:v');
  if (audio === 'aac') args.push('-map', '1:a');
  args.push('-c:v', videoCodec, '-pix_fmt', 'yuv420p', '-preset', 'veryfast');
  args.push('-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0', '-bf', String(bframes));
  args.push('-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`);
  if (videoCodec === 'libx264') {
    args.push('-profile:v', bframes > 0 ? 'high' : 'baseline');
    if (bframes === 0) args.push('-tune', 'zerolatency');
  } else {
    args.push('-x265-params', `keyint=${gop}:min-keyint=${gop}:bframes=${bframes}:log-level=error`);
  }
  if (audio === 'aac') args.push('-c:a', 'aac', '-b:a', '64k', '-ar', '44100', '-ac', '2');
  args.push(...(o.extraArgs ?? []), '-f', o.format ?? 'flv', '-y', o.url);
  return args;
}

/** Starts ffmpeg publishing a test pattern to `url` (`-re`, `-f flv` by default). */
export function publishTestPattern(o: PublishOptions): RunningFfmpeg {
  const proc = track(spawn(ffmpegPath(), testPatternArgs(o), { stdio: ['ignore', 'ignore', 'pipe'] }));
  const stderr = keepTail(proc);
  return { proc, done: exited(proc), stderr, stop: () => killChild(proc) };
}

/** Writes a test pattern file as fast as possible (`realtime: false`); rejects on a non-zero exit. */
export async function makeTestFile(o: PublishOptions & { timeoutMs?: number }): Promise<string> {
  const run = publishTestPattern({ realtime: false, ...o });
  const timer = setTimeout(() => void run.stop(), o.timeoutMs ?? 60_000);
  const code = await run.done;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`ffmpeg exited ${code} writing ${o.url}: ${run.stderr()}`);
  return o.url;
}

export interface DecodeOptions {
  /** Decode this many seconds of output (`-t`); default 3. */
  seconds?: number;
  /** Kill ffmpeg after this long; default seconds*1000 + 10000. */
  timeoutMs?: number;
  /** Inserted before `-i` (input options, e.g. `['-rw_timeout', '5000000']`). */
  inputArgs?: string[];
  /** Inserted after `-i` (output options). */
  extraArgs?: string[];
}

export interface DecodeResult {
  /** Video frames decoded (0 when there is no video). */
  frames: number;
  width?: number;
  height?: number;
  /** Video codec name and profile from the input stream line, e.g. `h264 (Constrained Baseline)`. */
  videoCodec?: string;
  /** Audio codec name from the input stream line, e.g. `aac (LC)` or `opus`. */
  audioCodec?: string;
  /** stderr lines at level error or above. */
  errors: string[];
  exitCode: number | null;
  /** True when we had to kill ffmpeg after `timeoutMs`. */
  timedOut: boolean;
  /** Wall time from spawn to exit. */
  elapsedMs: number;
  stderr: string;
}

/** Decodes `url` with ffmpeg to `-f null -`, counting video frames and reading size and codecs. */
export async function decode(url: string, o: DecodeOptions = {}): Promise<DecodeResult> {
  const seconds = o.seconds ?? 3;
  const timeoutMs = o.timeoutMs ?? seconds * 1000 + 10_000;
  const args = [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'level+info',
    ...(o.inputArgs ?? []),
    '-i',
    url,
    '-t',
    String(seconds),
    ...(o.extraArgs ?? []),
    '-f',
    'null',
    '-progress',
    'pipe:1',
    '-',
  ];
  const started = Date.now();
  const proc = track(spawn(ffmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  proc.stdout?.setEncoding('utf8');
  proc.stderr?.setEncoding('utf8');
  proc.stdout?.on('data', (s: string) => {
    stdout += s;
    if (stdout.length > 64_000) stdout = stdout.slice(-16_000);
  });
  proc.stderr?.on('data', (s: string) => {
    if (stderr.length < 512_000) stderr += s;
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void killChild(proc);
  }, timeoutMs);
  const exitCode = await exited(proc);
  clearTimeout(timer);
  const frameHits = [...stdout.matchAll(/^frame=(\d+)$/gm)];
  const frames = frameHits.length ? Number(frameHits[frameHits.length - 1]![1]) : 0;
  const inputPart = stderr.split(/Stream mapping:|Output #0/)[0] ?? '';
  const video = /Stream #\d+:\d+.*?: Video: ([^,]+(?:\([^)]*\))?)[^\n]*?, (\d{2,5})x(\d{2,5})/.exec(
    inputPart,
  );
  const audio = /Stream #\d+:\d+.*?: Audio: ([^,\n]+)/.exec(inputPart);
  const errors = stderr
    .split('\n')
    .filter((l) => /\[(error|fatal|panic)\]/.test(l))
    .map((l) => l.trim());
  return {
    frames,
    width: video ? Number(video[2]) : undefined,
    height: video ? Number(video[3]) : undefined,
    videoCodec: video?.[1]?.trim(),
    audioCodec: audio?.[1]?.trim(),
    errors,
    exitCode,
    timedOut,
    elapsedMs: Date.now() - started,
    stderr: stderr.slice(-8000),
  };
}

export interface ProbeOptions {
  showPackets?: boolean;
  showFrames?: boolean;
  /** Which streams (`-select_streams v:0`). */
  selectStreams?: string;
  /** `-read_intervals`, e.g. `%+3` for the first 3 s of a live URL. */
  readIntervals?: string;
  /** Extra ffprobe args before `-i`. */
  extraArgs?: string[];
  timeoutMs?: number;
}

export interface ProbeStream {
  index: number;
  codec_name?: string;
  codec_type?: string;
  profile?: string;
  width?: number;
  height?: number;
  has_b_frames?: number;
  sample_rate?: string;
  channels?: number;
  [k: string]: unknown;
}

export interface ProbePacket {
  stream_index: number;
  pts_time?: string;
  dts_time?: string;
  flags?: string;
  size?: string;
  [k: string]: unknown;
}

export interface ProbeFrame {
  stream_index: number;
  media_type?: string;
  pict_type?: string;
  key_frame?: number;
  pkt_pts_time?: string;
  best_effort_timestamp_time?: string;
  [k: string]: unknown;
}

export interface ProbeResult {
  streams: ProbeStream[];
  format?: { format_name?: string; duration?: string; [k: string]: unknown };
  packets?: ProbePacket[];
  frames?: ProbeFrame[];
}

/** Runs ffprobe on a URL or file and returns its JSON (streams, format, optionally packets/frames). */
export async function probe(urlOrFile: string, o: ProbeOptions = {}): Promise<ProbeResult> {
  const args = ['-hide_banner', '-v', 'error', '-print_format', 'json', '-show_format', '-show_streams'];
  if (o.showPackets) args.push('-show_packets');
  if (o.showFrames) args.push('-show_frames');
  if (o.selectStreams) args.push('-select_streams', o.selectStreams);
  if (o.readIntervals) args.push('-read_intervals', o.readIntervals);
  args.push(...(o.extraArgs ?? []), '-i', urlOrFile);
  const proc = track(spawn(ffprobePath(), args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  const out: Buffer[] = [];
  let err = '';
  proc.stdout?.on('data', (b: Buffer) => out.push(b));
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (s: string) => {
    if (err.length < 16_000) err += s;
  });
  const timer = setTimeout(() => void killChild(proc), o.timeoutMs ?? 20_000);
  const code = await exited(proc);
  clearTimeout(timer);
  const text = Buffer.concat(out).toString('utf8');
  if (code !== 0 && !text.trim()) throw new Error(`ffprobe ${urlOrFile} exited ${code}: ${err.trim()}`);
  try {
    return JSON.parse(text) as ProbeResult;
  } catch (cause) {
    throw new Error(`ffprobe ${urlOrFile} printed no JSON (exit ${code}): ${err.trim()}`, { cause });
  }
}
