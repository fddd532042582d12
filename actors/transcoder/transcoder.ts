/**
 * Transcoder: runs one ffmpeg child fed with a stream's frames (FLV on stdin) and turns its
 * output (MPEG-TS on stdout) back into MediaFrames on the input timeline. Tracks the template
 * copies bypass ffmpeg and are re-emitted as they are. ffmpeg that dies is restarted with
 * exponential back-off; a backed-up stdin drops input up to the next keyframe.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { InvalidStateError, RtsError } from '../../engine/errors.js';
import { type Logger, silentLogger } from '../../engine/logging/logger.js';
import { FLV_TAG_AUDIO, FLV_TAG_VIDEO, type MediaFrame } from '../../media/frame/media-frame.js';
import { encodeAvcConfig } from '../../media/h264/avc-config.js';
import { encodeOpusHead } from '../../media/opus/opus-head.js';
import { annexBToAvcc, opusPacketDurationMs, splitOpusAccessUnits } from './elementary.js';
import { ffmpegArgs } from './ffmpeg-args.js';
import { resolveFfmpegPath } from './ffmpeg-binary.js';
import { avcVideoBody, opusAudioBody } from './flv-bodies.js';
import { encodeFlvHeader, encodeFlvTag } from './flv-writer.js';
import { MpegTsDemuxer, type PesPacket } from './mpegts-demuxer.js';
import { transcodesAudio, transcodesVideo } from './templates.js';
import type {
  RestartPolicy,
  TranscoderEvents,
  TranscoderOptions,
  TranscoderStats,
  TranscodeTemplate,
} from './types.js';

/** Input timestamps are fed as `dts - firstDts + FEED_BASE_MS` so Opus pre-skip never goes negative. */
export const FEED_BASE_MS = 10_000;
/** libopus look-ahead at 48 kHz (what ffmpeg's libopus wrapper reports as initial padding). */
export const OPUS_PRE_SKIP = 312;
export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const STDERR_TAIL = 4000;
const KILL_GRACE_MS = 2000;
const TS_WRAP = 2 ** 33;
const INGEST_RING = 256;

const DEFAULT_RESTART: RestartPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  stableAfterMs: 10_000,
  maxConsecutiveFailures: 10,
};

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
}

/** Maps output timestamps back to the ingest wall time of the input frame at or before them. */
class IngestRing {
  private readonly ts = new Float64Array(INGEST_RING);
  private readonly wall = new Float64Array(INGEST_RING);
  private n = 0;
  add(ts: number, wall: number): void {
    const i = this.n % INGEST_RING;
    this.ts[i] = ts;
    this.wall[i] = wall;
    this.n++;
  }
  lookup(ts: number): number | undefined {
    const count = Math.min(this.n, INGEST_RING);
    for (let k = 1; k <= count; k++) {
      const i = (this.n - k) % INGEST_RING;
      if (this.ts[i] <= ts) return this.wall[i];
    }
    return undefined;
  }
}

class OutFrame implements MediaFrame {
  constructor(
    readonly kind: 'video' | 'audio',
    readonly codec: 'h264' | 'opus',
    readonly dts: number,
    readonly pts: number,
    readonly key: boolean,
    readonly config: boolean,
    readonly body: Uint8Array,
    readonly payload: Uint8Array,
    readonly seq: number,
    readonly ingestTime: number,
  ) {}
}

export class Transcoder extends EventEmitter<TranscoderEvents> {
  readonly template: TranscodeTemplate;
  private readonly log: Logger;
  private readonly ffmpeg: string;
  private readonly maxBuffered: number;
  private readonly policy: RestartPolicy;
  private readonly extraArgs: string[];
  private readonly feedVideo: boolean;
  private readonly feedAudio: boolean;

  private started = false;
  private _closed = false;
  private child: ChildProcess | undefined;
  private childStartedAt = 0;
  private childProducedOutput = false;
  private childExit: Promise<void> = Promise.resolve();
  private restartTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stderrTail = '';

  private firstDts: number | undefined;
  private videoConfig: Uint8Array | undefined;
  private audioConfig: Uint8Array | undefined;
  /** Header and configs written to the current child; frames may follow. */
  private headerWritten = false;
  private needKey = true;
  private dropping = false;
  private readonly lastTicks = new Map<number, number>();
  private readonly wrapOffset = new Map<number, number>();
  private lastAvcConfig: Uint8Array | undefined;
  private opusHeadSent = false;
  private seq = 0;
  private readonly ingestVideo = new IngestRing();
  private readonly ingestAudio = new IngestRing();

