/**
 * Cluster-wide directory of live streams over `Bus.kv('rts-streams-<cluster>', { ttlMs })`: which
 * node holds the publisher of each stream key. Works over LocalBus (one process) and NatsBus
 * (JetStream KV).
 *
 * - `claim` is an atomic create: a second publisher of a live stream, on any node, is refused.
 * - The holder refreshes its entries every ttl/3; the entry of a node that dies (or is cut off)
 *   expires about ttl later, and the key can then be claimed again.
 * - A node that finds on heartbeat that its entry now belongs to another node drops the claim and
 *   reports it through `onLost` (it was partitioned longer than the TTL).
 */
import { decodeMessage, encodeMessage } from '../../engine/bus/codec.js';
import type { Bus, BusKv } from '../../engine/bus/types.js';
import { InvalidStateError } from '../../engine/errors.js';
import { type Logger, silentLogger } from '../../engine/logging/logger.js';

export interface StreamEntry<I = Record<string, unknown>> {
  readonly streamKey: string;
  readonly nodeId: string;
  readonly info: I;
  /** Wall clock (ms) of the claim. */
  readonly claimedAt: number;
  /** Wall clock (ms) of the last heartbeat. */
  readonly heartbeatAt: number;
}

export interface StreamDirectoryOptions {
  cluster: string;
  /** Entry lifetime without heartbeat; default 6000 ms (heartbeat every 2 s). */
  ttlMs?: number;
  logger?: Logger;
  /** A claim this node held was taken over by another node. */
  onLost?: (streamKey: string, holder: StreamEntry<unknown> | undefined) => void;
}

export const DEFAULT_DIRECTORY_TTL_MS = 6000;

interface WireEntry {
  readonly nodeId: string;
  readonly info: unknown;
  readonly claimedAt: number;
  readonly heartbeatAt: number;
}

interface Held {
  readonly nodeId: string;
  readonly info: unknown;
  readonly claimedAt: number;
}

export function directoryBucketName(cluster: string): string {
  return `rts-streams-${cluster}`;
}

export class StreamDirectory<I = Record<string, unknown>> {
  readonly bucket: string;
  readonly ttlMs: number;
  readonly #kv: BusKv;
  readonly #logger: Logger;
  readonly #onLost: StreamDirectoryOptions['onLost'];
  #held = new Map<string, Held>();
  #claiming = new Set<string>();
  #timer: NodeJS.Timeout;
  #beating = false;
  #closed = false;
  #watchers = new Set<{ stop(): void }>();
  /** Heartbeats that failed (bus down); the entry may expire if they keep failing. */
  heartbeatFailures = 0;

  static async open<I = Record<string, unknown>>(
    bus: Bus,
    opts: StreamDirectoryOptions,
  ): Promise<StreamDirectory<I>> {
    const ttlMs = opts.ttlMs ?? DEFAULT_DIRECTORY_TTL_MS;
    const bucket = directoryBucketName(opts.cluster);
    const kv = await bus.kv(bucket, { ttlMs });
    return new StreamDirectory<I>(kv, bucket, ttlMs, opts);
  }

