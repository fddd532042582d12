/**
 * NatsBus: the Bus over NATS core + JetStream KV (the classic `nats` client, v2).
 *
 * - Reconnects forever with back-off: the delay is half the time spent disconnected, from 250 ms
 *   up to 5 s, ±20 % jitter (so a short outage costs well under a second).
 * - Subscriptions deliver through the same bounded queue as LocalBus (`maxPending`, oldest
 *   dropped and counted in `dropped`); callbacks run straight from the socket reader.
 * - `request` maps the server's no-responders status to NoRespondersError and the client's
 *   timeout to TimeoutError.
 * - `kv(bucket, { ttlMs })` is a JetStream KV bucket (`max_age` = ttl, history 1, file storage).
 *   The TTL is fixed when the bucket is first created. JetStream removes aged entries without a
 *   watch event, so `watch` checks each key again when its age passes the TTL and reports the
 *   expiry itself. Bucket names are sanitized; keys are encoded reversibly (kv-names.ts).
 */
import {
  type ConnectionOptions,
  connect,
  ErrorCode,
  Events,
  type JetStreamClient,
  type KV,
  type KvEntry,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type NatsError,
  headers as natsHeaders,
  type Subscription,
} from 'nats';
import {
  type CountingSubscription,
  DEFAULT_MAX_PAYLOAD,
  DEFAULT_MAX_PENDING,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type ExtendedBus,
} from '../../engine/bus/bus-extensions.js';
import { QueueSubscription } from '../../engine/bus/queue-subscription.js';
import { StatusHub } from '../../engine/bus/status-hub.js';
import type {
  BusKv,
  BusMessage,
  BusStatus,
  RequestOptions,
  SubscribeOptions,
} from '../../engine/bus/types.js';
import { InvalidStateError, NoRespondersError, TimeoutError } from '../../engine/errors.js';
import { type Logger, silentLogger } from '../../engine/logging/logger.js';
import { decodeKvKey, encodeKvKey, sanitizeBucketName } from './kv-names.js';

export interface NatsBusConnectOptions {
  servers: string | string[];
  name?: string;
  logger?: Logger;
  /** First reconnect delay; doubles per failed attempt up to `maxReconnectDelayMs`. */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  /** How long the first connection may take (ms). */
  timeoutMs?: number;
}

/** JetStream API error "wrong last sequence": the key exists (kv.create lost). */
const JS_ERR_WRONG_LAST_SEQUENCE = 10071;
/** Extra wait past the TTL before asking the server whether a watched key has expired. */
const EXPIRY_CHECK_GRACE_MS = 200;

export class NatsBus implements ExtendedBus {
  readonly kind = 'nats';
  readonly #nc: NatsConnection;
  readonly #logger: Logger;
  #js: JetStreamClient | undefined;
  #subs = new Set<QueueSubscription>();
  #watchers = new Set<{ stop(): void }>();
  #status = new StatusHub();
  #closing = false;
  #draining = false;
  #closedPromise: Promise<Error | undefined>;

  static async connect(opts: NatsBusConnectOptions): Promise<NatsBus> {
    const base = opts.reconnectDelayMs ?? 250;
    const max = opts.maxReconnectDelayMs ?? 5000;
    // nats.js calls the handler on every turn of its dial loop (also while it waits), not once per
    // attempt, so a per-call counter backs off far too fast (a 0.5 s outage cost 5 s). The delay
    // is therefore half the time spent disconnected, between `base` and `max`: attempts come at
    // roughly geometric intervals from the disconnect on.
    let since = 0;
    const options: ConnectionOptions = {
      servers: opts.servers,
      maxReconnectAttempts: -1,
      reconnectDelayHandler: () => {
        const now = Date.now();
        if (since === 0) since = now;
        const d = Math.min(max, Math.max(base, (now - since) / 2));
        return d * (0.8 + Math.random() * 0.4);
      },
      timeout: opts.timeoutMs ?? 5000,
      ...(opts.name !== undefined ? { name: opts.name } : {}),
    };
    const nc = await connect(options);
    since = 0;
    return new NatsBus(nc, opts.logger ?? silentLogger, () => {
      since = 0;
    });
  }