  private readonly s: TranscoderStats = {
    running: false,
    pid: undefined,
    framesIn: 0,
    framesOut: 0,
    bytesToFfmpeg: 0,
    bytesFromFfmpeg: 0,
    droppedBackpressure: 0,
    droppedWhileStarting: 0,
    restarts: 0,
    unsupportedFrames: 0,
  };

  constructor(opts: TranscoderOptions) {
    super();
    this.template = opts.template;
    this.log = (opts.logger ?? silentLogger).child(`transcoder[${opts.template.id}]`);
    this.ffmpeg = opts.ffmpegPath ?? resolveFfmpegPath();
    this.maxBuffered = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.policy = { ...DEFAULT_RESTART, ...opts.restart };
    this.extraArgs = opts.extraOutputArgs ?? [];
    this.feedVideo = transcodesVideo(opts.template);
    this.feedAudio = transcodesAudio(opts.template);
  }

  get closed(): boolean {
    return this._closed;
  }

  /** The ffmpeg child's pid, when one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  stats(): TranscoderStats {
    return { ...this.s, running: this.child !== undefined, pid: this.child?.pid };
  }

  /** Spawns ffmpeg (when the template transcodes anything). Idempotent. */
  start(): void {
    if (this._closed) throw new InvalidStateError('transcoder closed');
    if (this.started) return;
    this.started = true;
    if (this.feedVideo || this.feedAudio) this.spawnChild();
  }

  /**
   * Hands one input frame to the transcoder. The frame's views are copied as needed before
   * this returns. Returns false when the frame was dropped (closed, not started, backpressure).
   */
  push(frame: MediaFrame): boolean {
    if (this._closed || !this.started) return false;
    if (frame.kind === 'data') return false;
    this.s.framesIn++;
    const isVideo = frame.kind === 'video';
    // Audio that already is Opus needs no transcoding to Opus.
    const transcode = isVideo ? this.feedVideo : this.feedAudio && frame.codec !== 'opus';
    if (!transcode) {
      this.safeEmit('frame', frame);
      this.s.framesOut++;
      return true;
    }
    if (!legacyFlvCodec(frame)) {
      this.s.unsupportedFrames++;
      return false;
    }
    if (this.firstDts === undefined) this.firstDts = frame.dts;
    if (frame.config) {
      const prev = isVideo ? this.videoConfig : this.audioConfig;
      if (prev && sameBytes(prev, frame.body)) return true;
      const copy = frame.body.slice();
      if (isVideo) this.videoConfig = copy;
      else this.audioConfig = copy;
      if (this.headerWritten) this.writeTag(isVideo ? FLV_TAG_VIDEO : FLV_TAG_AUDIO, frame.dts, copy);
      return true;
    }
    const stdin = this.child?.stdin;
    if (!stdin?.writable) {
      this.s.droppedWhileStarting++;
      return false;
    }
    if (!this.headerWritten) {
      const ready = this.feedVideo
        ? isVideo && frame.key && this.videoConfig !== undefined
        : this.audioConfig !== undefined;
      if (!ready) {
        this.s.droppedWhileStarting++;
        return false;
      }
      this.writeHeaderAndConfigs(frame.dts);
    }
    const gateOnVideoKey = this.feedVideo;
    if (this.needKey && gateOnVideoKey) {
      if (!(isVideo && frame.key)) {
        this.s.droppedWhileStarting++;
        return false;
      }
      this.needKey = false;
    }
    if (this.dropping) {
      const drained = stdin.writableLength < this.maxBuffered / 2;
      if (drained && (!gateOnVideoKey || (isVideo && frame.key))) {
        this.dropping = false;
      } else {
        this.s.droppedBackpressure++;
        return false;
      }
    } else if (stdin.writableLength > this.maxBuffered) {
      this.dropping = true;
      this.s.droppedBackpressure++;
      this.log.warn('ffmpeg falls behind, dropping input up to the next keyframe', {
        buffered: stdin.writableLength,
      });
      return false;
    }
    (isVideo ? this.ingestVideo : this.ingestAudio).add(frame.dts, frame.ingestTime);
    this.writeTag(isVideo ? FLV_TAG_VIDEO : FLV_TAG_AUDIO, frame.dts, frame.body);
    return true;
  }

