/**
 * Several nodes as one server, over a Bus (NATS in production, LocalBus in one process).
 *
 * - Names: a cluster-wide StreamDirectory (JetStream KV, entries kept alive by heartbeats, TTL a
 *   few seconds). A second publisher of a live stream on any node is refused (409), as on one node.
 * - Origin: the node holding the publisher runs ONE RelayPublisher per stream, fed by a RelayTap
 *   on the LiveStream: each frame crosses to NATS once, whatever the number of edges.
 * - Edge: a player asking a node for a stream it does not hold makes that node open ONE relayed
 *   stream per key (config + current GOP first), which then fans out on every protocol. It closes
 *   `relayIdleMs` after its last player left, and ends (players get end-of-stream) when the origin
 *   says the stream ended or its directory entry disappears for good.
 * - Membership and stats: every node publishes a small stats message each `statsIntervalMs`; every
 *   node aggregates them for `describe()` (GET /api/v1/cluster).
 * - Faults: see docs/cluster.md. In short: while NATS is unreachable a node keeps serving its own
 *   streams to its own players, frames for edges are skipped (counted), and claims fail OPEN
 *   locally (the publish is accepted and claimed in the background once NATS is back).
 */
import { hostname } from 'node:os';
import { flvTagTypeOf, type MediaFrame } from '../../media/frame/media-frame.js';
import { NatsBus } from '../../transports/nats/nats-bus.js';
import { StreamDirectory, type StreamEntry } from '../../transports/nats/stream-directory.js';
import { RelayPublisher, RelaySubscriber } from '../../transports/nats/stream-relay.js';
import { decodeMessage, encodeMessage } from '../bus/codec.js';
import { encodeSubjectToken } from '../bus/subject.js';
import type { Bus, BusSubscription } from '../bus/types.js';
import { RefusedError, TimeoutError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { ClusterHooks, PlayContext, PublishContext, RtsNode } from '../node.js';
import type { LiveStream } from '../stream/live-stream.js';
import { LagGate } from './lag-gate.js';
import { isRelayTap, RelayTap } from './relay-tap.js';

export interface ClusterOptions {
  /** NATS URL(s), comma-separated. */
  servers: string;
  nodeId: string;
  region?: string;
  /** Cluster name: scopes subjects and the directory bucket. Default `default`. */
  cluster?: string;
  /** Directory entry lifetime without heartbeat (heartbeat every ttl/3). Default 5000 ms. */
  ttlMs?: number;
  /** An edge's relayed stream closes this long after its last player left. Default 5000 ms. */
  relayIdleMs?: number;
  /** Period of the per-node stats message. Default 1000 ms. */
  statsIntervalMs?: number;
  /** An edge drops relayed frames this late (beyond its baseline) until a fresh keyframe. Default 1500 ms. */
  maxLagMs?: number;
  /** A claim that takes longer fails open. Default 2000 ms. */
  claimTimeoutMs?: number;
  /** Address other nodes and load balancers reach this node at; default the listen host or hostname. */
  announce?: string;
}

export interface ClusterHandle {
  close(): Promise<void>;
}

/** What the origin puts in its directory entry. */
export interface DirectoryInfo {
  app: string;
  name: string;
  domain: string;
  region?: string;
  address: string;
  ports: { rtmp: number; http: number };
}

/** The periodic per-node message (membership + stats), msgpackr on `{prefix}.node.stats`. */
export interface NodeStats {
  id: string;
  region?: string;
  address: string;
  ports: { rtmp: number; http: number };
  /** Wall clock (ms) when sent. */
  at: number;
  startedAt: number;
  connected: boolean;
  players: number;
  streams: { key: string; origin: boolean; players: number }[];
  relay: { origins: number; edges: number; framesSkipped: number; framesLost: number };
}

const DEFAULTS = {
  cluster: 'default',
  ttlMs: 5000,
  relayIdleMs: 5000,
  statsIntervalMs: 1000,
  claimTimeoutMs: 2000,
  maxLagMs: 1500,
};

/** Joins the node to a cluster over NATS: connects (reconnecting forever), then `ClusterMember`. */
export async function startCluster(node: RtsNode, opts: ClusterOptions): Promise<ClusterHandle> {
  const logger = node.logger.child('cluster');
  const bus = await NatsBus.connect({
    servers: opts.servers.split(',').map((s) => s.trim()),
    name: `rts-${opts.nodeId}`,
    logger: logger.child('nats'),
  });
  try {
    const member = await ClusterMember.start(node, bus, opts, logger);
    return {
      close: async () => {
        await member.close();
        await bus.close();
      },
    };
  } catch (err) {
    await bus.close();
    throw err;
  }
}

interface OriginRelay {
  readonly stream: LiveStream;
  readonly publisher: RelayPublisher;
  readonly tap: RelayTap;
  sendErrors: number;
}

interface EdgeRelay {
  readonly key: string;
  readonly stream: LiveStream;
  readonly sub: RelaySubscriber;
  readonly origin: string;
  readonly claimedAt: number;
  endSub?: BusSubscription;
  idleSince?: number;
  lastFrameAt: number;
  /** Snapshot delivered: live frames now pass the lag gate. */
  live: boolean;
  readonly gate: LagGate;
  /** Set while we check whether a vanished directory entry is really gone. */
  confirming?: boolean;
  closed: boolean;
}

/** One node's membership of a cluster; works over any Bus. */
export class ClusterMember {
  readonly nodeId: string;
  readonly prefix: string;
  readonly #node: RtsNode;
  readonly #bus: Bus;
  readonly #opts: Required<Omit<ClusterOptions, 'region' | 'announce'>> & { region?: string };
  readonly #logger: Logger;
  readonly #address: string;
  readonly #startedAt = Date.now();
  #directory!: StreamDirectory<DirectoryInfo>;
  #statsSub?: BusSubscription;
  #timers: NodeJS.Timeout[] = [];
  #origins = new Map<string, OriginRelay>();
  #edges = new Map<string, EdgeRelay>();
  #pulls = new Map<string, Promise<boolean>>();
  /** Local publishes accepted while the claim could not be made (fail open); retried. */
  #unclaimed = new Map<string, { ctx: PublishContext; stream: LiveStream; warned: boolean }>();
  /** Latest stats per node, with the local time it arrived (liveness never trusts remote clocks). */
  #nodes = new Map<string, NodeStats & { seenAt: number }>();
  #connected = true;
  #connectedSince = Date.now();
  #closed = false;
  /** Totals for stats and logs (aggregated, never per frame). */
  framesLost = 0;
  framesSkipped = 0;
  claimsFailedOpen = 0;

  static async start(node: RtsNode, bus: Bus, opts: ClusterOptions, logger: Logger): Promise<ClusterMember> {
    const m = new ClusterMember(node, bus, opts, logger);
    await m.#start();
    return m;
  }

  private constructor(node: RtsNode, bus: Bus, opts: ClusterOptions, logger: Logger) {
    this.#node = node;
    this.#bus = bus;
    this.#logger = logger;
    this.#opts = {
      servers: opts.servers,
      nodeId: opts.nodeId,
      region: opts.region,
      cluster: opts.cluster ?? DEFAULTS.cluster,
      ttlMs: opts.ttlMs ?? DEFAULTS.ttlMs,
      relayIdleMs: opts.relayIdleMs ?? DEFAULTS.relayIdleMs,
      statsIntervalMs: opts.statsIntervalMs ?? DEFAULTS.statsIntervalMs,
      claimTimeoutMs: opts.claimTimeoutMs ?? DEFAULTS.claimTimeoutMs,
      maxLagMs: opts.maxLagMs ?? DEFAULTS.maxLagMs,
    };
    this.nodeId = opts.nodeId;
    this.prefix = `rts.${encodeSubjectToken(this.#opts.cluster)}`;
    const host = node.config.host;
    this.#address = opts.announce ?? (host === '0.0.0.0' || host === '::' ? hostname() : host);
  }

  async #start(): Promise<void> {
    this.#directory = await StreamDirectory.open<DirectoryInfo>(this.#bus, {
      cluster: this.#opts.cluster,
      ttlMs: this.#opts.ttlMs,
      logger: this.#logger,
      onLost: (key, holder) => this.#stopOrigin(key, `claim lost to node ${holder?.nodeId ?? '?'}`),
    });
    this.#statsSub = this.#bus.subscribe(`${this.prefix}.node.stats`, {
      callback: (m) => {
        try {
          const s = decodeMessage<NodeStats>(m.data);
          if (typeof s?.id === 'string') this.#nodes.set(s.id, { ...s, seenAt: Date.now() });
        } catch (err) {
          this.#logger.debug('bad stats message', { err: String(err) });
        }
      },
    });
    void this.#followStatus();
    const every = (ms: number, fn: () => void | Promise<void>): void => {
      const t = setInterval(() => {
        void Promise.resolve()
          .then(fn)
          .catch((err: unknown) => this.#logger.warn('cluster timer failed', { err: String(err) }));
      }, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(this.#opts.statsIntervalMs, () => this.#publishStats());
    every(500, () => this.#sweepEdges());
    every(Math.max(250, Math.floor(this.#opts.ttlMs / 3)), () => this.#retryUnclaimed());
    this.#node.setCluster(this.hooks);
    void this.#publishStats().catch(() => {});
    this.#logger.info('joined cluster', {
      cluster: this.#opts.cluster,
      node: this.nodeId,
      region: this.#opts.region,
    });
  }

  readonly hooks: ClusterHooks = {
    claim: (ctx, stream) => this.#claim(ctx, stream),
    release: (ctx, stream) => this.#release(ctx, stream),
    pull: (ctx) => this.#pull(ctx),
    describe: () => this.describe(),
  };

  get connected(): boolean {
    return this.#connected;
  }

  // ---- origin --------------------------------------------------------------------------------

  async #claim(ctx: PublishContext, stream: LiveStream): Promise<void> {
    const key = ctx.streamKey;
    if (this.#connected) {
      let ok: boolean | undefined;
      try {
        ok = await withTimeout(
          this.#directory.claim(key, this.nodeId, this.#info(stream)),
          this.#opts.claimTimeoutMs,
          'claim',
        );
      } catch (err) {
        this.#logger.warn('claim failed; accepting the publish locally (fail open)', {
          stream: key,
          err: String(err),
        });
      }
      if (ok === false) {
        const holder = await this.#directory.lookup(key).catch(() => undefined);
        throw new RefusedError(
          'RTS_ERR_STREAM_BUSY',
          `stream /${ctx.app}/${ctx.stream} is already being published${holder ? ` on node ${holder.nodeId}` : ''}`,
          409,
        );
      }
      if (ok === undefined) this.#failOpen(ctx, stream);
    } else {
      this.#logger.warn('NATS is unreachable; accepting the publish locally (fail open)', { stream: key });
      this.#failOpen(ctx, stream);
    }
    this.#startOrigin(key, stream);
  }

  #failOpen(ctx: PublishContext, stream: LiveStream): void {
    this.claimsFailedOpen++;
    this.#unclaimed.set(ctx.streamKey, { ctx, stream, warned: false });
  }

  async #retryUnclaimed(): Promise<void> {
    if (!this.#connected || this.#unclaimed.size === 0) return;
    for (const [key, u] of [...this.#unclaimed]) {
      if (u.stream.ended || this.#closed) {
        this.#unclaimed.delete(key);
        continue;
      }
      const ok = await this.#directory.claim(key, this.nodeId, this.#info(u.stream)).catch(() => undefined);
      if (this.#unclaimed.get(key) !== u) continue;
      if (ok === true) {
        this.#unclaimed.delete(key);
        if (u.stream.ended) void this.#directory.release(key).catch(() => {});
        else this.#logger.info('stream claimed in the cluster after a fail-open publish', { stream: key });
      } else if (ok === false && !u.warned) {
        u.warned = true;
        this.#stopOrigin(key, 'published on another node too (accepted while NATS was down)');
      }
    }
  }

  #startOrigin(key: string, stream: LiveStream): void {
    const publisher = new RelayPublisher(this.#bus, {
      streamKey: key,
      prefix: this.prefix,
      logger: this.#logger,
    });
    const origin: OriginRelay = {
      stream,
      publisher,
      sendErrors: 0,
      tap: new RelayTap(
        `relay-tap-${key}`,
        (frame) => this.#originFrame(origin, frame),
        () => {},
      ),
    };
    this.#origins.set(key, origin);
    stream.addPlayer(origin.tap);
  }

  /**
   * Another node holds this name (a partition outlived the TTL, or a fail-open publish collided):
   * stop relaying so edges follow one origin only; local players keep playing.
   */
  #stopOrigin(key: string, why: string): void {
    const o = this.#origins.get(key);
    if (o) {
      this.#origins.delete(key);
      o.stream.removePlayer(o.tap);
      o.publisher.close();
    }
    this.#logger.warn('stream no longer relayed from this node; serving local players only', {
      stream: key,
      why,
    });
  }

  #originFrame(o: OriginRelay, frame: MediaFrame): void {
    if (o.publisher.closed) return;
    if (!this.#connected) {
      o.publisher.skip(frame);
      this.framesSkipped++;
      return;
    }
    try {
      o.publisher.publish(frame);
    } catch (err) {
      this.framesSkipped++;
      if (o.sendErrors++ % 1000 === 0) {
        this.#logger.warn('relay publish failed', {
          stream: o.stream.key,
          errors: o.sendErrors,
          err: String(err),
        });
      }
    }
  }

  #release(ctx: PublishContext, stream: LiveStream): void {
    const key = ctx.streamKey;
    const o = this.#origins.get(key);
    if (o?.stream === stream) {
      this.#origins.delete(key);
      stream.removePlayer(o.tap);
      o.publisher.close();
      if (!this.#bus.closed) {
        try {
          this.#bus.publish(
            this.#endSubject(key),
            encodeMessage({ reason: 'publisher left', node: this.nodeId }),
          );
        } catch {
          // the directory entry expires anyway
        }
      }
    }
    if (this.#unclaimed.get(key)?.stream === stream) this.#unclaimed.delete(key);
    if (!this.#directory.closed) {
      void this.#directory.release(key).catch((err: unknown) => {
        this.#logger.warn('could not release the claim; it expires', { stream: key, err: String(err) });
      });
    }
  }

  #info(stream: LiveStream): DirectoryInfo {
    return {
      app: stream.app,
      name: stream.name,
      domain: stream.domain,
      ...(this.#opts.region !== undefined ? { region: this.#opts.region } : {}),
      address: this.#address,
      ports: this.#node.ports,
    };
  }

  #endSubject(key: string): string {
    return `${this.prefix}.ctl.end.${encodeSubjectToken(key)}`;
  }

  // ---- edge ----------------------------------------------------------------------------------

  #pull(ctx: PlayContext): Promise<boolean> {
    const key = ctx.streamKey;
    const pending = this.#pulls.get(key);
    if (pending) return pending;
    const p = this.#doPull(ctx).finally(() => this.#pulls.delete(key));
    this.#pulls.set(key, p);
    return p;
  }

  async #doPull(ctx: PlayContext): Promise<boolean> {
    const key = ctx.streamKey;
    if (this.#closed || !this.#connected) return false;
    const existing = this.#edges.get(key);
    if (existing && !existing.closed) return true;
    let entry: StreamEntry<DirectoryInfo> | undefined;
    try {
      entry = await withTimeout(this.#directory.lookup(key), this.#opts.claimTimeoutMs, 'lookup');
    } catch (err) {
      this.#logger.warn('directory lookup failed', { stream: key, err: String(err) });
      return false;
    }
    if (!entry || entry.nodeId === this.nodeId || this.#closed) return false;
    const info = entry.info;
    const stream = this.#node.openRelayedStream(
      key,
      info.app ?? ctx.app,
      info.name ?? ctx.stream,
      info.domain ?? ctx.domain,
      entry.nodeId,
    );
    let bad = 0;
    const edge: EdgeRelay = {
      key,
      stream,
      origin: entry.nodeId,
      claimedAt: entry.claimedAt,
      lastFrameAt: Date.now(),
      closed: false,
      live: false,
      gate: new LagGate({ maxLagMs: this.#opts.maxLagMs }),
      sub: new RelaySubscriber(this.#bus, {
        streamKey: key,
        prefix: this.prefix,
        logger: this.#logger,
        onFrame: (f) => {
          const now = Date.now();
          edge.lastFrameAt = now;
          // The snapshot (GOP) is old by nature: gate live frames only.
          if (edge.live && edge.gate.check(now, f.ingestTime, f) === 'drop') return;
          try {
            stream.ingest(flvTagTypeOf(f.kind), f.dts, f.body, f.config);
          } catch (err) {
            if (bad++ % 1000 === 0)
              this.#logger.warn('relayed frame did not parse', { stream: key, total: bad, err: String(err) });
          }
        },
        onLoss: (n) => {
          this.framesLost += n;
        },
      }),
    };
    this.#edges.set(key, edge);
    edge.endSub = this.#bus.subscribe(this.#endSubject(key), {
      callback: (m) => {
        let reason = 'origin ended the stream';
        try {
          reason = `origin ${edge.origin}: ${decodeMessage<{ reason: string }>(m.data).reason}`;
        } catch {
          // keep the default reason
        }
        this.#closeEdge(edge, reason);
      },
    });
    try {
      const { snapshotFrames } = await edge.sub.start();
      edge.live = true;
      this.#logger.info('relaying stream from origin', { stream: key, origin: entry.nodeId, snapshotFrames });
    } catch (err) {
      this.#logger.warn('could not relay stream from origin', {
        stream: key,
        origin: entry.nodeId,
        err: String(err),
      });
      this.#closeEdge(edge, 'relay from origin failed');
      return false;
    }
    return !edge.closed;
  }

  #closeEdge(edge: EdgeRelay, reason: string): void {
    if (edge.closed) return;
    edge.closed = true;
    edge.sub.close();
    edge.endSub?.unsubscribe();
    if (this.#edges.get(edge.key) === edge) this.#edges.delete(edge.key);
    this.#node.endPublish(edge.stream, reason);
    this.#logger.info('relayed stream closed', {
      stream: edge.key,
      origin: edge.origin,
      reason,
      lost: edge.sub.lost,
    });
  }

  /** Closes idle relays; checks relays that stopped receiving frames against the directory. */
  async #sweepEdges(): Promise<void> {
    const now = Date.now();
    for (const edge of [...this.#edges.values()]) {
      if (edge.closed) continue;
      if (edge.stream.ended) {
        this.#closeEdge(edge, 'stream ended');
        continue;
      }
      const players = await this.#playersOf(edge.stream, true);
      if (players > 0) edge.idleSince = undefined;
      else {
        edge.idleSince ??= now;
        if (now - edge.idleSince >= this.#opts.relayIdleMs) {
          this.#closeEdge(edge, 'no players left');
          continue;
        }
      }
      if (this.#connected && (this.#originSilent(edge.origin) || now - edge.lastFrameAt > this.#opts.ttlMs)) {
        this.#confirmOrigin(edge);
      }
    }
  }

  /** No membership message from this node for 2.5 periods (since we joined, if never seen). */
  #originSilent(nodeId: string): boolean {
    const seen = this.#nodes.get(nodeId)?.seenAt ?? this.#startedAt;
    return Date.now() - seen > this.#silentMs();
  }

  /**
   * The origin went silent (or its frames stopped): end the relay once the origin is really gone
   * (its entry is absent or someone else's, and its stats stopped), not on a NATS hiccup.
   */
  #confirmOrigin(edge: EdgeRelay): void {
    if (edge.confirming || edge.closed) return;
    edge.confirming = true;
    const deadline = Date.now() + 10_000;
    const check = async (): Promise<void> => {
      if (edge.closed || this.#closed) return;
      let entry: StreamEntry<DirectoryInfo> | undefined | null = null;
      if (this.#connected) {
        entry = await withTimeout(this.#directory.lookup(edge.key), 1000, 'lookup').catch(() => null);
      }
      if (edge.closed) return;
      const now = Date.now();
      if (entry !== null && entry !== undefined) {
        if (entry.nodeId !== edge.origin || entry.claimedAt !== edge.claimedAt) {
          return this.#closeEdge(edge, `stream moved to node ${entry.nodeId}`);
        }
      }
      // Gone for sure: no membership message and no frame for a while, while WE were connected
      // long enough to have heard both (not a NATS hiccup on our side).
      const silentMs = this.#silentMs();
      const dead =
        this.#connected &&
        now - this.#connectedSince > silentMs &&
        this.#originSilent(edge.origin) &&
        now - edge.lastFrameAt > silentMs;
      if (dead) return this.#closeEdge(edge, `origin ${edge.origin} is gone`);
      if (entry === undefined && now > deadline)
        return this.#closeEdge(edge, `stream gone from the directory`);
      if (entry !== null && entry !== undefined && !this.#originSilent(edge.origin)) {
        edge.confirming = false;
        return;
      }
      if (now > deadline + 20_000) return this.#closeEdge(edge, `origin ${edge.origin} unreachable`);
      const t = setTimeout(() => void check(), 250);
      t.unref();
    };
    void check();
  }

  #silentMs(): number {
    return Math.max(2500, 2.5 * this.#opts.statsIntervalMs);
  }

  async #followStatus(): Promise<void> {
    for await (const s of this.#bus.status()) {
      if (this.#closed) return;
      if (s.type === 'disconnected') {
        this.#connected = false;
      } else if (s.type === 'reconnected' || s.type === 'connected') {
        this.#connected = true;
        this.#connectedSince = Date.now();
        void this.#retryUnclaimed();
      } else if (s.type === 'closed') {
        this.#connected = false;
        return;
      }
    }
  }

  // ---- stats and describe --------------------------------------------------------------------

  /** Players of a local stream: main-thread ones (without the relay tap) and worker-side ones. */
  async #playersOf(stream: LiveStream, quick = false): Promise<number> {
    let n = 0;
    for (const p of stream.players) if (!isRelayTap(p)) n++;
    if (quick && n > 0) return n;
    try {
      const info = await this.#node.workers.info(stream.worker, stream.key);
      for (const v of Object.values(info.players)) n += v;
    } catch {
      // worker busy or stream gone: main-thread count only
    }
    return n;
  }

  #localStreams(): LiveStream[] {
    const out = new Map<string, LiveStream>();
    for (const [k, o] of this.#origins) out.set(k, o.stream);
    for (const [k, e] of this.#edges) out.set(k, e.stream);
    for (const [k, u] of this.#unclaimed) out.set(k, u.stream);
    return [...out.values()].filter((s) => !s.ended);
  }

  async #stats(): Promise<NodeStats> {
    const streams = await Promise.all(
      this.#localStreams().map(async (s) => ({
        key: s.key,
        origin: s.publisher.protocol !== 'relay',
        players: await this.#playersOf(s),
      })),
    );
    let framesSkipped = 0;
    for (const o of this.#origins.values()) framesSkipped += o.publisher.framesSkipped;
    return {
      id: this.nodeId,
      ...(this.#opts.region !== undefined ? { region: this.#opts.region } : {}),
      address: this.#address,
      ports: this.#node.ports,
      at: Date.now(),
      startedAt: this.#startedAt,
      connected: this.#connected,
      players: streams.reduce((n, s) => n + s.players, 0),
      streams,
      relay: {
        origins: this.#origins.size,
        edges: this.#edges.size,
        framesSkipped,
        framesLost: this.framesLost,
      },
    };
  }

  async #publishStats(): Promise<void> {
    if (this.#closed) return;
    const s = await this.#stats();
    this.#nodes.set(this.nodeId, { ...s, seenAt: Date.now() });
    if (this.#connected && !this.#bus.closed)
      this.#bus.publish(`${this.prefix}.node.stats`, encodeMessage(s));
  }

  /** The cluster as this node sees it (GET /api/v1/cluster). */
  async describe(): Promise<Record<string, unknown>> {
    const now = Date.now();
    const stale = Math.max(5000, 5 * this.#opts.statsIntervalMs);
    for (const [id, s] of this.#nodes)
      if (id !== this.nodeId && now - s.seenAt > 60_000) this.#nodes.delete(id);
    const self = await this.#stats();
    this.#nodes.set(this.nodeId, { ...self, seenAt: now });
    const nodes = [...this.#nodes.values()].sort((a, b) => a.id.localeCompare(b.id));
    let entries: StreamEntry<DirectoryInfo>[] | undefined;
    try {
      entries = this.#connected ? await withTimeout(this.#directory.list(), 2000, 'list') : undefined;
    } catch {
      entries = undefined;
    }
    const streamKeys = new Set<string>(entries?.map((e) => e.streamKey) ?? []);
    const alive = nodes.filter((n) => now - n.seenAt <= stale);
    for (const n of alive) for (const s of n.streams) if (s.origin) streamKeys.add(s.key);
    const streams = [...streamKeys].sort().map((key) => {
      const e = entries?.find((x) => x.streamKey === key);
      const players: Record<string, number> = {};
      let total = 0;
      for (const n of alive) {
        const s = n.streams.find((x) => x.key === key);
        if (s) {
          players[n.id] = s.players;
          total += s.players;
        }
      }
      return {
        key,
        origin: e?.nodeId ?? alive.find((n) => n.streams.some((s) => s.key === key && s.origin))?.id,
        ...(e ? { app: e.info.app, name: e.info.name, claimedAt: new Date(e.claimedAt).toISOString() } : {}),
        players,
        totalPlayers: total,
      };
    });
    return {
      cluster: this.#opts.cluster,
      nodeId: this.nodeId,
      region: this.#opts.region,
      connected: this.#connected,
      directory: entries ? 'ok' : 'unavailable',
      nodes: nodes.map((n) => ({
        id: n.id,
        region: n.region,
        address: n.address,
        ports: n.ports,
        alive: now - n.seenAt <= stale,
        lastHeartbeat: new Date(n.at).toISOString(),
        players: n.players,
        streams: n.streams.length,
        relay: n.relay,
      })),
      streams,
      totalPlayers: alive.reduce((t, n) => t + n.players, 0),
      relays: {
        origins: [...this.#origins].map(([key, o]) => ({
          key,
          framesPublished: o.publisher.framesPublished,
          bytesPublished: o.publisher.bytesPublished,
          framesSkipped: o.publisher.framesSkipped,
          snapshotsServed: o.publisher.snapshotsServed,
        })),
        edges: [...this.#edges].map(([key, e]) => ({
          key,
          origin: e.origin,
          framesDelivered: e.sub.framesDelivered,
          lost: e.sub.lost,
          skipped: e.sub.skipped,
          resyncs: e.sub.resyncs,
          lateDropped: e.gate.dropped,
          lateSkips: e.gate.skips,
        })),
      },
      claimsFailedOpen: this.claimsFailedOpen,
    };
  }

  /** Ends relayed streams, stops relays, releases claims. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    for (const e of [...this.#edges.values()]) this.#closeEdge(e, 'node leaving the cluster');
    for (const o of this.#origins.values()) {
      o.stream.removePlayer(o.tap);
      o.publisher.close();
    }
    this.#origins.clear();
    this.#statsSub?.unsubscribe();
    if (this.#connected)
      await withTimeout(this.#directory.drain(), 2000, 'drain').catch(() => this.#directory.close());
    else this.#directory.close();
    this.#node.setCluster(undefined);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new TimeoutError(`${what} took more than ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(t);
        reject(err);
      },
    );
  });
}
