/**
 * LocalBus: the in-process Bus (the default, so a single node needs no NATS).
 *
 * Delivery is asynchronous (from a microtask), in publish order per subscription, and zero-copy:
 * subscribers receive the publisher's `Uint8Array` itself, so **subscribers must not mutate
 * `msg.data`** (and publishers must not reuse the buffer after publishing), exactly as if it had
 * crossed a socket. Semantics follow NATS core so code written against it runs unchanged on
 * NatsBus: `*`/`>` wildcards, queue groups (one member per message, round robin), request/reply
 * with NoRespondersError when nobody listens and TimeoutError otherwise, and KV buckets with a TTL.
 */
import { InvalidStateError, NoRespondersError, TimeoutError } from '../errors.js';
import { type Logger, silentLogger } from '../logging/logger.js';
import {
  type CountingSubscription,
  DEFAULT_MAX_PAYLOAD,
  DEFAULT_MAX_PENDING,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type ExtendedBus,
} from './bus-extensions.js';
import { QueueSubscription } from './queue-subscription.js';
import { StatusHub } from './status-hub.js';
import { assertPublishSubject, matchTokens, parseSubscriptionSubject } from './subject.js';
import type { BusKv, BusMessage, BusStatus, RequestOptions, SubscribeOptions } from './types.js';

/** The time source LocalBus needs (structurally compatible with the engine's Clock). */
export interface LocalBusClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Wall clock with unref'ed timers: a LocalBus never keeps the process alive by itself. */
export const systemBusClock: LocalBusClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface LocalBusOptions {
  logger?: Logger;
  clock?: LocalBusClock;
  /** Largest accepted payload (bytes); publishes above it throw RangeError, like NATS. */
  maxPayload?: number;
}

interface Group {
  members: Entry[];
  next: number;
}

interface Entry {
  sub: QueueSubscription;
  tokens: string[];
  exact: boolean;
  group: Group | undefined;
  groupKey: string | undefined;
}

interface PendingRequest {
  resolve: (msg: BusMessage) => void;
  reject: (err: Error) => void;
  timer: unknown;
}

const INBOX_PREFIX = '_INBOX.';
let busCounter = 0;