  private constructor(nc: NatsConnection, logger: Logger, onReconnect: () => void) {
    this.#nc = nc;
    this.#logger = logger;
    void this.#watchStatus(onReconnect);
    this.#closedPromise = nc.closed().then(
      (err) => this.#onClosed(err ?? undefined),
      (err: unknown) => this.#onClosed(err instanceof Error ? err : new Error(String(err))),
    );
  }

  get closed(): boolean {
    return this.#closing || this.#nc.isClosed();
  }

  /** The server's `max_payload` (bytes). */
  get maxPayload(): number {
    return this.#nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  }

  /** The underlying connection, for what the Bus does not cover (tests, JetStream admin). */
  get connection(): NatsConnection {
    return this.#nc;
  }

  async #watchStatus(onReconnect: () => void): Promise<void> {
    for await (const s of this.#nc.status()) {
      switch (s.type) {
        case Events.Disconnect: {
          this.#logger.warn('disconnected from NATS', { server: String(s.data) });
          this.#status.emit({ type: 'disconnected', reason: `disconnected from ${String(s.data)}` });
          break;
        }
        case Events.Reconnect: {
          onReconnect();
          this.#logger.info('reconnected to NATS', { server: String(s.data) });
          this.#status.emit({ type: 'reconnected' });
          break;
        }
        case Events.Error: {
          this.#logger.error('NATS async error', { error: String(s.data) });
          break;
        }
        case Events.LDM: {
          this.#logger.warn('NATS server entering lame duck mode', { server: String(s.data) });
          break;
        }
        default: {
          break;
        }
      }
    }
  }

  #onClosed(err: Error | undefined): Error | undefined {
    this.#closing = true;
    for (const w of [...this.#watchers]) w.stop();
    this.#watchers.clear();
    for (const s of [...this.#subs]) {
      if (this.#draining) void s.drain();
      else s.parentClosed();
    }
    this.#status.emit(err !== undefined ? { type: 'closed', error: err } : { type: 'closed' });
    return err;
  }

  publish(
    subject: string,
    data: Uint8Array,
    opts?: { reply?: string; headers?: Record<string, string> },
  ): void {
    this.#assertOpen('publish');
    try {
      this.#nc.publish(subject, data, {
        ...(opts?.reply !== undefined ? { reply: opts.reply } : {}),
        ...(opts?.headers !== undefined ? { headers: toNatsHeaders(opts.headers) } : {}),
      });
    } catch (err) {
      throw mapNatsError(err, subject);
    }
  }

  subscribe(subject: string, opts: SubscribeOptions = {}): CountingSubscription {
    this.#assertOpen('subscribe');
    if (this.#draining) throw new InvalidStateError('bus is draining');
    let natsSub: Subscription | undefined;
    const sub = new QueueSubscription({
      subject,
      queue: opts.queue,
      callback: opts.callback,
      maxPending: opts.maxPending ?? DEFAULT_MAX_PENDING,
      deferCallbacks: false,
      onCallbackError: (err, msg) =>
        this.#logger.error('subscription callback threw', { subject: msg.subject, err: String(err) }),
      onEnd: (s) => {
        this.#subs.delete(s);
        if (natsSub !== undefined && !natsSub.isClosed() && !this.#draining && !this.#nc.isClosed()) {
          natsSub.unsubscribe();
        }
      },
    });
    try {
      natsSub = this.#nc.subscribe(subject, {
        ...(opts.queue !== undefined ? { queue: opts.queue } : {}),
        callback: (err, m) => {
          if (err !== null) {
            this.#logger.error('subscription error', { subject, err: err.message });
            return;
          }
          sub.push(fromNatsMsg(m));
        },
      });
    } catch (err) {
      throw mapNatsError(err, subject);
    }
    this.#subs.add(sub);
    return sub;
  }

  async request(subject: string, data: Uint8Array, opts: RequestOptions = {}): Promise<BusMessage> {
    if (this.closed) throw new InvalidStateError('bus is closed');
    if (this.#draining) throw new InvalidStateError('bus is draining');
    const timeout = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    try {
      const m = await this.#nc.request(subject, data, {
        timeout,
        ...(opts.headers !== undefined ? { headers: toNatsHeaders(opts.headers) } : {}),
      });
      return fromNatsMsg(m);
    } catch (err) {
      throw mapNatsError(err, subject, timeout);
    }
  }

  respond(msg: BusMessage, data: Uint8Array): void {
    if (msg.reply === undefined) throw new TypeError(`message on ${msg.subject} carries no reply subject`);
    this.publish(msg.reply, data);
  }

  async kv(bucket: string, opts: { ttlMs: number }): Promise<BusKv> {
    if (this.closed) throw new InvalidStateError('bus is closed');
    if (!(opts.ttlMs > 0)) throw new RangeError(`ttlMs must be > 0, got ${opts.ttlMs}`);
    this.#js ??= this.#nc.jetstream();
    const name = sanitizeBucketName(bucket);
    const kv = await this.#js.views.kv(name, { ttl: opts.ttlMs, history: 1 });
    const status = await kv.status();
    return new NatsKv(kv, status.ttl > 0 ? status.ttl : opts.ttlMs, this.#logger, this.#watchers);
  }

  /** Deletes a KV bucket and its entries (tests, decommissioning); false if it did not exist. */
  async deleteKv(bucket: string): Promise<boolean> {
    if (this.closed) throw new InvalidStateError('bus is closed');
    const jsm = await this.#nc.jetstreamManager();
    try {
      return await jsm.streams.delete(`KV_${sanitizeBucketName(bucket)}`);
    } catch (err) {
      if (err instanceof Error && /not found/i.test(err.message)) return false;
      throw err;
    }
  }

  status(): AsyncIterable<BusStatus> {
    return this.#status.iterable();
  }

  async flush(): Promise<void> {
    if (this.closed) throw new InvalidStateError('bus is closed');
    await this.#nc.flush();
  }

  async drain(): Promise<void> {
    if (this.closed || this.#draining) {
      await this.#closedPromise;
      return;
    }
    this.#draining = true;
    for (const w of [...this.#watchers]) w.stop();
    try {
      await this.#nc.drain();
    } catch (err) {
      this.#logger.warn('NATS drain failed; closing', { err: String(err) });
      await this.#nc.close();
    }
    await this.#closedPromise;
  }

  async close(): Promise<void> {
    if (!this.#nc.isClosed()) {
      this.#closing = true;
      await this.#nc.close();
    }
    await this.#closedPromise;
  }

  whenClosed(): Promise<Error | undefined> {
    return this.#closedPromise;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #assertOpen(op: string): void {
    if (this.closed) throw new InvalidStateError(`cannot ${op}: bus is closed`);
  }
}

class NatsKv implements BusKv {
  readonly #kv: KV;
  readonly #ttlMs: number;
  readonly #logger: Logger;
  readonly #watchers: Set<{ stop(): void }>;

  constructor(kv: KV, ttlMs: number, logger: Logger, watchers: Set<{ stop(): void }>) {
    this.#kv = kv;
    this.#ttlMs = ttlMs;
    this.#logger = logger;
    this.#watchers = watchers;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const e = await this.#kv.get(encodeKvKey(key));
    return e === null || e.operation !== 'PUT' ? undefined : e.value;
  }

  async create(key: string, value: Uint8Array): Promise<boolean> {
    try {
      await this.#kv.create(encodeKvKey(key), value);
      return true;
    } catch (err) {
      if (isWrongLastSequence(err)) return false;
      throw err;
    }
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    await this.#kv.put(encodeKvKey(key), value);
  }

  async delete(key: string): Promise<void> {
    await this.#kv.delete(encodeKvKey(key));
  }

  async keys(): Promise<string[]> {
    const out: string[] = [];
    for await (const k of await this.#kv.keys()) out.push(decodeKvKey(k));
    return out;
  }

  /**
   * Replays the live entries, then reports puts, deletes and expiries. Expiry is found by asking
   * the server again once an entry's age passes the TTL (JetStream sends no event for it).
   */
  watch(callback: (key: string, value: Uint8Array | undefined) => void): { stop(): void } {
    let stopped = false;
    let iter: { stop(): void } | undefined;
    /** Keys reported present, with their pending expiry check. */
    const live = new Map<string, NodeJS.Timeout>();
    const report = (key: string, value: Uint8Array | undefined): void => {
      if (stopped) return;
      try {
        callback(key, value);
      } catch (err) {
        this.#logger.error('KV watch callback threw', { key, err: String(err) });
      }
    };
    const arm = (encoded: string, created: number): void => {
      clearTimeout(live.get(encoded));
      const delay = Math.max(
        EXPIRY_CHECK_GRACE_MS,
        created + this.#ttlMs - Date.now() + EXPIRY_CHECK_GRACE_MS,
      );
      const t = setTimeout(() => void check(encoded), delay);
      t.unref();
      live.set(encoded, t);
    };
    const check = async (encoded: string): Promise<void> => {
      if (stopped || !live.has(encoded)) return;
      let e: KvEntry | null;
      try {
        e = await this.#kv.get(encoded);
      } catch (err) {
        this.#logger.debug('KV expiry check failed; retrying', { key: encoded, err: String(err) });
        if (!stopped && live.has(encoded)) arm(encoded, Date.now() - this.#ttlMs + 1000);
        return;
      }
      if (stopped || !live.has(encoded)) return;
      if (e === null || e.operation !== 'PUT') {
        live.delete(encoded);
        report(decodeKvKey(encoded), undefined);
      } else {
        arm(encoded, e.created.getTime());
      }
    };
    const handle = {
      stop: (): void => {
        if (stopped) return;
        stopped = true;
        this.#watchers.delete(handle);
        iter?.stop();
        for (const t of live.values()) clearTimeout(t);
        live.clear();
      },
    };
    this.#watchers.add(handle);
    void (async () => {
      const it = await this.#kv.watch();
      iter = it;
      if (stopped) {
        it.stop();
        return;
      }
      for await (const e of it) {
        const key = decodeKvKey(e.key);
        if (e.operation === 'PUT') {
          arm(e.key, e.created.getTime());
          report(key, e.value);
        } else if (live.has(e.key)) {
          clearTimeout(live.get(e.key));
          live.delete(e.key);
          report(key, undefined);
        }
      }
    })().catch((err: unknown) => {
      if (!stopped) this.#logger.error('KV watch ended with an error', { err: String(err) });
    });
    return handle;
  }
}

function isWrongLastSequence(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number } } | undefined;
  return e?.api_error?.err_code === JS_ERR_WRONG_LAST_SEQUENCE;
}

function toNatsHeaders(h: Record<string, string>): MsgHdrs {
  const out = natsHeaders();
  for (const [k, v] of Object.entries(h)) out.set(k, v);
  return out;
}

function fromNatsMsg(m: Msg): BusMessage {
  let headers: Record<string, string> | undefined;
  if (m.headers !== undefined) {
    headers = {};
    for (const k of m.headers.keys()) headers[k] = m.headers.get(k);
  }
  return {
    subject: m.subject,
    data: m.data,
    ...(m.reply !== undefined && m.reply !== '' ? { reply: m.reply } : {}),
    ...(headers !== undefined ? { headers } : {}),
  };
}

/** Maps client errors to the engine's classes (STYLE rule 6). */
function mapNatsError(err: unknown, subject: string, timeoutMs?: number): Error {
  const code = (err as Partial<NatsError> | undefined)?.code;
  switch (code) {
    case ErrorCode.NoResponders: {
      return new NoRespondersError(subject);
    }
    case ErrorCode.Timeout: {
      return new TimeoutError(`request on ${subject} timed out after ${timeoutMs ?? '?'} ms`, { cause: err });
    }
    case ErrorCode.ConnectionClosed:
    case ErrorCode.ConnectionDraining: {
      return new InvalidStateError(`NATS connection closed or draining (${subject})`, { cause: err });
    }
    case ErrorCode.MaxPayloadExceeded: {
      return new RangeError(`payload on ${subject} exceeds the server's max_payload`, { cause: err });
    }
    case ErrorCode.BadSubject: {
      return new TypeError(`invalid subject ${JSON.stringify(subject)}`, { cause: err });
    }
    default: {
      return err instanceof Error ? err : new Error(String(err));
    }
  }
}
