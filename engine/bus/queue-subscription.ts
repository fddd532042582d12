import type { CountingSubscription } from './bus-extensions.js';
import { Fifo } from './fifo.js';
import type { BusMessage } from './types.js';

export interface QueueSubscriptionOptions {
  subject: string;
  queue?: string | undefined;
  callback?: ((msg: BusMessage) => void) | undefined;
  maxPending: number;
  /**
   * Callback mode only: true buffers pushes and delivers them from a microtask (LocalBus, whose
   * publishers call `push` synchronously); false calls the callback inside `push` (NatsBus, whose
   * pushes already come from the socket reader).
   */
  deferCallbacks: boolean;
  /** A throwing callback is reported here, never thrown into the publisher. */
  onCallbackError: (err: unknown, msg: BusMessage) => void;
  /** Called once when the subscription ends (unsubscribe, drain or bus close). */
  onEnd: (sub: QueueSubscription) => void;
}

/**
 * The delivery half shared by LocalBus and NatsBus: a bounded FIFO (oldest dropped and counted)
 * feeding either a callback or one async iterator.
 */
export class QueueSubscription implements CountingSubscription {
  readonly subject: string;
  readonly queue: string | undefined;
  #opts: QueueSubscriptionOptions;
  #fifo = new Fifo<BusMessage>();
  #dropped = 0;
  #closed = false;
  /** No more pushes; the iterator ends once the FIFO is empty. */
  #ending = false;
  #scheduled = false;
  #waiter: ((r: IteratorResult<BusMessage>) => void) | undefined;
  #flushed: (() => void)[] = [];
  #endNotified = false;

  constructor(opts: QueueSubscriptionOptions) {
    this.subject = opts.subject;
    this.queue = opts.queue;
    this.#opts = opts;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get dropped(): number {
    return this.#dropped;
  }

  get pending(): number {
    return this.#fifo.length;
  }

  /** True while the subscription accepts messages. */
  get active(): boolean {
    return !this.#closed && !this.#ending;
  }

  push(msg: BusMessage): void {
    if (this.#closed || this.#ending) return;
    const cb = this.#opts.callback;
    if (cb !== undefined && !this.#opts.deferCallbacks) {
      this.#invoke(cb, msg);
      return;
    }
    if (cb === undefined && this.#waiter !== undefined) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w({ value: msg, done: false });
      return;
    }
    this.#fifo.push(msg);
    if (this.#fifo.length > this.#opts.maxPending) {
      this.#fifo.shift();
      this.#dropped++;
    }
    if (cb !== undefined && !this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  #flush = (): void => {
    this.#scheduled = false;
    const cb = this.#opts.callback!;
    let msg = this.#fifo.shift();
    while (msg !== undefined && !this.#closed) {
      this.#invoke(cb, msg);
      msg = this.#fifo.shift();
    }
    if (this.#ending) this.#finish();
  };

  #invoke(cb: (msg: BusMessage) => void, msg: BusMessage): void {
    try {
      cb(msg);
    } catch (err) {
      this.#opts.onCallbackError(err, msg);
    }
  }

  /** Stops delivery now; pending messages are dropped. Idempotent. */
  unsubscribe(): void {
    if (this.#closed) return;
    this.#fifo.clear();
    this.#finish();
  }

  /** Closed by the bus (cascade). */
  parentClosed(): void {
    this.unsubscribe();
  }

  /**
   * Accept nothing more, deliver what is pending, then end. Resolves when callbacks have run
   * (callback mode) or at once (iterator mode: the iterator yields what is left, then ends).
   */
  drain(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#ending = true;
    if (this.#opts.callback === undefined) {
      if (this.#fifo.length === 0) this.#finish();
      else this.#notifyEnd();
      return Promise.resolve();
    }
    if (!this.#scheduled) {
      this.#finish();
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#flushed.push(resolve));
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ending = true;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.({ value: undefined, done: true });
    for (const r of this.#flushed.splice(0)) r();
    this.#notifyEnd();
  }

  #notifyEnd(): void {
    if (this.#endNotified) return;
    this.#endNotified = true;
    this.#opts.onEnd(this);
  }

  [Symbol.asyncIterator](): AsyncIterator<BusMessage> {
    if (this.#opts.callback !== undefined) {
      throw new TypeError('subscription uses callback delivery; it cannot also be iterated');
    }
    return {
      next: (): Promise<IteratorResult<BusMessage>> => {
        const msg = this.#fifo.shift();
        if (msg !== undefined) return Promise.resolve({ value: msg, done: false });
        if (this.#ending || this.#closed) {
          this.#finish();
          return Promise.resolve({ value: undefined, done: true });
        }
        if (this.#waiter !== undefined) throw new TypeError('subscription iterated by two readers at once');
        return new Promise((resolve) => {
          this.#waiter = resolve;
        });
      },
      return: (): Promise<IteratorResult<BusMessage>> => {
        this.unsubscribe();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
