import { cpus } from 'node:os';
import type { StreamInfo } from '../actors/stream/stream-host.js';
import { HttpServer } from '../transports/http/http-server.js';
import type { RtmpPlayer, RtmpPublishHandle, RtmpServerConnection } from '../transports/rtmp/connection.js';
import { RtmpServer } from '../transports/rtmp/server.js';
import type { RtmpStreamRequest } from '../transports/rtmp/session.js';
import { AccessPolicy, type AccessRequest, type PlayProtocol } from './access/access-policy.js';
import { rtsRefusal } from './access/rts-rules.js';
import { type Config, type ConfigInput, resolveConfig } from './config/config.js';
import { InvalidStateError, RefusedError } from './errors.js';
import { TypedEmitter } from './events/typed-emitter.js';
import { type Logger, silentLogger } from './logging/logger.js';
import { LiveStream } from './stream/live-stream.js';
import { RtmpFramePlayer } from './stream/rtmp-frame-player.js';
import type { StreamPlayer } from './stream/stream-player.js';
import { VariantManager } from './stream/variant-manager.js';
import { ByteMeter, LatencyHistogram, telemetry } from './telemetry/metrics.js';
import { StreamWorkerPool } from './threads/worker-pool.js';

export interface PublishContext {
  streamKey: string;
  app: string;
  stream: string;
  domain: string;
  protocol: 'rtmp';
  remoteAddress: string;
  query: Readonly<Record<string, string>>;
}

export interface PlayContext {
  streamKey: string;
  app: string;
  stream: string;
  domain: string;
  protocol: PlayProtocol | 'ws-flv';
  remoteAddress: string;
  query: Readonly<Record<string, string>>;
}

export type NodeEvents = {
  publish: [PublishContext];
  unpublish: [PublishContext & { reason: string }];
  play: [PlayContext];
  stop: [PlayContext & { reason: string; bytesOut: number }];
  listenererror: [string, unknown];
};

/** Async hooks: throw (a RefusedError, or any Error whose message is the reason) to refuse. */
export interface NodeHooks {
  onPublish?(ctx: PublishContext): void | Promise<void>;
  onPlay?(ctx: PlayContext): void | Promise<void>;
}

/**
 * What a cluster plugs into a node (engine/cluster, over NATS): a cluster-wide claim of stream
 * names, and pulling a stream published on another node through a relay when a player asks.
 */
export interface ClusterHooks {
  /** A local publish is starting: claim the name in the cluster; throw RefusedError(409) if taken. */
  claim(ctx: PublishContext, stream: LiveStream): Promise<void>;
  /** A local publish ended. */
  release(ctx: PublishContext, stream: LiveStream): void;
  /** No local stream for a player: start a relay from the origin; resolve false if none publishes it. */
  pull(ctx: PlayContext): Promise<boolean>;
  /** Cluster-wide view for the API. */
  describe?(): Promise<Record<string, unknown>>;
}

export interface NodeOptions {
  config?: ConfigInput;
  logger?: Logger;
  hooks?: NodeHooks;
}

/** The API's view of a stream: what the worker measured plus what the main thread counts. */
export interface StreamSummary extends Omit<StreamInfo, 'players'> {
  publisher: { id: string; protocol: string; remoteAddress: string; startedAt: string };
  players: Record<string, number>;
  bytesIn: number;
  bytesOut: number;
}

let nextPlayerId = 1;
/** How long an RTS request waits for a starting transcoded variant's sequence headers. */
const RTS_SOURCE_WAIT_MS = 8000;

/**
 * A node: the composition root. The main thread owns the TCP listeners (RTMP, HTTP) and their
 * sockets, the ingest path (parse once, write the shared ring once) and the TCP players; the
 * stream workers host the stream actors and their per-stream work (analysis, HLS, WebRTC).
 * See docs/architecture.md.
 */
