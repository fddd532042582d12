import { Fifo } from './fifo.js';
import type { BusStatus } from './types.js';

/** Bound of unread status events per reader; the oldest are dropped past it. */
const MAX_BUFFERED_STATUS = 256;

/**
 * Fans bus status events out to any number of consumer-paced async iterables. Each reader first
 * gets the current state, then every later event, and its iteration ends after `closed`.
 */
export class StatusHub {
  #current: BusStatus = { type: 'connected' };
  #readers = new Set<Reader>();
  #ended = false;

  get current(): BusStatus {
    return this.#current;
  }

  emit(status: BusStatus): void {
    if (this.#ended) return;
    this.#current = status;
    if (status.type === 'closed') this.#ended = true;
    for (const r of this.#readers) r.push(status, this.#ended);
    if (this.#ended) this.#readers.clear();
  }

  iterable(): AsyncIterable<BusStatus> {
    return {
      [Symbol.asyncIterator]: (): AsyncIterator<BusStatus> => {
        const reader = new Reader(() => this.#readers.delete(reader));
        reader.push(this.#current, this.#ended);
        if (!this.#ended) this.#readers.add(reader);
        return reader;
      },
    };
  }
}

class Reader implements AsyncIterator<BusStatus> {
  #fifo = new Fifo<BusStatus>();
  #waiter: ((r: IteratorResult<BusStatus>) => void) | undefined;
  #ended = false;
  #detach: () => void;

  constructor(detach: () => void) {
    this.#detach = detach;
  }

  push(status: BusStatus, last: boolean): void {
    if (this.#waiter !== undefined) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w({ value: status, done: false });
    } else {
      this.#fifo.push(status);
      if (this.#fifo.length > MAX_BUFFERED_STATUS) this.#fifo.shift();
    }
    if (last) this.#ended = true;
  }

  next(): Promise<IteratorResult<BusStatus>> {
    const s = this.#fifo.shift();
    if (s !== undefined) return Promise.resolve({ value: s, done: false });
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  return(): Promise<IteratorResult<BusStatus>> {
    this.#ended = true;
    this.#fifo.clear();
    this.#detach();
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  }
}
