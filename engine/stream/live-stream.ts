import { performance } from 'node:perf_hooks';
import { flvMediaTagFields } from '../../media/flv/flv-tag-frame.js';
import {
  FLV_TAG_AUDIO,
  FLV_TAG_SCRIPT,
  FLV_TAG_VIDEO,
  type MediaFrame,
} from '../../media/frame/media-frame.js';
import { FrameBatch, FrameWire } from '../../transports/flv/frame-wire.js';
import { ProtocolError } from '../errors.js';
import { type FrameInput, PacketRingWriter } from '../memory/packet-ring.js';
import { type LatencyHistogram, telemetry } from '../telemetry/metrics.js';
import type { StreamPlayer } from './stream-player.js';

export interface PublisherInfo {
  id: string;
  protocol: string;
  remoteAddress: string;
  startedAt: number;
}

/**
 * A published stream on the node that owns its publisher socket (the main thread). `ingest()` is
 * the packet path: parse the FLV body once, copy it into the shared ring once, build the egress
 * header bytes once (FrameWire, lazily), and hand views to every local TCP player. Worker-side
 * consumers (HLS, RTP) follow the same ring on their own threads.
 */
export class LiveStream {
  readonly ring: PacketRingWriter;
  readonly players = new Set<StreamPlayer>();
  /** Internal consumers fed like players but not counted as players (RTC process feeds). */
  readonly taps = new Set<StreamPlayer>();
  readonly createdAt = Date.now();
  framesIn = 0;
  bytesIn = 0;
  badFrames = 0;
  private lastAttrs: { stream: string };
  ended = false;
  /**
   * Frames waiting for their fan-out: until the end of the current tick (low-latency mode), or for
   * `mergeWriteMs` (merged writes); then written to every player in one writev.
   */
  private merged: FrameWire[] = [];
  private mergeTimer?: NodeJS.Timeout;

  constructor(
    readonly key: string,
    readonly app: string,
    readonly name: string,
    readonly domain: string,
    readonly gen: number,
    readonly worker: number,
    readonly publisher: PublisherInfo,
    ringBytes: number,
    private readonly latency: LatencyHistogram,
    private readonly mergeWriteMs = 0,
  ) {
    this.ring = PacketRingWriter.create({ ringBytes });
    this.lastAttrs = { stream: key };
  }

  /** One RTMP media message (= FLV tag body). Throws ProtocolError for a body that does not parse. */
  ingest(typeId: number, timestamp: number, body: Uint8Array, metadata = true): MediaFrame | undefined {
    const input = this.toFrameInput(typeId, timestamp, body, metadata);
    if (!input) return undefined;
    this.framesIn++;
    this.bytesIn += body.length;
    telemetry().ingestBytes.add(body.length, this.lastAttrs);
    const frame = this.ring.write(input);
    if (this.players.size > 0 || this.taps.size > 0) {
      const wire = new FrameWire(frame);
      this.merged.push(wire);
      if (this.mergeWriteMs > 0) {
        this.mergeTimer ??= setTimeout(() => this.flushMerged(), this.mergeWriteMs);
      } else if (!this.tickScheduled) {
        // Low-latency mode: frames parsed from one socket read leave in one writev per player,
        // at the end of this tick (no timer, no added delay).
        this.tickScheduled = true;
        process.nextTick(this.flushTick);
      }
    }
    return frame;
  }

  private tickScheduled = false;
  private readonly flushTick = (): void => {
    this.tickScheduled = false;
    this.flushMerged();
  };

  private flushMerged(): void {
    this.mergeTimer = undefined;
    const batch = this.merged;
    if (batch.length === 0) return;
    this.merged = [];
    if (batch.length === 1) {
      const w = batch[0];
      for (const p of this.players) p.deliver(w.frame, w);
      for (const p of this.taps) p.deliver(w.frame, w);
    } else {
      const shared = new FrameBatch(batch);
      for (const p of this.players) p.deliverBatch(batch, shared);
      for (const p of this.taps) p.deliverBatch(batch, shared);
    }
    for (const w of batch) this.recordLatency(w.frame.ingestTime);
  }

  private recordLatency(ingestTime: number): void {
    const ms = performance.timeOrigin + performance.now() - ingestTime;
    this.latency.record(ms);
    telemetry().serverLatency.record(ms);
  }

  private toFrameInput(
    typeId: number,
    timestamp: number,
    body: Uint8Array,
    metadata: boolean,
  ): FrameInput | undefined {
    const ingestTime = performance.timeOrigin + performance.now();
    switch (typeId) {
      case FLV_TAG_VIDEO:
      case FLV_TAG_AUDIO: {
        const f = flvMediaTagFields(typeId, timestamp, body);
        return f && { ...f, body, ingestTime };
      }
      case FLV_TAG_SCRIPT: {
        return {
          kind: 'data',
          codec: 'amf',
          dts: timestamp,
          pts: timestamp,
          key: true,
          config: metadata,
          body,
          payloadOffset: 0,
          payloadLength: body.length,
          ingestTime,
        };
      }
      default: {
        throw new ProtocolError(
          'RTS_ERR_MEDIA_TYPE',
          `media message type ${typeId} is not audio, video or data`,
        );
      }
    }
  }

  /** A new player: config frames and the current GOP first, then live frames as they come. */
  addPlayer(p: StreamPlayer): void {
    this.replayStart(p);
    this.players.add(p);
  }

  /** A tap (not a player): config frames and the current GOP first, then live frames. */
  addTap(p: StreamPlayer): void {
    this.replayStart(p);
    this.taps.add(p);
  }

  removeTap(p: StreamPlayer): void {
    this.taps.delete(p);
  }

  private replayStart(p: StreamPlayer): void {
    this.flushMerged();
    const { configs, fromSeq } = this.ring.startFrames();
    const start = configs.map((c) => new FrameWire(c));
    const end = this.ring.writeSeq;
    for (let seq = fromSeq; seq < end; seq++) {
      const f = this.ring.frame(seq);
      if (f && !f.config) start.push(new FrameWire(f));
    }
    p.deliverBatch(start, new FrameBatch(start));
  }

  removePlayer(p: StreamPlayer): void {
    this.players.delete(p);
  }

  end(reason: string): void {
    if (this.ended) return;
    this.flushMerged();
    clearTimeout(this.mergeTimer);
    this.ended = true;
    this.ring.end();
    for (const p of [...this.players]) p.streamEnded(reason);
    for (const p of [...this.taps]) p.streamEnded(reason);
    this.taps.clear();
    this.players.clear();
  }
}