export class LocalBus implements ExtendedBus {
  readonly kind = 'local';
  readonly maxPayload: number;
  readonly #logger: Logger;
  readonly #clock: LocalBusClock;
  readonly #id = `L${(++busCounter).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  #exact = new Map<string, Entry[]>();
  #wild: Entry[] = [];
  #groups = new Map<string, Group>();
  #requests = new Map<string, PendingRequest>();
  #requestCounter = 0;
  #buckets = new Map<string, LocalKvStore>();
  #status = new StatusHub();
  #closed = false;
  #draining = false;
  #resolveClosed!: (err: Error | undefined) => void;
  #closedPromise = new Promise<Error | undefined>((r) => {
    this.#resolveClosed = r;
  });

  constructor(opts: LocalBusOptions = {}) {
    this.#logger = opts.logger ?? silentLogger;
    this.#clock = opts.clock ?? systemBusClock;
    this.maxPayload = opts.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  }

  get closed(): boolean {
    return this.#closed;
  }

  publish(
    subject: string,
    data: Uint8Array,
    opts?: { reply?: string; headers?: Record<string, string> },
  ): void {
    this.#assertOpen('publish');
    assertPublishSubject(subject);
    if (data.byteLength > this.maxPayload) {
      throw new RangeError(`payload of ${data.byteLength} bytes exceeds maxPayload ${this.maxPayload}`);
    }
    const msg: BusMessage = {
      subject,
      data,
      ...(opts?.reply !== undefined ? { reply: opts.reply } : {}),
      ...(opts?.headers !== undefined ? { headers: { ...opts.headers } } : {}),
    };
    this.#route(msg);
  }

  /** Delivers to every match; returns how many subscriptions (or a waiting request) got it. */
  #route(msg: BusMessage): number {
    const subject = msg.subject;
    if (subject.startsWith(INBOX_PREFIX)) {
      const pending = this.#requests.get(subject);
      if (pending !== undefined) {
        this.#requests.delete(subject);
        this.#clock.clearTimeout(pending.timer);
        queueMicrotask(() => pending.resolve(msg));
        return 1;
      }
    }
    let delivered = 0;
    let groups: Set<Group> | undefined;
    const offer = (e: Entry): void => {
      if (e.group === undefined) {
        e.sub.push(msg);
        delivered++;
      } else {
        groups ??= new Set();
        groups.add(e.group);
      }
    };
    const exact = this.#exact.get(subject);
    if (exact !== undefined) for (const e of exact) offer(e);
    if (this.#wild.length > 0) {
      const tokens = subject.split('.');
      for (const e of this.#wild) if (matchTokens(e.tokens, tokens)) offer(e);
    }
    if (groups !== undefined) {
      for (const g of groups as Set<Group>) {
        const member = g.members[g.next % g.members.length]!;
        g.next = (g.next + 1) % g.members.length;
        member.sub.push(msg);
        delivered++;
      }
    }
    return delivered;
  }

  subscribe(subject: string, opts: SubscribeOptions = {}): CountingSubscription {
    this.#assertOpen('subscribe');
    if (this.#draining) throw new InvalidStateError('bus is draining');
    const tokens = parseSubscriptionSubject(subject);
    const exact = !tokens.some((t) => t === '*' || t === '>');
    const groupKey = opts.queue !== undefined ? `${subject}\u0000${opts.queue}` : undefined;
    let entry: Entry | undefined;
    const sub = new QueueSubscription({
      subject,
      queue: opts.queue,
      callback: opts.callback,
      maxPending: opts.maxPending ?? DEFAULT_MAX_PENDING,
      deferCallbacks: true,
      onCallbackError: (err, msg) =>
        this.#logger.error('subscription callback threw', { subject: msg.subject, err: String(err) }),
      onEnd: () => this.#removeEntry(entry!),
    });
    let group: Group | undefined;
    if (groupKey !== undefined) {
      group = this.#groups.get(groupKey);
      if (group === undefined) {
        group = { members: [], next: 0 };
        this.#groups.set(groupKey, group);
      }
    }
    entry = { sub, tokens, exact, group, groupKey };
    group?.members.push(entry);
    if (exact) {
      const list = this.#exact.get(subject);
      if (list === undefined) this.#exact.set(subject, [entry]);
      else list.push(entry);
    } else {
      this.#wild.push(entry);
    }
    return sub;
  }

  #removeEntry(entry: Entry): void {
    if (entry.exact) {
      const subject = entry.sub.subject;
      const list = this.#exact.get(subject);
      if (list !== undefined) {
        const rest = list.filter((e) => e !== entry);
        if (rest.length === 0) this.#exact.delete(subject);
        else this.#exact.set(subject, rest);
      }
    } else {
      this.#wild = this.#wild.filter((e) => e !== entry);
    }
    const g = entry.group;
    if (g !== undefined) {
      const i = g.members.indexOf(entry);
      if (i >= 0) {
        g.members.splice(i, 1);
        if (g.next > i) g.next--;
        if (g.members.length === 0) this.#groups.delete(entry.groupKey!);
        else g.next %= g.members.length;
      }
    }
  }

  request(subject: string, data: Uint8Array, opts: RequestOptions = {}): Promise<BusMessage> {
    if (this.#closed) return Promise.reject(new InvalidStateError('bus is closed'));
    if (this.#draining) return Promise.reject(new InvalidStateError('bus is draining'));
    const inbox = `${INBOX_PREFIX}${this.#id}.${++this.#requestCounter}`;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    return new Promise<BusMessage>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        if (this.#requests.delete(inbox)) {
          reject(new TimeoutError(`request on ${subject} timed out after ${timeoutMs} ms`));
        }
      }, timeoutMs);
      this.#requests.set(inbox, { resolve, reject, timer });
      let delivered: number;
      try {
        assertPublishSubject(subject);
        delivered = this.#route({
          subject,
          data,
          reply: inbox,
          ...(opts.headers !== undefined ? { headers: { ...opts.headers } } : {}),
        });
      } catch (err) {
        this.#requests.delete(inbox);
        this.#clock.clearTimeout(timer);
        reject(err);
        return;
      }
      if (delivered === 0) {
        this.#requests.delete(inbox);
        this.#clock.clearTimeout(timer);
        reject(new NoRespondersError(subject));
      }
    });
  }

  respond(msg: BusMessage, data: Uint8Array): void {
    if (msg.reply === undefined) throw new TypeError(`message on ${msg.subject} carries no reply subject`);
    this.publish(msg.reply, data);
  }

  kv(bucket: string, opts: { ttlMs: number }): Promise<BusKv> {
    if (this.#closed) return Promise.reject(new InvalidStateError('bus is closed'));
    if (!(opts.ttlMs > 0)) return Promise.reject(new RangeError(`ttlMs must be > 0, got ${opts.ttlMs}`));
    let store = this.#buckets.get(bucket);
    if (store === undefined) {
      // The TTL is fixed when the bucket is created, as with a JetStream KV bucket.
      store = new LocalKvStore(bucket, opts.ttlMs, this.#clock, this.#logger);
      this.#buckets.set(bucket, store);
    }
    return Promise.resolve(store);
  }

  deleteKv(bucket: string): Promise<boolean> {
    if (this.#closed) return Promise.reject(new InvalidStateError('bus is closed'));
    const store = this.#buckets.get(bucket);
    if (store === undefined) return Promise.resolve(false);
    this.#buckets.delete(bucket);
    store.parentClosed();
    return Promise.resolve(true);
  }

  status(): AsyncIterable<BusStatus> {
    return this.#status.iterable();
  }

  flush(): Promise<void> {
    if (this.#closed) return Promise.reject(new InvalidStateError('bus is closed'));
    // Resolves after deliveries already queued as microtasks have run.
    return new Promise((resolve) => setImmediate(resolve));
  }

  async drain(): Promise<void> {
    if (this.#closed) return;
    if (this.#draining) {
      await this.#closedPromise;
      return;
    }
    this.#draining = true;
    const subs = new Set<QueueSubscription>();
    for (const list of this.#exact.values()) for (const e of list) subs.add(e.sub);
    for (const e of this.#wild) subs.add(e.sub);
    await Promise.all([...subs].map((s) => s.drain()));
    await this.close();
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    const entries = [...[...this.#exact.values()].flat(), ...this.#wild];
    for (const e of entries) e.sub.parentClosed();
    this.#exact.clear();
    this.#wild = [];
    this.#groups.clear();
    for (const [inbox, p] of this.#requests) {
      this.#clock.clearTimeout(p.timer);
      p.reject(new InvalidStateError(`bus closed before a reply on ${inbox}`));
    }
    this.#requests.clear();
    for (const store of this.#buckets.values()) store.parentClosed();
    this.#buckets.clear();
    this.#status.emit({ type: 'closed' });
    this.#resolveClosed(undefined);
    return Promise.resolve();
  }

  whenClosed(): Promise<Error | undefined> {
    return this.#closedPromise;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #assertOpen(op: string): void {
    if (this.#closed) throw new InvalidStateError(`cannot ${op}: bus is closed`);
  }
}

interface KvEntry {
  value: Uint8Array;
  expiresAt: number;
}

type KvWatcher = (key: string, value: Uint8Array | undefined) => void;

/** One in-process KV bucket: entries expire `ttlMs` after their last put. */
class LocalKvStore implements BusKv {
  readonly #name: string;
  readonly #ttlMs: number;
  readonly #clock: LocalBusClock;
  readonly #logger: Logger;
  #entries = new Map<string, KvEntry>();
  #watchers = new Set<KvWatcher>();
  #timer: unknown;
  #timerAt = Number.POSITIVE_INFINITY;
  #closed = false;

  constructor(name: string, ttlMs: number, clock: LocalBusClock, logger: Logger) {
    this.#name = name;
    this.#ttlMs = ttlMs;
    this.#clock = clock;
    this.#logger = logger;
  }

  get(key: string): Promise<Uint8Array | undefined> {
    if (this.#closed) return this.#rejectClosed();
    this.#expire();
    return Promise.resolve(this.#entries.get(key)?.value);
  }

  create(key: string, value: Uint8Array): Promise<boolean> {
    if (this.#closed) return this.#rejectClosed();
    this.#expire();
    if (this.#entries.has(key)) return Promise.resolve(false);
    this.#set(key, value);
    return Promise.resolve(true);
  }

  put(key: string, value: Uint8Array): Promise<void> {
    if (this.#closed) return this.#rejectClosed();
    this.#expire();
    this.#set(key, value);
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    if (this.#closed) return this.#rejectClosed();
    this.#expire();
    if (this.#entries.delete(key)) this.#notify(key, undefined);
    return Promise.resolve();
  }

  keys(): Promise<string[]> {
    if (this.#closed) return this.#rejectClosed();
    this.#expire();
    return Promise.resolve([...this.#entries.keys()]);
  }

  /** Replays the live entries, then reports puts, deletes and expiries (value undefined). */
  watch(callback: KvWatcher): { stop(): void } {
    if (this.#closed) throw new InvalidStateError(`KV bucket ${this.#name} is closed`);
    this.#expire();
    const snapshot = [...this.#entries].map(([k, e]) => [k, e.value] as const);
    let active = true;
    const watcher: KvWatcher = (key, value) => {
      if (!active) return;
      try {
        callback(key, value);
      } catch (err) {
        this.#logger.error('KV watch callback threw', { bucket: this.#name, key, err: String(err) });
      }
    };
    // The replay is queued before any later change notification (microtasks run in order).
    queueMicrotask(() => {
      for (const [k, v] of snapshot) watcher(k, v);
    });
    this.#watchers.add(watcher);
    return {
      stop: () => {
        active = false;
        this.#watchers.delete(watcher);
      },
    };
  }

  #set(key: string, value: Uint8Array): void {
    const expiresAt = this.#clock.now() + this.#ttlMs;
    // Re-insert so that Map order stays expiry order (every entry has the same TTL).
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt });
    this.#schedule(expiresAt);
    this.#notify(key, value);
  }

  #notify(key: string, value: Uint8Array | undefined): void {
    if (this.#watchers.size === 0) return;
    const watchers = [...this.#watchers];
    queueMicrotask(() => {
      for (const w of watchers) w(key, value);
    });
  }

  /** Removes expired entries (Map order is expiry order) and reports them. */
  #expire(): void {
    const now = this.#clock.now();
    for (const [key, e] of this.#entries) {
      if (e.expiresAt > now) break;
      this.#entries.delete(key);
      this.#notify(key, undefined);
    }
  }

  #schedule(at: number): void {
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(this.#onTimer, Math.max(0, at - this.#clock.now()));
  }

  #onTimer = (): void => {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    if (this.#closed) return;
    this.#expire();
    const first = this.#entries.values().next();
    if (!first.done) this.#schedule(first.value.expiresAt);
  };

  #rejectClosed<T>(): Promise<T> {
    return Promise.reject(new InvalidStateError(`KV bucket ${this.#name} is closed`));
  }

  parentClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#watchers.clear();
    this.#entries.clear();
  }
}