export class RtsNode extends TypedEmitter<NodeEvents> {
  readonly config: Config;
  readonly logger: Logger;
  readonly access: AccessPolicy;
  readonly meter = new ByteMeter();
  readonly latency = new LatencyHistogram();
  private readonly streamsByKey = new Map<string, LiveStream>();
  /** Streams whose publisher left recently: HLS still serves their ended playlist for a grace period. */
  private readonly recentlyEnded = new Map<string, LiveStream>();
  private readonly hooks: NodeHooks;
  private cluster?: ClusterHooks;
  private pool?: StreamWorkerPool;
  private clusterHandle?: { close(): Promise<void> };
  /** Transcoded variants `{stream}_{templateId}`, started on demand. */
  readonly variants: VariantManager;
  private rtmp?: RtmpServer;
  private http?: HttpServer;
  private gen = 0;
  private state: 'new' | 'listening' | 'closing' | 'closed' = 'new';
  private closedPromise?: Promise<void>;
  /** Frames that did not parse, per node (aggregated in logs). */
  badFrames = 0;
  private badFrameLog = 0;

  constructor(opts: NodeOptions = {}) {
    super();
    this.config = resolveConfig(opts.config);
    this.logger = opts.logger ?? silentLogger;
    this.hooks = opts.hooks ?? {};
    this.access = new AccessPolicy(this.config.domains);
    this.variants = new VariantManager(
      {
        liveStream: (key) => this.streamsByKey.get(key),
        openRelayedStream: (key, app, name, domain, origin) =>
          this.openRelayedStream(key, app, name, domain, origin),
        endPublish: (stream, reason) => this.endPublish(stream, reason),
        playersOf: async (key) => {
          const s = await this.stream(key);
          return s ? Object.values(s.players).reduce((a, b) => a + b, 0) : 0;
        },
      },
      this.logger.child('variants'),
      this.config.transcode.templates,
      this.config.transcode.idleStopMs,
    );
  }

  get ports(): { rtmp: number; http: number } {
    return { rtmp: this.rtmpPort, http: this.httpPort };
  }
  private rtmpPort = 0;
  private httpPort = 0;

  get workers(): StreamWorkerPool {
    if (!this.pool) throw new InvalidStateError('node is not listening');
    return this.pool;
  }

  async listen(): Promise<{ rtmp: number; http: number }> {
    if (this.state !== 'new') throw new InvalidStateError(`node is ${this.state}`);
    this.state = 'listening';
    const c = this.config;
    const workers = c.workers > 0 ? c.workers : Math.max(1, cpus().length);
    this.pool = await StreamWorkerPool.start(
      workers,
      { logLevel: c.log.level, config: { rtc: c.rtc, hls: c.hls, host: c.host } },
      this.logger,
      undefined,
      { processes: c.rtc.processes, ringBytes: c.limits.ringBytes },
    );
    this.rtmp = new RtmpServer({
      logger: this.logger,
      limits: {
        maxMessageSize: c.rtmp.maxMessageSize,
        handshakeTimeoutMs: c.rtmp.handshakeTimeoutMs,
        idleTimeoutMs: c.rtmp.idleTimeoutMs,
        outChunkSize: c.rtmp.outChunkSize,
        maxConnections: c.limits.maxConnections,
      },
      handler: {
        onPublish: (req, conn) => this.rtmpPublish(req, conn),
        onPlay: (req, player) => this.rtmpPlay(req, player),
      },
    });
    this.rtmpPort = (await this.rtmp.listen(c.rtmp.port, c.host)).port;
    this.http = new HttpServer(this, this.logger.child('http'));
    this.httpPort = await this.http.listen(c.http.port, c.host);
    if (c.nats) {
      const { startCluster } = await import('./cluster/cluster.js');
      this.clusterHandle = await startCluster(this, c.nats);
    }
    this.logger.debug('accepting connections', { rtmp: this.rtmpPort, http: this.httpPort, workers });
    return this.ports;
  }

  // ---- publish -------------------------------------------------------------------------------

