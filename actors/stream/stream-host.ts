import type { Logger } from '../../engine/logging/logger.js';
import { PacketRingView } from '../../engine/memory/packet-ring.js';
import { RingFollower } from '../../engine/memory/ring-follower.js';
import type { HttpLikeRequest } from '../../engine/threads/worker-messages.js';
import { type ActorLogic, type ActorRef, ActorSystem } from '../runtime/actor.js';
import { type StreamAnalysis, StreamAnalyzer } from './stream-analyzer.js';
import { StreamFeedHub } from './stream-feed.js';

/** A response from an egress on a worker; `body` bytes are handed to the main thread without a copy. */
export interface EgressResponse {
  status: number;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** A per-worker egress (HLS muxing, WebRTC) that plugs into the streams hosted on that worker. */
export interface WorkerEgress {
  readonly kind: 'hls' | 'whep';
  streamAttached(key: string, feed: StreamFeedHub): void;
  streamDetached(key: string, reason: string): void;
  handle(key: string, req: HttpLikeRequest, body?: Uint8Array): Promise<EgressResponse>;
  /** Players of this egress per stream (for the API). */
  players(key: string): number;
  /** The egress's totals for the node's API (`/api/v1/node`), when it has any. */
  stats?(): Record<string, unknown>;
  close(): void;
}

export interface StreamInfo extends StreamAnalysis {
  key: string;
  app: string;
  stream: string;
  domain: string;
  worker: number;
  skippedFrames: number;
  players: Record<string, number>;
  ended: boolean;
}

type StreamMsg = { type: 'info' } | { type: 'end'; reason: string };

interface StreamState {
  ended: boolean;
}

/**
 * The stream actor: one per published stream, on the worker the main thread placed it on. It owns
 * the per-stream work done off the main thread: following the shared ring once, analysing the
 * stream (codecs, GOP, B-frames, bitrate), and feeding the worker's egresses (HLS muxer, RTP).
 * Control messages go through its mailbox; media never does.
 */
export class StreamActorHost {
  readonly feed: StreamFeedHub;
  readonly analyzer = new StreamAnalyzer();
  private readonly follower: RingFollower;
  readonly actor: ActorRef<StreamMsg>;
  private lastDts = 0;

  constructor(
    system: ActorSystem,
    readonly key: string,
    readonly meta: { app: string; stream: string; domain: string; gen: number; worker: number },
    ringView: PacketRingView,
    private readonly egresses: readonly WorkerEgress[],
    private readonly logger: Logger,
  ) {
    this.follower = new RingFollower(
      ringView,
      (f) => {
        this.lastDts = f.dts;
        this.analyzer.push(f);
        this.feed.push(f);
      },
      () => this.actor.tell({ type: 'end', reason: 'publisher left' }),
      0,
    );
    this.feed = new StreamFeedHub(
      ringView,
      () => this.analyzer.snapshot(this.lastDts),
      () => this.follower.position,
    );
    const logic: ActorLogic<StreamState, StreamMsg> = {
      initial: () => ({ ended: false }),
      receive: (state, msg, ctx, reply) => {
        switch (msg.type) {
          case 'info': {
            reply(this.info(state.ended));
            return state;
          }
          case 'end': {
            if (state.ended) return state;
            this.follower.stop();
            this.feed.end(msg.reason);
            for (const e of this.egresses) e.streamDetached(key, msg.reason);
            this.logger.debug('stream ended', { key, reason: msg.reason });
            ctx.stop();
            return { ended: true };
          }
        }
      },
    };
    this.actor = system.spawn(`stream[${key}#${meta.gen}]`, logic);
    for (const e of this.egresses) e.streamAttached(key, this.feed);
    this.follower.start();
  }

  info(ended = false): StreamInfo {
    const players: Record<string, number> = {};
    for (const e of this.egresses) players[e.kind === 'whep' ? 'rts' : e.kind] = e.players(this.key);
    return {
      key: this.key,
      app: this.meta.app,
      stream: this.meta.stream,
      domain: this.meta.domain,
      worker: this.meta.worker,
      ...this.analyzer.snapshot(this.lastDts),
      skippedFrames: this.follower.skipped,
      players,
      ended,
    };
  }
}

export function newStreamSystem(logger: Logger): ActorSystem {
  return new ActorSystem(logger, (name, err) =>
    logger.error('stream actor failed', { name, error: err.message }),
  );
}

export { PacketRingView };
