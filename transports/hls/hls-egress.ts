import type { StreamFeedHub } from '../../actors/stream/stream-feed.js';
import type { EgressResponse, WorkerEgress } from '../../actors/stream/stream-host.js';
import type { Logger } from '../../engine/logging/logger.js';
import type { HttpLikeRequest } from '../../engine/threads/worker-messages.js';
import { HlsMuxer } from './hls-muxer.js';

export interface HlsEgressConfig {
  targetDurationMs: number;
  windowSegments: number;
  partTargetMs: number;
  llStartWith?: 'segment' | 'part';
  /** Mux only while someone asks: start at the first request, stop after `idleStopMs` without one. */
  onDemand: boolean;
  idleStopMs: number;
  /** After the publisher leaves, the playlist ends (EXT-X-ENDLIST) and stays this long. */
  endGraceMs: number;
}

/** A client counts as an HLS player for this long after its last request. */
const PLAYER_WINDOW_MS = 10_000;
/** How long a first playlist request waits for the first segment of a (re)started muxer. */
const FIRST_SEGMENT_WAIT_MS = 10_000;

interface HlsStream {
  key: string;
  stream: string;
  feed: StreamFeedHub;
  muxer?: HlsMuxer;
  unsubscribe?: () => void;
  lastRequest: number;
  clients: Map<string, number>;
  ended: boolean;
  closeTimer?: NodeJS.Timeout;
}

/**
 * HLS and LL-HLS on a stream worker: one HlsMuxer per stream fed from the stream's feed (so muxing
 * runs once per stream, off the main thread), started on demand and stopped when idle.
 * Immutable bodies (segments, parts, init) are copied once into shared memory so the main thread
 * can cache and serve them to every client without another copy.
 */
export class HlsEgress implements WorkerEgress {
  readonly kind = 'hls' as const;
  private readonly streams = new Map<string, HlsStream>();
  private readonly idleTimer: NodeJS.Timeout;

  constructor(
    private readonly config: HlsEgressConfig,
    private readonly logger: Logger,
  ) {
    this.idleTimer = setInterval(() => this.reapIdle(), Math.min(5000, config.idleStopMs));
    this.idleTimer.unref();
  }

  streamAttached(key: string, feed: StreamFeedHub): void {
    const stream = key.slice(key.lastIndexOf('/') + 1);
    const s: HlsStream = { key, stream, feed, lastRequest: 0, clients: new Map(), ended: false };
    this.streams.set(key, s);
    if (!this.config.onDemand) this.start(s);
  }

  streamDetached(key: string, _reason: string): void {
    const s = this.streams.get(key);
    if (!s) return;
    s.ended = true;
    s.unsubscribe?.();
    s.unsubscribe = undefined;
    s.muxer?.end();
    s.closeTimer = setTimeout(() => this.drop(s), this.config.endGraceMs);
    s.closeTimer.unref();
  }

  players(key: string): number {
    const s = this.streams.get(key);
    if (!s) return 0;
    const since = Date.now() - PLAYER_WINDOW_MS;
    let n = 0;
    for (const [client, t] of s.clients) {
      if (t >= since) n++;
      else s.clients.delete(client);
    }
    return n;
  }

  async handle(key: string, req: HttpLikeRequest): Promise<EgressResponse> {
    const s = this.streams.get(key);
    if (!s) return { status: 404, headers: {}, body: 'stream is not published\n' };
    const now = Date.now();
    s.lastRequest = now;
    const client = req.headers['x-remote-address'] ?? '?';
    if (s.clients.size < 100_000 || s.clients.has(client)) s.clients.set(client, now);
    if (!s.muxer) {
      if (s.ended) return { status: 404, headers: {}, body: 'stream ended\n' };
      this.start(s);
    }
    const muxer = s.muxer!;
    // A (re)started muxer has no whole segment yet: hold a first LL-HLS playlist request until it has one.
    if (req.path.endsWith('/ll.m3u8') && req.query._HLS_msn === undefined) {
      const until = now + FIRST_SEGMENT_WAIT_MS;
      while (!muxer.llReady && !muxer.closed && Date.now() < until)
        await new Promise((r) => setTimeout(r, 50));
    }
    const childQuery = new URLSearchParams(
      Object.entries(req.query).filter(([k]) => k === 'auth_key' || k === 'domain'),
    ).toString();
    let res = await muxer.handle({ path: req.path, query: req.query }, { childQuery });
    // A (re)started muxer has no segment yet: hold a first playlist request until it has one.
    const deadline = now + FIRST_SEGMENT_WAIT_MS;
    while (res.status === 404 && req.path.endsWith('.m3u8') && !muxer.closed && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      res = await muxer.handle({ path: req.path, query: req.query }, { childQuery });
    }
    const immutable = (res.headers['Cache-Control'] ?? '').includes('immutable');
    if (res.body instanceof Uint8Array && immutable) {
      const shared = new Uint8Array(new SharedArrayBuffer(res.body.length));
      shared.set(res.body);
      return { status: res.status, headers: res.headers, body: shared };
    }
    return res;
  }

  private start(s: HlsStream): void {
    const muxer = new HlsMuxer({
      stream: s.stream,
      targetDurationMs: this.config.targetDurationMs,
      windowSegments: this.config.windowSegments,
      partTargetMs: this.config.partTargetMs,
      ...(this.config.llStartWith ? { llStartWith: this.config.llStartWith } : {}),
      logger: this.logger.child(`hls[${s.key}]`),
    });
    s.muxer = muxer;
    s.unsubscribe = s.feed.subscribe(
      (f) => muxer.push(f),
      () => muxer.end(),
    );
    this.logger.debug('hls muxing started', { stream: s.key });
  }

  private reapIdle(): void {
    if (!this.config.onDemand) return;
    const cutoff = Date.now() - this.config.idleStopMs;
    for (const s of this.streams.values()) {
      if (s.muxer && !s.ended && s.lastRequest < cutoff && s.muxer.blockedRequests === 0) {
        s.unsubscribe?.();
        s.unsubscribe = undefined;
        s.muxer.close();
        s.muxer = undefined;
        this.logger.debug('hls muxing stopped (idle)', { stream: s.key });
      }
    }
  }

  private drop(s: HlsStream): void {
    if (this.streams.get(s.key) !== s) return;
    s.muxer?.close();
    this.streams.delete(s.key);
  }

  close(): void {
    clearInterval(this.idleTimer);
    for (const s of this.streams.values()) {
      clearTimeout(s.closeTimer);
      s.unsubscribe?.();
      s.muxer?.close();
    }
    this.streams.clear();
  }
}
