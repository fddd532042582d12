/**
 * The bus: how actors and nodes talk. The embedded implementation (LocalBus) is in-process;
 * transports/nats/ puts NATS behind the same interface. Nothing written against it may assume
 * one process: payloads are bytes (msgpackr-encoded by the caller or by the typed helpers),
 * subjects are NATS-style dot-separated tokens with `*` and `>` wildcards.
 */
export interface BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  /** Set when the sender expects an answer (request/reply). */
  readonly reply?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface BusSubscription extends AsyncIterable<BusMessage> {
  readonly subject: string;
  /** Stop delivery; pending messages are dropped. Idempotent. */
  unsubscribe(): void;
  readonly closed: boolean;
}

export interface SubscribeOptions {
  /** Queue group: each message goes to one member of the group. */
  queue?: string;
  /** Callback delivery (no async iterator buffering); errors thrown are contained and logged. */
  callback?: (msg: BusMessage) => void;
  /** Bound of the buffered messages for iterator delivery; older ones are dropped and counted. */
  maxPending?: number;
}

export interface RequestOptions {
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export type BusStatus =
  | { type: 'connected' }
  | { type: 'disconnected'; reason?: string }
  | { type: 'reconnected' }
  | { type: 'closed'; error?: Error };

/** Key-value store with per-entry expiry, used for the stream directory. */
export interface BusKv {
  get(key: string): Promise<Uint8Array | undefined>;
  /** Create only if absent (or expired); resolves false if the key exists. */
  create(key: string, value: Uint8Array): Promise<boolean>;
  put(key: string, value: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  keys(): Promise<string[]>;
  /** Watch changes; `value` undefined means deleted or expired. */
  watch(callback: (key: string, value: Uint8Array | undefined) => void): { stop(): void };
}

export interface Bus {
  /** `local` or `nats`. */
  readonly kind: string;
  readonly closed: boolean;
  publish(
    subject: string,
    data: Uint8Array,
    opts?: { reply?: string; headers?: Record<string, string> },
  ): void;
  subscribe(subject: string, opts?: SubscribeOptions): BusSubscription;
  /** Send and await one reply; rejects with TimeoutError or NoRespondersError. */
  request(subject: string, data: Uint8Array, opts?: RequestOptions): Promise<BusMessage>;
  /** Answer a message that carried `reply`. */
  respond(msg: BusMessage, data: Uint8Array): void;
  /** Open (or create) a KV bucket whose entries expire `ttlMs` after their last put. */
  kv(bucket: string, opts: { ttlMs: number }): Promise<BusKv>;
  /** Consumer-paced status stream (connects, disconnects, reconnects). */
  status(): AsyncIterable<BusStatus>;
  /** Flush pending publishes to the server (no-op locally). */
  flush(): Promise<void>;
  /** Ordered shutdown: stop subscriptions after their pending messages, then close. */
  drain(): Promise<void>;
  close(): Promise<void>;
}
