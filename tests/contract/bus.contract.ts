/**
 * The one Bus contract (STYLE rule 10), run against every implementation: LocalBus always,
 * NatsBus against a real server. Each test uses its own subjects and KV bucket names.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExtendedBus } from '../../engine/bus/bus-extensions.js';
import type { BusMessage, BusStatus } from '../../engine/bus/types.js';
import { InvalidStateError, NoRespondersError, TimeoutError } from '../../engine/errors.js';
import { waitFor } from '../cluster/support/wait-for.js';

export interface BusContractTarget {
  /** A fresh, connected bus. */
  create(): Promise<ExtendedBus>;
  /** KV TTL short enough to watch an expiry inside the test timeout. */
  kvTtlMs: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string): Uint8Array => enc.encode(s);
const text = (m: BusMessage | Uint8Array | undefined): string | undefined =>
  m === undefined ? undefined : dec.decode(m instanceof Uint8Array ? m : m.data);

let uniq = 0;
const unique = (p: string): string => `${p}${Date.now().toString(36)}${(++uniq).toString(36)}`;

export function busContract(name: string, target: BusContractTarget): void {
  describe(`Bus contract: ${name}`, () => {
    let bus: ExtendedBus;
    let buckets: string[];
    let t: string;

    beforeEach(async () => {
      bus = await target.create();
      buckets = [];
      t = unique('ct');
    });

    afterEach(async () => {
      if (!bus.closed) {
        for (const b of buckets) await bus.deleteKv(b);
        await bus.close();
      } else if (buckets.length > 0) {
        const admin = await target.create();
        for (const b of buckets) await admin.deleteKv(b);
        await admin.close();
      }
    });

    const bucket = (): string => {
      const b = unique('ct-kv-');
      buckets.push(b);
      return b;
    };

    it('bus.publish() delivers to a callback asynchronously and in publish order', async () => {
      const got: number[] = [];
      bus.subscribe(`${t}.order`, { callback: (m) => got.push(Number(text(m))) });
      await bus.flush();
      for (let i = 0; i < 500; i++) bus.publish(`${t}.order`, bytes(String(i)));
      expect(got).toEqual([]);
      await waitFor(() => (got.length === 500 ? undefined : `${got.length}/500 messages`));
      expect(got).toEqual(Array.from({ length: 500 }, (_, i) => i));
    }, 10_000);

    it('bus.subscribe() matches * (one token) and > (one or more tokens)', async () => {
      const seen: Record<string, string[]> = { star: [], gt: [], exact: [] };
      bus.subscribe(`${t}.a.*.c`, { callback: (m) => seen.star!.push(m.subject) });
      bus.subscribe(`${t}.a.>`, { callback: (m) => seen.gt!.push(m.subject) });
      bus.subscribe(`${t}.a.b`, { callback: (m) => seen.exact!.push(m.subject) });
      await bus.flush();
      for (const s of ['a.b', 'a.b.c', 'a.x.c', 'a.b.c.d', 'b.b.c', 'a']) bus.publish(`${t}.${s}`, bytes(s));
      bus.publish(`${t}.end`, bytes(''));
      await waitFor(() => (seen.gt!.length === 4 ? undefined : `> saw ${seen.gt!.join(',')}`));
      await bus.flush();
      expect(seen.star).toEqual([`${t}.a.b.c`, `${t}.a.x.c`]);
      expect(seen.gt).toEqual([`${t}.a.b`, `${t}.a.b.c`, `${t}.a.x.c`, `${t}.a.b.c.d`]);
      expect(seen.exact).toEqual([`${t}.a.b`]);
    }, 10_000);

    it('queue group members share the messages, one member each, while plain subscribers get all', async () => {
      const counts = [0, 0, 0];
      let plain = 0;
      for (let i = 0; i < 3; i++) {
        bus.subscribe(`${t}.work`, { queue: 'workers', callback: () => counts[i]!++ });
      }
      bus.subscribe(`${t}.work`, { callback: () => plain++ });
      await bus.flush();
      for (let i = 0; i < 60; i++) bus.publish(`${t}.work`, bytes(String(i)));
      await waitFor(() => {
        const sum = counts.reduce((a, b) => a + b, 0);
        return sum === 60 && plain === 60 ? undefined : `queue ${sum}/60, plain ${plain}/60`;
      });
      await bus.flush();
      expect(counts.reduce((a, b) => a + b, 0)).toBe(60);
      for (const c of counts) expect(c).toBeGreaterThan(0);
    }, 10_000);

    it('bus.request() resolves with the reply and carries headers', async () => {
      bus.subscribe(`${t}.echo`, {
        callback: (m) => bus.respond(m, bytes(`${text(m)}|${m.headers?.['x-id'] ?? '-'}`)),
      });
      await bus.flush();
      const reply = await bus.request(`${t}.echo`, bytes('ping'), {
        timeoutMs: 2000,
        headers: { 'x-id': '7' },
      });
      expect(text(reply)).toBe('ping|7');
    }, 10_000);

    it('bus.request() rejects with NoRespondersError when nobody listens', async () => {
      await expect(bus.request(`${t}.nobody`, bytes('x'), { timeoutMs: 2000 })).rejects.toBeInstanceOf(
        NoRespondersError,
      );
    }, 10_000);

    it('bus.request() rejects with TimeoutError when the responder stays silent', async () => {
      bus.subscribe(`${t}.silent`, { callback: () => {} });
      await bus.flush();
      const started = Date.now();
      await expect(bus.request(`${t}.silent`, bytes('x'), { timeoutMs: 150 })).rejects.toBeInstanceOf(
        TimeoutError,
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    }, 10_000);

    it('an iterator subscription keeps at most maxPending messages, dropping and counting the oldest', async () => {
      const sub = bus.subscribe(`${t}.bounded`, { maxPending: 5 });
      await bus.flush();
      for (let i = 0; i < 20; i++) bus.publish(`${t}.bounded`, bytes(String(i)));
      await bus.flush();
      await waitFor(() => (sub.dropped === 15 ? undefined : `dropped ${sub.dropped}/15`));
      expect(sub.pending).toBe(5);
      const got: string[] = [];
      for await (const m of sub) {
        got.push(text(m)!);
        if (got.length === 5) break;
      }
      expect(got).toEqual(['15', '16', '17', '18', '19']);
      expect(sub.closed).toBe(true);
    }, 10_000);

    it('subscription.unsubscribe() stops delivery and ends the iterator', async () => {
      const sub = bus.subscribe(`${t}.unsub`);
      await bus.flush();
      bus.publish(`${t}.unsub`, bytes('1'));
      const it = sub[Symbol.asyncIterator]();
      expect(text((await it.next()).value)).toBe('1');
      const pendingNext = it.next();
      sub.unsubscribe();
      sub.unsubscribe();
      expect((await pendingNext).done).toBe(true);
      expect(sub.closed).toBe(true);
      bus.publish(`${t}.unsub`, bytes('2'));
      await bus.flush();
      expect((await it.next()).done).toBe(true);
    }, 10_000);

    it('a throwing callback is contained and later messages still arrive', async () => {
      const got: string[] = [];
      bus.subscribe(`${t}.throw`, {
        callback: (m) => {
          got.push(text(m)!);
          if (got.length === 1) throw new Error('listener bug');
        },
      });
      await bus.flush();
      bus.publish(`${t}.throw`, bytes('a'));
      bus.publish(`${t}.throw`, bytes('b'));
      await waitFor(() => (got.length === 2 ? undefined : `got ${got.join(',')}`));
      expect(got).toEqual(['a', 'b']);
    }, 10_000);

    it('kv create/put/get/delete/keys behave like a map where create refuses a live key', async () => {
      const kv = await bus.kv(bucket(), { ttlMs: 60_000 });
      expect(await kv.get('live/a.b')).toBeUndefined();
      expect(await kv.create('live/a.b', bytes('v1'))).toBe(true);
      expect(await kv.create('live/a.b', bytes('v2'))).toBe(false);
      expect(text(await kv.get('live/a.b'))).toBe('v1');
      await kv.put('live/a.b', bytes('v3'));
      expect(text(await kv.get('live/a.b'))).toBe('v3');
      await kv.put('odd key:*>', bytes('x'));
      expect((await kv.keys()).sort()).toEqual(['live/a.b', 'odd key:*>']);
      await kv.delete('live/a.b');
      expect(await kv.get('live/a.b')).toBeUndefined();
      expect(await kv.keys()).toEqual(['odd key:*>']);
      expect(await kv.create('live/a.b', bytes('v4'))).toBe(true);
      expect(text(await kv.get('live/a.b'))).toBe('v4');
    }, 10_000);

    it('kv.watch() replays live entries, then reports puts and deletes in order', async () => {
      const kv = await bus.kv(bucket(), { ttlMs: 60_000 });
      await kv.put('old', bytes('o'));
      const events: string[] = [];
      const w = kv.watch((k, v) => events.push(`${k}=${v === undefined ? '<gone>' : text(v)}`));
      await waitFor(() => (events.length === 1 ? undefined : `initial replay: ${events.join(',')}`));
      await kv.put('a', bytes('1'));
      await kv.put('b', bytes('2'));
      await kv.delete('a');
      await waitFor(() => (events.length === 4 ? undefined : `events: ${events.join(',')}`));
      w.stop();
      await kv.put('c', bytes('3'));
      await new Promise((r) => setTimeout(r, 100));
      expect(events).toEqual(['old=o', 'a=1', 'b=2', 'a=<gone>']);
    }, 10_000);

    it('kv entries expire ttlMs after their last put: get misses, watch reports, create succeeds', async () => {
      const ttl = target.kvTtlMs;
      const kv = await bus.kv(bucket(), { ttlMs: ttl });
      const events: string[] = [];
      const w = kv.watch((k, v) => events.push(`${k}=${v === undefined ? '<gone>' : text(v)}`));
      const putAt = Date.now();
      await kv.put('k', bytes('v'));
      expect(text(await kv.get('k'))).toBe('v');
      expect(await kv.create('k', bytes('again'))).toBe(false);
      let gets = 0;
      await waitFor(
        async () => {
          gets++;
          return (await kv.get('k')) === undefined ? undefined : 'entry still present';
        },
        { timeoutMs: ttl * 4 + 2000, intervalMs: 100 },
      );
      expect(Date.now() - putAt).toBeGreaterThanOrEqual(ttl - 50);
      expect(gets).toBeGreaterThan(1);
      await waitFor(() => (events.includes('k=<gone>') ? undefined : `watch saw ${events.join(',')}`), {
        timeoutMs: ttl * 2 + 2000,
      });
      expect(events).toEqual(['k=v', 'k=<gone>']);
      expect(await kv.create('k', bytes('fresh'))).toBe(true);
      w.stop();
    }, 20_000);

    it('bus.status() starts with connected and ends after closed', async () => {
      const seen: BusStatus['type'][] = [];
      const done = (async () => {
        for await (const s of bus.status()) seen.push(s.type);
      })();
      await waitFor(() => (seen.length > 0 ? undefined : 'no status yet'));
      await bus.close();
      await done;
      expect(seen[0]).toBe('connected');
      expect(seen.at(-1)).toBe('closed');
    }, 10_000);

    it('bus.drain() delivers pending messages, ends iterators, then closes; later calls fail with InvalidStateError', async () => {
      const sub = bus.subscribe(`${t}.drain`);
      const got: string[] = [];
      bus.subscribe(`${t}.drain`, { callback: (m) => got.push(text(m)!) });
      await bus.flush();
      for (let i = 0; i < 10; i++) bus.publish(`${t}.drain`, bytes(String(i)));
      await bus.flush();
      await bus.drain();
      expect(bus.closed).toBe(true);
      expect(got).toHaveLength(10);
      const rest: string[] = [];
      for await (const m of sub) rest.push(text(m)!);
      expect(rest).toEqual(got);
      expect(await bus.whenClosed()).toBeUndefined();
      expect(() => bus.publish(`${t}.drain`, bytes('x'))).toThrow(InvalidStateError);
      expect(() => bus.subscribe(`${t}.drain`)).toThrow(InvalidStateError);
      await expect(bus.request(`${t}.drain`, bytes('x'))).rejects.toBeInstanceOf(InvalidStateError);
      await expect(bus.kv('x', { ttlMs: 1000 })).rejects.toBeInstanceOf(InvalidStateError);
      await bus.close();
      await bus.drain();
    }, 10_000);
  });
}
