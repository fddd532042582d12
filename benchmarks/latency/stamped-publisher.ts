/**
 * A real-time RTMP publisher whose every video frame carries the wall clock of the moment it was
 * handed to the encoder (see wallclock-stamp.ts).
 *
 * Node generates raw yuv420p frames at `fps` (a scrolling pattern plus the stamp painted with
 * `Date.now()` just before the write) into ffmpeg (`-f rawvideo -i pipe:0`, libx264 baseline,
 * `-tune zerolatency`, no B-frames, fixed GOP), which writes FLV to its stdout; a second ffmpeg
 * makes AAC from a sine (`-re -f lavfi`). Node reads both FLV streams and publishes the tags with
 * the engine's RtmpClient as soon as they come out of the encoders.
 *
 * Why not one `ffmpeg ... -f flv rtmp://`: ffmpeg's muxer interleaves by DTS, so each video packet
 * waits for an audio packet at least as late (AAC frames are 21 ms, with encoder priming on top):
 * that would add tens of ms that are ffmpeg's, not the system's. Reading the encoders' output
 * ourselves also times the encoder's share exactly: `encodedAt - stamp` per frame.
 *
 * RTMP timestamps: video = stamp - first stamp (capture time, as OBS does); audio = its FLV time,
 * shifted so its first packet lines up with the wall clock it came out at.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolveFfmpegPath } from '../../actors/transcoder/ffmpeg-binary.js';
import { RtmpClient } from '../../transports/rtmp/client.js';
import { DEFAULT_LAYOUT, paintStampYuv420p, type StampLayout } from './wallclock-stamp.js';

export interface StampedPublisherOptions {
  /** rtmp://host:port/app/stream */
  url: string;
  width?: number;
  height?: number;
  fps?: number;
  /** Keyframe interval in frames (default = fps: 1 s; RTS refuses > 3 s). */
  gop?: number;
  videoKbps?: number;
  /** Publish an AAC sine too (default true; the node transcodes it to Opus for WebRTC). */
  audio?: boolean;
  layout?: StampLayout;
  ffmpeg?: string;
  /** x264 preset (default ultrafast). */
  preset?: string;
}

export interface FrameTiming {
  /** Wall clock painted into the frame (ms). */
  stamp: number;
  /** Wall clock the encoded frame came out of ffmpeg (and was written to the RTMP socket). */
  encodedAt: number;
}

/** A streaming FLV reader: calls `onTag` with each complete tag (type, timestamp, body view). */
export class FlvTagReader {
  private buf: Buffer = Buffer.alloc(0);
  private headerDone = false;
  constructor(private readonly onTag: (type: number, ts: number, body: Buffer) => void) {}
  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let off = 0;
    if (!this.headerDone) {
      if (this.buf.length < 13) return;
      if (this.buf.toString('latin1', 0, 3) !== 'FLV') throw new Error('not an FLV stream');
      off = this.buf.readUInt32BE(5) + 4;
      this.headerDone = true;
    }
    while (this.buf.length - off >= 11) {
      const type = this.buf[off] & 0x1f;
      const size = this.buf.readUIntBE(off + 1, 3);
      if (this.buf.length - off < 11 + size + 4) break;
      const ts = (this.buf.readUIntBE(off + 4, 3) | (this.buf[off + 7] << 24)) >>> 0;
      // Copy: the body outlives this chunk (RtmpClient may queue it).
      this.onTag(type, ts, Buffer.from(this.buf.subarray(off + 11, off + 11 + size)));
      off += 11 + size + 4;
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
  }
}

export class StampedPublisher {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly layout: StampLayout;
  /** Frame number (as painted, mod 65536) → timing. */
  readonly frames = new Map<number, FrameTiming>();
  framesWritten = 0;
  framesEncoded = 0;
  /** Frames written while part of the previous frame still waited for ffmpeg to read it. */
  stdinBehind = 0;
  /** Most bytes still queued for ffmpeg's stdin when a frame was written. */
  maxQueuedBytes = 0;
  /** Largest lateness of a frame write behind its schedule (ms). */
  maxLateMs = 0;
  audioTags = 0;
  /** Wall clock minus RTMP timestamp of audio tags as they are sent (ms): first, min, max, last. */
  readonly audioLag = { first: Number.NaN, min: Infinity, max: -Infinity, last: Number.NaN };
  firstStamp = 0;
  private client!: RtmpClient;
  private video!: ChildProcess;
  private audio: ChildProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private audioOffset: number | undefined;
  private stderr = '';
  private readonly pattern: Uint8Array;

  constructor(readonly opts: StampedPublisherOptions) {
    this.width = opts.width ?? 1280;
    this.height = opts.height ?? 720;
    this.fps = opts.fps ?? 30;
    this.layout = opts.layout ?? DEFAULT_LAYOUT;
    // A diagonal luma ramp, twice the width, scrolled by a few px per frame.
    this.pattern = new Uint8Array(this.width * 2 + 256);
    for (let i = 0; i < this.pattern.length; i++) this.pattern[i] = 40 + ((i * 3) % 160);
  }

  /** ffmpeg's stderr (errors only), for failure messages. */
  log(): string {
    return this.stderr;
  }

