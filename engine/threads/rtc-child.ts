import type { ChildProcess } from 'node:child_process';
import type { MediaFrame } from '../../media/frame/media-frame.js';
import type { FrameBatch, FrameWire } from '../../transports/flv/frame-wire.js';
import type { Logger } from '../logging/logger.js';
import type { LiveStream } from '../stream/live-stream.js';
import type { StreamPlayer } from '../stream/stream-player.js';
import { telemetry } from '../telemetry/metrics.js';
import { encodeRtcFrame, type RtcFrame, type ToRtcProcess } from './rtc-frames.js';
import type { Wire } from './worker-messages.js';

/**
 * Feeds one stream's frames to one RTC process: one IPC message per fan-out batch. Frames count
 * against the process's window of unacknowledged bytes; when it is full the stream skips frames
 * (config frames still go) until the window is half empty and a video keyframe (a frame of any
 * kind for a stream without video) can start it again, as a slow TCP player is skipped.
 */
export class RtcTap implements StreamPlayer {
  readonly protocol = 'rts' as const;
  readonly bytesOut = 0;
  private skipping = false;
  private hasVideo = false;
  constructor(
    readonly id: string,
    private readonly child: RtcChild,
    /** The attach message: sent with the first batch (the replay of config frames and GOP). */
    private attach?: Wire,
  ) {}
  deliver(frame: MediaFrame): void {
    this.forward([frame]);
  }
  deliverBatch(frames: readonly FrameWire[], _batch?: FrameBatch): void {
    this.forward(frames.map((w) => w.frame));
  }
  private forward(frames: readonly MediaFrame[]): void {
    const child = this.child;
    const out: RtcFrame[] = [];
    for (const f of frames) {
      if (f.kind === 'video') this.hasVideo = true;
      // the attach replay always goes whole: it is what a new viewer starts from
      if (!this.attach && !f.config && !this.admit(f)) {
        child.skippedFrames++;
        continue;
      }
      out.push(encodeRtcFrame(f));
      child.inFlight += f.body.byteLength;
    }
    if (this.attach) {
      child.send({ w: this.attach, s: this.id, f: out });
      this.attach = undefined;
    } else if (out.length > 0) {
      child.send({ s: this.id, f: out });
    }
  }
  private admit(f: MediaFrame): boolean {
    const child = this.child;
    if (this.skipping) {
      const restart = this.hasVideo ? f.kind === 'video' && f.key : true;
      if (!restart || child.inFlight > child.window / 2) return false;
      this.skipping = false;
      child.onResumed(this.id);
      return true;
    }
    if (child.inFlight + f.body.byteLength <= child.window) return true;
    this.skipping = true;
    child.onSkipping(this.id);
    return false;
  }
  streamEnded(): void {}
}

export class RtcChild {
  proc?: ChildProcess;
  ready: Promise<void> = Promise.resolve();
  readonly streams = new Map<string, { gen: number; tap: RtcTap; stream: LiveStream }>();
  /** WHEP sessions placed here (POSTs answered since the last stats reading, plus that reading). */
  sessions = 0;
  restarts = 0;
  /** Frame bytes sent and not yet acknowledged by the process (reset when it restarts). */
  inFlight = 0;
  /** Frames not forwarded because the window was full, and how often a stream started skipping. */
  skippedFrames = 0;
  skipEpisodes = 0;
  constructor(
    readonly index: number,
    readonly window: number,
    private readonly logger: Logger,
  ) {}
  send(m: ToRtcProcess): void {
    if (this.proc?.connected) this.proc.send(m);
  }
  /** Bucket counts of the process's latency histogram at the last reading (for OTel deltas). */
  latencySeen = new Map<number, number>();
  /**
   * Records what the process's WebRTC latency histogram gained since the last reading into the
   * node's OTel histogram (`rts.server_latency`, protocol=webrtc): each new sample at its bucket's
   * upper bound (buckets are 15 % wide). A restarted process starts from zero again.
   */
  exportLatency(buckets: readonly [number, number][]): void {
    const h = telemetry().serverLatency;
    const attrs = { protocol: 'webrtc' };
    const next = new Map<number, number>();
    let recorded = 0;
    for (const [bound, n] of buckets) {
      next.set(bound, n);
      const seen = this.latencySeen.get(bound) ?? 0;
      const d = n >= seen ? n - seen : n;
      for (let i = 0; i < d && recorded < 100_000; i++, recorded++) h.record(bound, attrs);
    }
    this.latencySeen = next;
  }
  onSkipping(stream: string): void {
    this.skipEpisodes++;
    this.logger.warn('RTC process behind: skipping frames to the next keyframe', {
      index: this.index,
      stream,
      inFlight: this.inFlight,
    });
  }
  onResumed(stream: string): void {
    this.logger.info('RTC process caught up: stream resumed at a keyframe', { index: this.index, stream });
  }
}