  /** Synchronous, idempotent: stops restarts and signals ffmpeg (SIGTERM, SIGKILL after 2 s). */
  close(): void {
    if (this._closed) return;
    this._closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (child) {
      child.stdin?.end();
      child.kill('SIGTERM');
      const t = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, KILL_GRACE_MS);
      child.once('exit', () => clearTimeout(t));
    }
    void this.childExit.then(() => this.safeEmit('close'));
  }

  /** Closes and resolves once ffmpeg has exited. */
  async stop(): Promise<void> {
    this.close();
    await this.childExit;
  }

  private writeHeaderAndConfigs(dts: number): void {
    const stdin = this.child?.stdin;
    if (!stdin) return;
    const header = encodeFlvHeader({
      video: this.feedVideo && this.videoConfig !== undefined,
      audio: this.feedAudio && this.audioConfig !== undefined,
    });
    stdin.write(header);
    this.s.bytesToFfmpeg += header.length;
    this.headerWritten = true;
    if (this.feedVideo && this.videoConfig) this.writeTag(FLV_TAG_VIDEO, dts, this.videoConfig);
    if (this.feedAudio && this.audioConfig) this.writeTag(FLV_TAG_AUDIO, dts, this.audioConfig);
  }

  private writeTag(type: number, dts: number, body: Uint8Array): void {
    const stdin = this.child?.stdin;
    if (!stdin?.writable) return;
    const ts = Math.max(0, Math.round(dts - (this.firstDts ?? dts)) + FEED_BASE_MS);
    const tag = encodeFlvTag({ type, timestamp: ts, body });
    this.s.bytesToFfmpeg += tag.length;
    stdin.write(tag);
  }

  private spawnChild(): void {
    const args = ffmpegArgs(this.template, { video: this.feedVideo, audio: this.feedAudio }, this.extraArgs);
    this.headerWritten = false;
    this.needKey = true;
    this.dropping = false;
    this.opusHeadSent = false;
    this.lastTicks.clear();
    this.wrapOffset.clear();
    this.childProducedOutput = false;
    this.childStartedAt = Date.now();
    this.stderrTail = '';
    const child = spawn(this.ffmpeg, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    trackChild(child);
    this.child = child;
    const demuxer = new MpegTsDemuxer((p) => this.onPes(p));
    let resolveExit!: () => void;
    this.childExit = new Promise<void>((r) => {
      resolveExit = r;
    });
    let exited = false;
    const onGone = (code: number | null, signal: string | null, err?: Error): void => {
      if (exited) return;
      exited = true;
      resolveExit();
      this.onChildExit(child, code, signal, err);
    };
    child.once('error', (err) => onGone(child.exitCode, child.signalCode, err));
    child.once('exit', (code, signal) => onGone(code, signal));
    child.stdin.on('error', () => {
      // EPIPE when ffmpeg dies: its exit is handled above.
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-STDERR_TAIL);
    });
    child.stdout.on('data', (chunk: Buffer) => {
      if (this.child !== child) return;
      this.s.bytesFromFfmpeg += chunk.length;
      try {
        demuxer.push(chunk);
      } catch (err) {
        this.log.warn('bad ffmpeg output, restarting it', { err: String(err) });
        child.kill('SIGKILL');
      }
    });
    if (child.pid !== undefined) {
      this.log.debug('ffmpeg started', { pid: child.pid });
      this.safeEmit('spawn', child.pid);
    }
  }

  private onChildExit(child: ChildProcess, code: number | null, signal: string | null, err?: Error): void {
    if (this.child === child) this.child = undefined;
    this.headerWritten = false;
    if (this._closed) return;
    const lived = Date.now() - this.childStartedAt;
    if (this.childProducedOutput && lived >= this.policy.stableAfterMs) this.failures = 0;
    this.failures++;
    if (this.failures > this.policy.maxConsecutiveFailures) {
      const e = new RtsError(
        'RTS_ERR_TRANSCODER_FAILED',
        `ffmpeg failed ${this.failures - 1} times in a row, giving up (last exit ${code ?? signal}): ${lastLine(this.stderrTail)}`,
        { cause: err },
      );
      this.safeEmit('error', e);
      this.close();
      return;
    }
    if (err) {
      this.safeEmit(
        'error',
        new RtsError('RTS_ERR_TRANSCODER_SPAWN', `ffmpeg: ${err.message}`, { cause: err }),
      );
    }
    const delayMs = Math.min(this.policy.initialDelayMs * 2 ** (this.failures - 1), this.policy.maxDelayMs);
    this.s.restarts++;
    this.log.warn('ffmpeg exited, restarting', { code, signal, delayMs, stderr: lastLine(this.stderrTail) });
    this.safeEmit('restart', {
      attempt: this.failures,
      delayMs,
      exitCode: code,
      signal,
      stderr: this.stderrTail,
    });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this._closed) this.spawnChild();
    }, delayMs);
  }

  /** 90 kHz ticks of `pid` → ms on the input timeline, unwrapping the 33-bit counter. */
  private toInputMs(pid: number, ticks: number): number {
    const last = this.lastTicks.get(pid);
    let off = this.wrapOffset.get(pid) ?? 0;
    if (last !== undefined && ticks + off < last - TS_WRAP / 2) {
      off += TS_WRAP;
      this.wrapOffset.set(pid, off);
    }
    const t = ticks + off;
    this.lastTicks.set(pid, t);
    return t / 90 - FEED_BASE_MS + (this.firstDts ?? 0);
  }

  private onPes(p: PesPacket): void {
    if (p.pts === undefined) return;
    this.childProducedOutput = true;
    if (p.kind === 'h264') {
      const dts = this.toInputMs(p.pid, p.dts ?? p.pts);
      const pts = dts + ((((p.pts - (p.dts ?? p.pts)) % TS_WRAP) + TS_WRAP) % TS_WRAP) / 90;
      const au = annexBToAvcc(p.data);
      const d = Math.round(dts);
      const ingest = this.ingestVideo.lookup(dts) ?? Date.now();
      if (au.sps && au.pps) {
        const cfg = encodeAvcConfig({ nalLengthSize: 4, sps: [au.sps], pps: [au.pps] });
        if (!this.lastAvcConfig || !sameBytes(cfg, this.lastAvcConfig)) {
          this.lastAvcConfig = cfg;
          const body = avcVideoBody(cfg, { key: true, config: true, cts: 0 });
          this.out(
            new OutFrame('video', 'h264', d, d, true, true, body, body.subarray(5), this.seq++, ingest),
          );
        }
      }
      if (au.avcc.length === 0) return;
      const cts = Math.round(pts) - d;
      const body = avcVideoBody(au.avcc, { key: au.key, config: false, cts });
      this.out(
        new OutFrame('video', 'h264', d, d + cts, au.key, false, body, body.subarray(5), this.seq++, ingest),
      );
      return;
    }
    if (p.kind === 'opus') {
      let t = this.toInputMs(p.pid, p.pts);
      if (!this.opusHeadSent) {
        this.opusHeadSent = true;
        const head = encodeOpusHead(2, OPUS_PRE_SKIP, 48000);
        const body = opusAudioBody(head, true);
        const d = Math.round(t);
        this.out(
          new OutFrame('audio', 'opus', d, d, true, true, body, body.subarray(5), this.seq++, Date.now()),
        );
      }
      for (const pkt of splitOpusAccessUnits(p.data)) {
        const d = Math.round(t);
        const body = opusAudioBody(pkt, false);
        const ingest = this.ingestAudio.lookup(t) ?? Date.now();
        this.out(
          new OutFrame('audio', 'opus', d, d, true, false, body, body.subarray(5), this.seq++, ingest),
        );
        t += opusPacketDurationMs(pkt);
      }
    }
  }

  private out(f: MediaFrame): void {
    this.s.framesOut++;
    this.safeEmit('frame', f);
  }

  /** Emits to each listener in turn; a throwing listener is logged and reported as 'listenererror'. */
  private safeEmit<K extends keyof TranscoderEvents>(event: K, ...args: TranscoderEvents[K]): void {
    if (event === 'error' && this.listenerCount('error') === 0) {
      this.log.error('transcoder error', { err: String(args[0]) });
      return;
    }
    for (const l of this.listeners(event as 'frame') as ((...a: unknown[]) => void)[]) {
      try {
        l(...args);
      } catch (err) {
        this.log.error('listener threw', { event, err: String(err) });
        if (event !== 'listenererror' && this.listenerCount('listenererror') > 0) {
          this.emit('listenererror', err instanceof Error ? err : new Error(String(err)));
        }
      }
    }
  }
}

/** ffmpeg 4.1 reads legacy FLV H.264 and AAC/MP3, not enhanced-RTMP FourCC bodies. */
function legacyFlvCodec(f: MediaFrame): boolean {
  const b0 = f.body[0];
  if (f.kind === 'video') return (b0 & 0x0f) === 7 && (b0 & 0x80) === 0;
  return b0 >> 4 !== 9;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function lastLine(s: string): string {
  const lines = s.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}