  private async rtmpPublish(req: RtmpStreamRequest, conn: RtmpServerConnection): Promise<RtmpPublishHandle> {
    const stream = await this.startPublish(
      {
        action: 'publish',
        protocol: 'rtmp',
        host: req.host,
        app: req.app,
        stream: req.name,
        uri: req.uri,
        query: req.query,
      },
      { id: `rtmp-${conn.id}`, protocol: 'rtmp', remoteAddress: conn.remoteAddress, startedAt: Date.now() },
    );
    let errors = 0;
    return {
      media: (msg) => {
        try {
          stream.ingest(
            msg.typeId,
            msg.timestamp,
            msg.payload,
            msg.name === undefined || msg.name === 'onMetaData',
          );
          errors = 0;
        } catch (err) {
          stream.badFrames++;
          this.noteBadFrame(stream, err);
          if (++errors >= 50)
            conn.close(new Error(`publisher sends frames that do not parse: ${String(err)}`));
        }
      },
      stop: (reason) => this.endPublish(stream, reason),
    };
  }

  private noteBadFrame(stream: LiveStream, err: unknown): void {
    this.badFrames++;
    const now = Date.now();
    if (now - this.badFrameLog > 5000) {
      this.badFrameLog = now;
      this.logger.warn('frames dropped: they do not parse', {
        stream: stream.key,
        total: this.badFrames,
        last: String(err),
      });
    }
  }

  /** Checks domain, auth and hooks, claims the stream name, and places the stream on a worker. */
  async startPublish(req: AccessRequest, publisher: LiveStream['publisher']): Promise<LiveStream> {
    if (this.state !== 'listening')
      throw new RefusedError('RTS_ERR_SHUTTING_DOWN', 'node is shutting down', 503);
    const v = this.access.check(req);
    if (!v.ok) throw new RefusedError(v.code, v.reason, v.status);
    const ctx: PublishContext = {
      streamKey: v.streamKey,
      app: req.app,
      stream: req.stream,
      domain: v.domain,
      protocol: 'rtmp',
      remoteAddress: publisher.remoteAddress,
      query: req.query,
    };
    await this.runHook(() => this.hooks.onPublish?.(ctx));
    if (this.streamsByKey.has(v.streamKey)) {
      throw new RefusedError(
        'RTS_ERR_STREAM_BUSY',
        `stream /${req.app}/${req.stream} is already being published`,
        409,
      );
    }
    const pool = this.workers;
    const worker = pool.place();
    const gen = ++this.gen;
    const stream = new LiveStream(
      v.streamKey,
      req.app,
      req.stream,
      v.ingestDomain,
      gen,
      worker,
      publisher,
      this.config.limits.ringBytes,
      this.latency,
      this.config.players.mergeWriteMs,
    );
    this.streamsByKey.set(v.streamKey, stream);
    (stream as { ctx?: PublishContext }).ctx = ctx;
    if (this.cluster && publisher.protocol !== 'relay') {
      try {
        await this.cluster.claim(ctx, stream);
      } catch (err) {
        this.streamsByKey.delete(v.streamKey);
        throw err instanceof RefusedError ? err : new RefusedError('RTS_ERR_CLUSTER', String(err), 503);
      }
    }
    pool.attach(worker, {
      key: v.streamKey,
      app: req.app,
      stream: req.stream,
      domain: v.ingestDomain,
      gen,
      ring: stream.ring.buffers,
    });
    this.logger.info('publish', {
      stream: v.streamKey,
      worker,
      from: publisher.remoteAddress,
      via: publisher.protocol,
    });
    if (publisher.protocol !== 'relay') this.safeEmit('publish', ctx);
    if (this.config.transcode.opusOnPublish && publisher.protocol !== 'relay') void this.prewarmOpus(stream);
    return stream;
  }

