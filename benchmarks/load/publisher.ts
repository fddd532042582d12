/**
 * Publishes the benchmark source in real time with our RtmpClient, looping the file with
 * continuous timestamps, and reports the wall-clock send time of every media tag.
 */
import { performance } from 'node:perf_hooks';
import { decodeAmf0All } from '../../media/amf0/index.js';
import type { Amf0Object } from '../../media/amf0/types.js';
import { RtmpClient } from '../../transports/rtmp/client.js';
import type { LoadedSource } from './media-source.js';
import { tagKey } from './tag-key.js';

export interface PublisherStats {
  tagsSent: number;
  bytesSent: number;
  loops: number;
  /** Worst delay of a send behind its schedule (ms): > a few ms means the client machine was late. */
  maxLateMs: number;
  /** Largest socket write queue seen (bytes): grows when the server does not read in time. */
  maxQueuedBytes: number;
}

export interface PublisherOptions {
  url: string;
  source: LoadedSource;
  /** Called for every media tag just before it is written (wall ms, timeOrigin + now). */
  onSent?: (key: number, sentAt: number) => void;
  connectTimeoutMs?: number;
}

const now = (): number => performance.timeOrigin + performance.now();

export class LoopPublisher {
  readonly #opts: PublisherOptions;
  #client: RtmpClient | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #startWall = 0;
  #index = 0;
  #loop = 0;
  readonly stats: PublisherStats = { tagsSent: 0, bytesSent: 0, loops: 0, maxLateMs: 0, maxQueuedBytes: 0 };
  /** Set when the connection closed before stop(). */
  error: Error | undefined;

  constructor(opts: PublisherOptions) {
    this.#opts = opts;
  }

  async start(): Promise<void> {
    const { url, source } = this.#opts;
    const client = await RtmpClient.connect(url, {
      timeoutMs: this.#opts.connectTimeoutMs ?? 10_000,
      chunkSize: 60_000,
    });
    this.#client = client;
    client.on('close', (err) => {
      if (!this.#stopped) {
        this.error = err ?? new Error('publisher connection closed by the server');
        this.#halt();
      }
    });
    await client.publish();
    for (const c of source.configs) {
      if (c.typeId === 18) {
        const values = decodeAmf0All(c.body);
        if (values[0] === 'onMetaData' && values[1] !== null && typeof values[1] === 'object') {
          client.writeMetadata(values[1] as Amf0Object);
          continue;
        }
      }
      client.writeMedia(c.typeId, 0, c.body);
    }
    this.#startWall = now();
    this.#tick();
  }

  #tick(): void {
    this.#timer = undefined;
    const client = this.#client;
    if (this.#stopped || client === undefined || client.closed) return;
    const { media, loopMs } = this.#opts.source;
    const base = media[0].timestamp;
    const t = now();
    const elapsed = t - this.#startWall;
    // Bounded per tick: never more than one loop of tags in one go.
    for (let n = 0; n < media.length; n++) {
      const tag = media[this.#index];
      const ts = this.#loop * loopMs + tag.timestamp - base;
      if (ts > elapsed) break;
      const late = elapsed - ts;
      if (late > this.stats.maxLateMs) this.stats.maxLateMs = late;
      const sentAt = now();
      this.#opts.onSent?.(tagKey(tag.typeId, ts), sentAt);
      client.writeMedia(tag.typeId, ts, tag.body);
      this.stats.tagsSent++;
      this.stats.bytesSent += tag.body.length;
      if (++this.#index === media.length) {
        this.#index = 0;
        this.#loop++;
        this.stats.loops = this.#loop;
      }
    }
    const q = client.writableLength;
    if (q > this.stats.maxQueuedBytes) this.stats.maxQueuedBytes = q;
    const next = media[this.#index];
    const due = this.#loop * loopMs + next.timestamp - base;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, due - (now() - this.#startWall)));
  }

  #halt(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#halt();
    const c = this.#client;
    if (c === undefined || c.closed) return;
    const done = c.stop().catch(() => undefined);
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
    await Promise.race([done, timeout]);
    c.close();
  }
}