  async start(): Promise<void> {
    const ff = this.opts.ffmpeg ?? resolveFfmpegPath();
    const kbps = this.opts.videoKbps ?? 1500;
    const gop = this.opts.gop ?? this.fps;
    this.client = await RtmpClient.connect(this.opts.url, { timeoutMs: 10_000, chunkSize: 60_000 });
    await this.client.publish();
    const keep = (d: Buffer): void => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    };
    // -threads 1 + zerolatency: no frame threads, no lookahead: a frame leaves as soon as it is coded.
    this.video = spawn(
      ff,
      [
        ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
        ...[
          '-f',
          'rawvideo',
          '-pix_fmt',
          'yuv420p',
          '-s',
          `${this.width}x${this.height}`,
          '-r',
          String(this.fps),
        ],
        ...['-i', 'pipe:0', '-an'],
        ...['-c:v', 'libx264', '-preset', this.opts.preset ?? 'ultrafast', '-tune', 'zerolatency'],
        ...['-profile:v', 'baseline', '-bf', '0', '-g', String(gop), '-keyint_min', String(gop)],
        ...['-sc_threshold', '0', '-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`],
        ...['-pix_fmt', 'yuv420p', '-flush_packets', '1', '-f', 'flv', 'pipe:1'],
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.video.stderr?.on('data', keep);
    this.video.stdin?.on('error', () => {});
    const vReader = new FlvTagReader((type, ts, body) => this.onVideoTag(type, ts, body));
    this.video.stdout?.on('data', (d: Buffer) => vReader.push(d));
    if (this.opts.audio ?? true) {
      this.audio = spawn(
        ff,
        [
          ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
          ...['-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-vn'],
          ...['-c:a', 'aac', '-b:a', '64k', '-ac', '2', '-flush_packets', '1', '-f', 'flv', 'pipe:1'],
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      this.audio.stderr?.on('data', keep);
      const aReader = new FlvTagReader((type, ts, body) => this.onAudioTag(type, ts, body));
      this.audio.stdout?.on('data', (d: Buffer) => aReader.push(d));
    }
    this.firstStamp = Date.now();
    const t0 = performance.now();
    const period = 1000 / this.fps;
    const tick = (): void => {
      if (this.stopped) return;
      const now = performance.now();
      // Every frame that is due (normally one; more after a stall, each stamped as it is written).
      while (t0 + this.framesWritten * period <= now) {
        const late = now - (t0 + this.framesWritten * period);
        if (late > this.maxLateMs) this.maxLateMs = late;
        this.writeFrame(this.framesWritten++);
      }
      const next = t0 + this.framesWritten * period - performance.now();
      this.timer = setTimeout(tick, Math.max(0, next));
    };
    tick();
  }

  private writeFrame(n: number): void {
    const w = this.width;
    const h = this.height;
    const frame = Buffer.allocUnsafe((w * h * 3) / 2);
    const shift = (n * 4) % w;
    for (let y = 0; y < h; y++)
      frame.set(this.pattern.subarray(shift + (y & 255), shift + (y & 255) + w), y * w);
    frame.fill(128, w * h);
    const seq = n & 0xffff;
    const stamp = Date.now();
    paintStampYuv420p(frame, w, h, stamp, seq, this.layout);
    this.frames.set(seq, { stamp, encodedAt: 0 });
    const queued = this.video.stdin?.writableLength ?? 0;
    if (queued > 0) this.stdinBehind++;
    if (queued > this.maxQueuedBytes) this.maxQueuedBytes = queued;
    this.video.stdin?.write(frame);
  }

  private onVideoTag(type: number, ts: number, body: Buffer): void {
    if (type !== 9 || this.client.closed) return;
    const isConfig = body.length > 1 && body[1] === 0;
    if (isConfig) {
      this.client.writeMedia(9, 0, body);
      return;
    }
    const n = Math.round((ts * this.fps) / 1000);
    const t = this.frames.get(n & 0xffff);
    const rtmpTs = t ? t.stamp - this.firstStamp : ts;
    this.client.writeMedia(9, rtmpTs, body);
    this.framesEncoded++;
    if (t) t.encodedAt = Date.now();
  }

  private onAudioTag(type: number, ts: number, body: Buffer): void {
    if (type !== 8 || this.client.closed) return;
    const isConfig = body.length > 1 && body[0] >> 4 === 10 && body[1] === 0;
    if (isConfig) {
      this.client.writeMedia(8, 0, body);
      return;
    }
    // First packet: align to the wall clock it came out at, minus one AAC frame of encoder delay.
    this.audioOffset ??= Math.max(0, Date.now() - this.firstStamp - ts - 21);
    this.client.writeMedia(8, ts + this.audioOffset, body);
    this.audioTags++;
    const lag = Date.now() - this.firstStamp - (ts + this.audioOffset);
    if (this.audioTags === 1) this.audioLag.first = lag;
    this.audioLag.last = lag;
    this.audioLag.min = Math.min(this.audioLag.min, lag);
    this.audioLag.max = Math.max(this.audioLag.max, lag);
  }

  /** Encoder share (encodedAt - stamp) of the frames that came out, in frame order. */
  encodeDelays(): number[] {
    const out: number[] = [];
    for (const t of this.frames.values()) if (t.encodedAt > 0) out.push(t.encodedAt - t.stamp);
    return out;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.video.stdin?.end();
    const procs = [this.video, this.audio].filter((p): p is ChildProcess => p !== undefined);
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null || p.signalCode !== null) return resolve();
            const t = setTimeout(() => p.kill('SIGKILL'), 3000);
            p.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            if (p !== this.video) p.kill('SIGTERM');
          }),
      ),
    );
    this.client.close();
  }
}
