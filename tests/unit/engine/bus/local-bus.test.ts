import { afterEach, describe, expect, it } from 'vitest';
import { LocalBus, type LocalBusClock } from '../../../../engine/bus/local-bus.js';
import type { BusMessage } from '../../../../engine/bus/types.js';
import { InvalidStateError, TimeoutError } from '../../../../engine/errors.js';

/** A clock whose time only moves when the test says so. */
class ManualClock implements LocalBusClock {
  #now = 1_000_000;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #id = 0;
  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#id;
    this.#timers.set(id, { at: this.#now + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.#timers.delete(h as number);
  }
  get pendingTimers(): number {
    return this.#timers.size;
  }
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      const next = [...this.#timers].sort((a, b) => a[1].at - b[1].at)[0];
      if (next === undefined || next[1].at > until) break;
      this.#timers.delete(next[0]);
      this.#now = next[1].at;
      next[1].fn();
    }
    this.#now = until;
  }
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('LocalBus', () => {
  let bus: LocalBus;
  afterEach(async () => {
    await bus?.close();
  });

  it('queue groups hand messages out round robin, exactly evenly', async () => {
    bus = new LocalBus();
    const counts = [0, 0, 0];
    for (let i = 0; i < 3; i++) bus.subscribe('jobs', { queue: 'q', callback: () => counts[i]!++ });
    for (let i = 0; i < 30; i++) bus.publish('jobs', bytes('x'));
    await tick();
    expect(counts).toEqual([10, 10, 10]);
  });

  it('a queue member that unsubscribes stops receiving and the others share its part', async () => {
    bus = new LocalBus();
    const counts = [0, 0];
    const s0 = bus.subscribe('jobs', { queue: 'q', callback: () => counts[0]!++ });
    bus.subscribe('jobs', { queue: 'q', callback: () => counts[1]!++ });
    s0.unsubscribe();
    for (let i = 0; i < 5; i++) bus.publish('jobs', bytes('x'));
    await tick();
    expect(counts).toEqual([0, 5]);
  });

  it('delivers the same Uint8Array without copying', async () => {
    bus = new LocalBus();
    const data = bytes('zero-copy');
    let got: BusMessage | undefined;
    bus.subscribe('z', { callback: (m) => (got = m) });
    bus.publish('z', data);
    await tick();
    expect(got?.data).toBe(data);
  });

  it('publish() throws RangeError above maxPayload, like NATS', () => {
    bus = new LocalBus({ maxPayload: 16 });
    expect(() => bus.publish('a', new Uint8Array(17))).toThrow(RangeError);
    expect(() => bus.publish('a', new Uint8Array(16))).not.toThrow();
  });

  it('request() times out on the injected clock', async () => {
    const clock = new ManualClock();
    bus = new LocalBus({ clock });
    bus.subscribe('slow', { callback: () => {} });
    const p = bus.request('slow', bytes('x'), { timeoutMs: 1000 });
    let settled = false;
    p.catch(() => {}).finally(() => (settled = true));
    clock.advance(999);
    await tick();
    expect(settled).toBe(false);
    clock.advance(1);
    await expect(p).rejects.toBeInstanceOf(TimeoutError);
    expect(clock.pendingTimers).toBe(0);
  });

  it('kv entries expire exactly ttlMs after their last put on the injected clock, and watch reports it', async () => {
    const clock = new ManualClock();
    bus = new LocalBus({ clock });
    const kv = await bus.kv('dir', { ttlMs: 1000 });
    const events: string[] = [];
    kv.watch((k, v) => events.push(`${k}:${v === undefined ? 'gone' : 'set'}`));
    await kv.put('a', bytes('1'));
    clock.advance(600);
    await kv.put('a', bytes('2')); // refresh
    await kv.put('b', bytes('1'));
    clock.advance(999);
    expect(await kv.keys()).toEqual(['a', 'b']);
    clock.advance(1);
    await tick();
    expect(await kv.keys()).toEqual([]);
    expect(events).toEqual(['a:set', 'a:set', 'b:set', 'a:gone', 'b:gone']);
    expect(await kv.create('a', bytes('3'))).toBe(true);
  });

  it('kv() keeps one store per bucket name: two nodes on one LocalBus see the same entries', async () => {
    bus = new LocalBus();
    const kv1 = await bus.kv('shared', { ttlMs: 10_000 });
    const kv2 = await bus.kv('shared', { ttlMs: 10_000 });
    expect(await kv1.create('k', bytes('1'))).toBe(true);
    expect(await kv2.create('k', bytes('2'))).toBe(false);
    expect(await bus.deleteKv('shared')).toBe(true);
    await expect(kv1.get('k')).rejects.toBeInstanceOf(InvalidStateError);
  });

  it('close() rejects pending requests with InvalidStateError and ends iterators', async () => {
    bus = new LocalBus();
    bus.subscribe('svc', { callback: () => {} });
    const p = bus.request('svc', bytes('x'), { timeoutMs: 10_000 });
    const sub = bus.subscribe('it');
    const next = sub[Symbol.asyncIterator]().next();
    await bus.close();
    await expect(p).rejects.toBeInstanceOf(InvalidStateError);
    expect((await next).done).toBe(true);
    expect(bus.closed).toBe(true);
  });
});