  private constructor(kv: BusKv, bucket: string, ttlMs: number, opts: StreamDirectoryOptions) {
    this.#kv = kv;
    this.bucket = bucket;
    this.ttlMs = ttlMs;
    this.#logger = (opts.logger ?? silentLogger).child('stream-directory');
    this.#onLost = opts.onLost;
    this.#timer = setInterval(() => void this.#heartbeat(), Math.max(50, Math.floor(ttlMs / 3)));
    this.#timer.unref();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stream keys this directory holds a claim on. */
  get held(): string[] {
    return [...this.#held.keys()];
  }

  /**
   * Claims `streamKey` for `nodeId`. False when it is live elsewhere, or already held through
   * this directory (a second publisher on this node). An entry left by an earlier life of the
   * same node id (restart before expiry) is taken over.
   */
  async claim(streamKey: string, nodeId: string, info: I): Promise<boolean> {
    this.#assertOpen();
    if (this.#held.has(streamKey) || this.#claiming.has(streamKey)) return false;
    this.#claiming.add(streamKey);
    try {
      const now = Date.now();
      const wire: WireEntry = { nodeId, info, claimedAt: now, heartbeatAt: now };
      let ok = await this.#kv.create(streamKey, encodeMessage(wire));
      if (!ok) {
        const current = await this.lookup(streamKey);
        if (current === undefined) {
          ok = await this.#kv.create(streamKey, encodeMessage(wire));
        } else if (current.nodeId === nodeId) {
          await this.#kv.put(streamKey, encodeMessage(wire));
          ok = true;
        }
      }
      if (!ok || this.#closed) return false;
      this.#held.set(streamKey, { nodeId, info, claimedAt: now });
      return true;
    } finally {
      this.#claiming.delete(streamKey);
    }
  }

  /** Drops this node's claim and deletes the entry (if it is still ours). Idempotent. */
  async release(streamKey: string): Promise<void> {
    const held = this.#held.get(streamKey);
    if (held === undefined) return;
    this.#held.delete(streamKey);
    const current = await this.lookup(streamKey);
    if (current !== undefined && current.nodeId === held.nodeId && current.claimedAt === held.claimedAt) {
      await this.#kv.delete(streamKey);
    }
  }

  async lookup(streamKey: string): Promise<StreamEntry<I> | undefined> {
    const data = await this.#kv.get(streamKey);
    return data === undefined ? undefined : toEntry<I>(streamKey, data);
  }

  async list(): Promise<StreamEntry<I>[]> {
    const keys = await this.#kv.keys();
    const entries = await Promise.all(keys.map((k) => this.lookup(k)));
    return entries.filter((e): e is StreamEntry<I> => e !== undefined);
  }

  /**
   * Current entries, then changes: an entry on claim and on every heartbeat, `undefined` when the
   * stream is released or its node stopped heart-beating.
   */
  watch(callback: (streamKey: string, entry: StreamEntry<I> | undefined) => void): { stop(): void } {
    this.#assertOpen();
    const w = this.#kv.watch((key, value) => {
      let entry: StreamEntry<I> | undefined;
      if (value !== undefined) {
        try {
          entry = toEntry<I>(key, value);
        } catch (err) {
          this.#logger.warn('undecodable directory entry', { key, err: String(err) });
          return;
        }
      }
      callback(key, entry);
    });
    const handle = {
      stop: () => {
        w.stop();
        this.#watchers.delete(handle);
      },
    };
    this.#watchers.add(handle);
    return handle;
  }

  async #heartbeat(): Promise<void> {
    if (this.#beating || this.#closed || this.#held.size === 0) return;
    this.#beating = true;
    try {
      for (const [key, held] of [...this.#held]) {
        if (this.#closed) return;
        try {
          const current = await this.lookup(key);
          if (!this.#held.has(key)) continue;
          const wire: WireEntry = { ...held, heartbeatAt: Date.now() };
          if (current === undefined) {
            // Expired while we could not reach the bus: take it back if nobody else did.
            if (await this.#kv.create(key, encodeMessage(wire))) continue;
            this.#lose(key, await this.lookup(key));
          } else if (current.nodeId !== held.nodeId || current.claimedAt !== held.claimedAt) {
            this.#lose(key, current);
          } else {
            await this.#kv.put(key, encodeMessage(wire));
          }
        } catch (err) {
          this.heartbeatFailures++;
          this.#logger.warn('directory heartbeat failed', { streamKey: key, err: String(err) });
        }
      }
    } finally {
      this.#beating = false;
    }
  }

  #lose(key: string, holder: StreamEntry<I> | undefined): void {
    this.#held.delete(key);
    this.#logger.warn('stream claim lost to another node', { streamKey: key, holder: holder?.nodeId });
    try {
      this.#onLost?.(key, holder);
    } catch (err) {
      this.#logger.error('onLost threw', { err: String(err) });
    }
  }

  /** Stops heartbeats and watches; held entries expire after the TTL. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const w of [...this.#watchers]) w.stop();
    this.#held.clear();
  }

  /** Releases every claim, then closes. */
  async drain(): Promise<void> {
    if (this.#closed) return;
    await Promise.allSettled(this.held.map((k) => this.release(k)));
    this.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new InvalidStateError('stream directory is closed');
  }
}

function toEntry<I>(streamKey: string, data: Uint8Array): StreamEntry<I> {
  const w = decodeMessage<WireEntry>(data);
  return {
    streamKey,
    nodeId: w.nodeId,
    info: w.info as I,
    claimedAt: w.claimedAt,
    heartbeatAt: w.heartbeatAt,
  };
}
