import { randomBytes } from 'node:crypto';
import type { Logger } from '../../engine/logging/logger.js';
import type { LatencyHistogram } from '../../engine/telemetry/metrics.js';
import type { MediaFrame } from '../../media/frame/media-frame.js';
import { H264Packetizer } from './rtp/h264-packetizer.js';
import { OpusPacketizer } from './rtp/opus-packetizer.js';
import { PacketHistory } from './rtp/packet-history.js';
import type { RtpSource, RtpViewer } from './rtp-viewer.js';
import type { StreamFeed } from './types.js';

/** Payload types of the packets as built; each viewer gets its negotiated ones patched in. */
const BUILD_VIDEO_PT = 102;
const BUILD_AUDIO_PT = 111;

export interface StreamFanoutOptions {
  key: string;
  feed: StreamFeed;
  logger: Logger;
  now: () => number;
  maxPayload?: number;
  historyPackets?: number;
  /**
   * Server-added latency, recorded once per frame sent to ≥ 1 viewer: wall clock after the send to
   * the last viewer returned, minus the frame's ingest time (same wall clock, main thread).
   */
  latency?: LatencyHistogram;
  onEnd: (reason: string) => void;
}

/** Wall clock in ms, the one `ingestTime` is stamped with (any thread). */
const wallNow = (): number => performance.timeOrigin + performance.now();

/**
 * One stream's WebRTC egress: ONE subscription to the feed, each frame packetized once into RTP
 * packets kept in a shared history (NACK, GOP replay) and handed to every viewer, which only
 * patches its sequence number and timestamp.
 */
export class StreamFanout implements RtpSource {
  readonly key: string;
  readonly history: PacketHistory;
  readonly videoSsrc: number;
  readonly audioSsrc: number;
  readonly cname: string;
  readonly msid: string;
  gopStart = -1;
  framesIn = 0;
  packetsBuilt = 0;
  private readonly viewers = new Set<RtpViewer>();
  private readonly h264: H264Packetizer;
  private readonly opus: OpusPacketizer;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly latency: LatencyHistogram | undefined;
  private readonly videoTsBase: number;
  private readonly audioTsBase: number;
  private wallOffset: number | undefined;
  private unsubscribe: (() => void) | undefined;
  private isClosed = false;
  private readonly onEndCb: (reason: string) => void;
  private readonly ignored = new Set<string>();
  private errors = 0;

  constructor(opts: StreamFanoutOptions) {
    const rnd = randomBytes(16);
    this.key = opts.key;
    this.videoSsrc = rnd.readUInt32BE(0) || 1;
    this.audioSsrc = rnd.readUInt32BE(4) || 2;
    this.videoTsBase = rnd.readUInt32BE(8);
    this.audioTsBase = rnd.readUInt32BE(12);
    this.cname = randomBytes(8).toString('hex');
    this.msid = `rts-${randomBytes(6).toString('hex')}`;
    this.logger = opts.logger;
    this.now = opts.now;
    this.latency = opts.latency;
    this.onEndCb = opts.onEnd;
    this.history = new PacketHistory(opts.historyPackets ?? 4096);
    this.h264 = new H264Packetizer({
      ssrc: this.videoSsrc,
      payloadType: BUILD_VIDEO_PT,
      maxPayload: opts.maxPayload,
    });
    this.opus = new OpusPacketizer({ ssrc: this.audioSsrc, payloadType: BUILD_AUDIO_PT });
    // The feed replays config + the current GOP synchronously here: the history is primed at once.
    const unsubscribe = opts.feed.subscribe(
      (f) => this.onFrame(f),
      (reason) => this.end(reason),
    );
    if (this.isClosed) unsubscribe();
    else this.unsubscribe = unsubscribe;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** Adds a viewer whose transport is up: it starts at once from the cached GOP when there is one. */
  attach(viewer: RtpViewer): void {
    this.viewers.add(viewer);
    viewer.startFromGop(this, this.now());
  }

  detach(viewer: RtpViewer): void {
    this.viewers.delete(viewer);
  }

  videoTimestampAt(nowMs: number): number | undefined {
    return this.wallOffset === undefined
      ? undefined
      : (this.videoTsBase + Math.round((nowMs - this.wallOffset) * 90)) >>> 0;
  }

  audioTimestampAt(nowMs: number): number | undefined {
    return this.wallOffset === undefined
      ? undefined
      : (this.audioTsBase + Math.round((nowMs - this.wallOffset) * 48)) >>> 0;
  }

  /** Sender reports of every live viewer (called about once a second). */
  sendReports(nowMs: number): void {
    for (const v of this.viewers) v.sendReports(this, nowMs);
  }

  private onFrame(f: MediaFrame): void {
    if (this.isClosed) return;
    this.framesIn++;
    if (this.wallOffset === undefined && !f.config && f.kind !== 'data')
      this.wallOffset = f.ingestTime - f.pts;
    try {
      if (f.kind === 'video' && f.codec === 'h264') {
        if (f.config) {
          this.h264.setConfig(f.payload);
          return;
        }
        const ts = (this.videoTsBase + Math.round(f.pts * 90)) >>> 0;
        const packets = this.h264.packetize(f.payload, ts);
        if (packets.length === 0) return;
        const from = this.history.head;
        if (f.key) this.gopStart = from;
        for (const p of packets) this.history.push(p, ts);
        this.packetsBuilt += packets.length;
        // A GOP longer than the history cannot be replayed: new viewers wait for the next keyframe.
        if (this.gopStart >= 0 && this.gopStart < this.history.tail) this.gopStart = -1;
        const to = this.history.head;
        const now = this.now();
        for (const v of this.viewers) v.onVideoPackets(this, from, to, f.key, now);
        this.recordLatency(f.ingestTime);
        return;
      }
      if (f.kind === 'audio' && f.codec === 'opus') {
        if (f.config) return;
        const ts = (this.audioTsBase + Math.round(f.pts * 48)) >>> 0;
        const packets = this.opus.packetize(f.payload, ts);
        this.packetsBuilt += packets.length;
        for (const p of packets) for (const v of this.viewers) v.onAudioPacket(p, ts);
        this.recordLatency(f.ingestTime);
        return;
      }
      const what = `${f.kind}/${f.codec}`;
      if (f.kind !== 'data' && !this.ignored.has(what)) {
        this.ignored.add(what);
        this.logger.info('frames not sent over WebRTC', { stream: this.key, codec: what });
      }
    } catch (err) {
      // A bad frame is dropped; report the first and then every 100th, never per frame.
      if (this.errors++ % 100 === 0) {
        this.logger.warn('frame dropped', { stream: this.key, errors: this.errors, error: String(err) });
      }
    }
  }

  /** Once per frame, after its packets went to every viewer (SRTP + sendto ran inside each send). */
  private recordLatency(ingestTime: number): void {
    if (this.latency === undefined || this.viewers.size === 0 || !(ingestTime > 0)) return;
    this.latency.record(wallNow() - ingestTime);
  }

  private end(reason: string): void {
    if (this.isClosed) return;
    this.unsubscribe = undefined;
    this.close();
    this.onEndCb(reason);
  }

  /** Unsubscribes from the feed; viewers are closed by the service. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const u = this.unsubscribe;
    this.unsubscribe = undefined;
    u?.();
    this.viewers.clear();
    this.history.clear();
  }
}