  /**
   * transcode.opusOnPublish: once the publisher's audio config is known, an AAC stream gets its
   * `audio-opus` variant at once, kept while the stream lives (RTS viewers then start without
   * waiting for ffmpeg). Looks for the audio config for up to 10 s.
   */
  private async prewarmOpus(stream: LiveStream): Promise<void> {
    for (let waited = 0; waited < 10_000 && !stream.ended; waited += 100) {
      const audio = stream.ring.config('audio');
      if (audio) {
        if (audio.codec === 'aac') this.variants.ensure(stream, 'audio-opus', { keep: true });
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * A stream fed by a relay from another node (or any in-process source): placed on a worker and
   * served on every protocol like a published one. Feed it with `stream.ingest()`, end it with
   * `endPublish()`. Domain rules were checked where it was published.
   */
  openRelayedStream(key: string, app: string, name: string, domain: string, origin: string): LiveStream {
    if (this.state !== 'listening')
      throw new RefusedError('RTS_ERR_SHUTTING_DOWN', 'node is shutting down', 503);
    const existing = this.streamsByKey.get(key);
    if (existing) return existing;
    const pool = this.workers;
    const worker = pool.place();
    const gen = ++this.gen;
    const stream = new LiveStream(
      key,
      app,
      name,
      domain,
      gen,
      worker,
      { id: `relay-${origin}`, protocol: 'relay', remoteAddress: origin, startedAt: Date.now() },
      this.config.limits.ringBytes,
      this.latency,
      this.config.players.mergeWriteMs,
    );
    this.streamsByKey.set(key, stream);
    pool.attach(worker, { key, app, stream: name, domain, gen, ring: stream.ring.buffers });
    this.logger.info('relayed stream opened', { stream: key, origin, worker });
    return stream;
  }

  /**
   * What an RTS (WebRTC) viewer of `stream` is served from, after the RTS rules: the stream itself,
   * or its `audio-opus` variant when the publisher sends AAC (browsers need Opus). The serving
   * stream is attached to the RTC worker. Throws RefusedError (406) naming the broken rule.
   */
  async rtsSource(stream: LiveStream): Promise<LiveStream> {
    const pool = this.workers;
    // the RTC processes start (once) while the rules are checked and a transcode starts
    const rtcReady = pool.rtc.ensure();
    rtcReady.catch(() => {});
    const info = await pool.info(stream.worker, stream.key);
    const refusal = rtsRefusal(info, stream.name);
    if (refusal) throw new RefusedError('RTS_ERR_RTS_RULE', refusal, 406);
    let serving = stream;
    if (stream.ring.config('audio')?.codec === 'aac') {
      const variant = this.variants.ensure(stream, 'audio-opus');
      if (!variant)
        throw new RefusedError('RTS_ERR_TRANSCODE', 'AAC needs an Opus transcode and none could start', 503);
      serving = variant;
    }
    // A variant that is just starting has no sequence headers yet: the answer needs its video (a
    // published stream with audio and no video plays audio only) and its audio when there is one.
    const audioOnly =
      stream.publisher.protocol !== 'transcoder' &&
      !stream.ring.config('video') &&
      !!stream.ring.config('audio');
    const wantAudio = !!stream.ring.config('audio');
    const ready = () =>
      (audioOnly || !!serving.ring.config('video')) &&
      (!wantAudio || serving.ring.config('audio')?.codec === 'opus');
    for (let waited = 0; !ready() && waited < RTS_SOURCE_WAIT_MS; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!ready())
      throw new RefusedError('RTS_ERR_TRANSCODE', 'the transcoded stream did not start in time', 503);
    try {
      await rtcReady;
    } catch (err) {
      throw new RefusedError('RTS_ERR_NO_RTC', `WebRTC is not available on this node: ${String(err)}`, 503);
    }
    return serving;
  }

  /** Plugs a cluster in (engine/cluster). */
  setCluster(cluster: ClusterHooks | undefined): void {
    this.cluster = cluster;
  }

  /** The local stream for a play request, pulled from the cluster when it lives on another node. */
  async findStream(ctx: PlayContext): Promise<LiveStream | undefined> {
    const local = this.streamsByKey.get(ctx.streamKey);
    if (local) return local;
    const variant = this.variants.ensureByKey(ctx.streamKey);
    if (variant || !this.cluster) return variant;
    if (await this.cluster.pull(ctx)) return this.streamsByKey.get(ctx.streamKey);
    return undefined;
  }

  endPublish(stream: LiveStream, reason: string): void {
    if (stream.ended) return;
    stream.end(reason);
    if (this.streamsByKey.get(stream.key) === stream) this.streamsByKey.delete(stream.key);
    this.pool?.detach(stream.worker, stream.key, stream.gen, reason);
    this.pool?.rtc.detach(stream.key, stream.gen, reason);
    this.recentlyEnded.set(stream.key, stream);
    setTimeout(() => {
      if (this.recentlyEnded.get(stream.key) === stream) this.recentlyEnded.delete(stream.key);
    }, this.config.hls.endGraceMs).unref();
    this.logger.info('unpublish', { stream: stream.key, reason, framesIn: stream.framesIn });
    const ctx = (stream as { ctx?: PublishContext }).ctx;
    if (ctx) {
      this.cluster?.release(ctx, stream);
      this.safeEmit('unpublish', { ...ctx, reason });
    }
  }

  // ---- play ----------------------------------------------------------------------------------

  /** Domain, auth and hooks for a play request; resolves with the stream key, or throws RefusedError. */
  async authorizePlay(
    req: AccessRequest,
    remoteAddress: string,
    protocol: PlayContext['protocol'],
  ): Promise<PlayContext> {
    if (this.state !== 'listening')
      throw new RefusedError('RTS_ERR_SHUTTING_DOWN', 'node is shutting down', 503);
    const v = this.access.check(req);
    if (!v.ok) throw new RefusedError(v.code, v.reason, v.status);
    const ctx: PlayContext = {
      streamKey: v.streamKey,
      app: req.app,
      stream: req.stream,
      domain: v.domain,
      protocol,
      remoteAddress,
      query: req.query,
    };
    await this.runHook(() => this.hooks.onPlay?.(ctx));
    return ctx;
  }

  liveStream(key: string): LiveStream | undefined {
    return this.streamsByKey.get(key);
  }

  /** A live stream, or one that ended within the HLS grace period. */
  liveOrRecentStream(key: string): LiveStream | undefined {
    return this.streamsByKey.get(key) ?? this.recentlyEnded.get(key);
  }

  /** Live streams with this app and name, on any domain. */
  *liveStreamsNamed(app: string, name: string): Iterable<LiveStream> {
    for (const s of this.streamsByKey.values()) if (s.app === app && s.name === name) yield s;
  }

  async clusterInfo(): Promise<Record<string, unknown> | undefined> {
    return this.cluster?.describe?.();
  }

  /** `/api/v1/node`: ports, counts, server-added latency of TCP players and of WebRTC viewers. */
  async nodeInfo(): Promise<Record<string, unknown>> {
    return {
      ports: this.ports,
      workers: this.pool?.size ?? 0,
      streams: this.streamsByKey.size,
      players: [...this.streamsByKey.values()].reduce((n, s) => n + s.players.size, 0),
      serverLatencyMs: this.latency.summary(),
      webrtc: await this.webrtcInfo(),
      badFrames: this.badFrames,
      bytesOut: this.meter.snapshot(),
    };
  }

  /** The RTC worker's WHEP totals (asked once per call), zeros while no RTS viewer came. */
  private async webrtcInfo(): Promise<Record<string, unknown>> {
    const idle = {
      sessions: 0,
      connected: 0,
      streams: 0,
      packetsSent: 0,
      retransmits: 0,
      nacks: 0,
      serverLatencyMs: { ...new LatencyHistogram().summary(), buckets: [] },
    };
    try {
      const stats = await this.pool?.rtc.stats();
      return (stats?.whep as Record<string, unknown> | undefined) ?? idle;
    } catch (err) {
      return { ...idle, error: String(err) };
    }
  }

  /** Adds a main-thread player to a live stream (GOP first); the returned function detaches it. */
  attachPlayer(ctx: PlayContext, player: StreamPlayer): () => void {
    const stream = this.streamsByKey.get(ctx.streamKey);
    if (!stream)
      throw new RefusedError(
        'RTS_ERR_STREAM_NOT_FOUND',
        `stream /${ctx.app}/${ctx.stream} is not published`,
        404,
      );
    stream.addPlayer(player);
    telemetry().players.add(1, { protocol: ctx.protocol });
    this.safeEmit('play', ctx);
    let done = false;
    return (reason = 'player left') => {
      if (done) return;
      done = true;
      stream.removePlayer(player);
      telemetry().players.add(-1, { protocol: ctx.protocol });
      this.meter.add(ctx.domain, ctx.protocol, player.bytesOut);
      this.safeEmit('stop', { ...ctx, reason, bytesOut: player.bytesOut });
    };
  }

  private async rtmpPlay(
    req: RtmpStreamRequest,
    player: RtmpPlayer,
  ): Promise<{ start(): void; stop(reason: string): void }> {
    const conn = player.connection;
    const ctx = await this.authorizePlay(
      {
        action: 'play',
        protocol: 'rtmp',
        host: req.host,
        app: req.app,
        stream: req.name,
        uri: req.uri,
        query: req.query,
      },
      conn.remoteAddress,
      'rtmp',
    );
    if (!(await this.findStream(ctx))) {
      throw new RefusedError(
        'RTS_ERR_STREAM_NOT_FOUND',
        `stream /${req.app}/${req.name} is not published`,
        404,
      );
    }
    const p = new RtmpFramePlayer(`rtmp-${nextPlayerId++}`, conn.socket, player, this.config.players);
    let detach: ((reason?: string) => void) | undefined;
    return {
      start: () => {
        try {
          detach = this.attachPlayer(ctx, p);
        } catch (err) {
          player.end(err instanceof Error ? err.message : String(err));
        }
      },
      stop: (reason) => detach?.(reason),
    };
  }

  private async runHook(fn: () => void | Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (err instanceof RefusedError) throw err;
      throw new RefusedError('RTS_ERR_HOOK_REFUSED', err instanceof Error ? err.message : String(err), 403);
    }
  }

  // ---- API -----------------------------------------------------------------------------------

  async streams(): Promise<StreamSummary[]> {
    const all = [...this.streamsByKey.values()];
    const out = await Promise.all(all.map((s) => this.summary(s).catch(() => undefined)));
    return out.filter((s): s is StreamSummary => s !== undefined);
  }

  async stream(key: string): Promise<StreamSummary | undefined> {
    const s = this.streamsByKey.get(key);
    return s ? this.summary(s) : undefined;
  }

  private async summary(s: LiveStream): Promise<StreamSummary> {
    const pool = this.workers;
    const info = await pool.info(s.worker, s.key);
    const players: Record<string, number> = { rtmp: 0, flv: 0, 'ws-flv': 0, hls: 0, rts: 0, ...info.players };
    if (pool.rtc.has(s.key, s.gen)) players.rts = await pool.rtc.players(s.key);
    let bytesOut = 0;
    for (const p of s.players) {
      players[p.protocol] = (players[p.protocol] ?? 0) + 1;
      bytesOut += p.bytesOut;
    }
    return {
      ...info,
      publisher: { ...s.publisher, startedAt: new Date(s.publisher.startedAt).toISOString() },
      players,
      bytesIn: s.bytesIn,
      bytesOut,
    };
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Ordered shutdown: stop accepting, tell publishers and players, close sockets, stop workers. */
  close(): Promise<void> {
    if (this.closedPromise) return this.closedPromise;
    this.closedPromise = (async () => {
      this.state = 'closing';
      await this.http?.stopAccepting();
      await this.rtmp?.drain('server shutting down');
      this.variants.close();
      for (const s of [...this.streamsByKey.values()]) this.endPublish(s, 'server shutting down');
      await this.clusterHandle?.close();
      await this.http?.close();
      await this.pool?.close();
      this.state = 'closed';
      this.logger.info('closed');
    })();
    return this.closedPromise;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Creates a node and starts listening (RTMP, HTTP, workers). */
export async function createNode(opts: NodeOptions = {}): Promise<RtsNode> {
  const node = new RtsNode(opts);
  await node.listen();
  return node;
}
