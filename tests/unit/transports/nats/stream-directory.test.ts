import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ExtendedBus } from '../../../../engine/bus/bus-extensions.js';
import { LocalBus } from '../../../../engine/bus/local-bus.js';
import { InvalidStateError } from '../../../../engine/errors.js';
import { NatsBus } from '../../../../transports/nats/nats-bus.js';
import { directoryBucketName, StreamDirectory } from '../../../../transports/nats/stream-directory.js';
import { ensureNatsServer, type NatsServerHandle } from '../../../cluster/support/nats-server.js';
import { waitFor } from '../../../cluster/support/wait-for.js';

interface Nodes {
  a: ExtendedBus;
  b: ExtendedBus;
}

let server: NatsServerHandle;
beforeAll(async () => {
  server = await ensureNatsServer();
}, 15_000);
afterAll(async () => {
  await server?.stop();
});

const targets = [
  {
    name: 'LocalBus',
    ttlMs: 300,
    nodes: async (): Promise<Nodes> => {
      const bus = new LocalBus();
      return { a: bus, b: bus };
    },
  },
  {
    name: 'NatsBus (two connections)',
    ttlMs: 1500,
    nodes: async (): Promise<Nodes> => ({
      a: await NatsBus.connect({ servers: server.url, name: 'node-a' }),
      b: await NatsBus.connect({ servers: server.url, name: 'node-b' }),
    }),
  },
];

let n = 0;

describe.each(targets)('StreamDirectory over $name', (target) => {
  let nodes: Nodes;
  let cluster: string;
  const dirs: StreamDirectory[] = [];

  afterEach(async () => {
    for (const d of dirs.splice(0)) d.close();
    await nodes.a.deleteKv(directoryBucketName(cluster));
    await nodes.a.close();
    await nodes.b.close();
  });

  const open = async (bus: ExtendedBus): Promise<StreamDirectory> => {
    const d = await StreamDirectory.open(bus, { cluster, ttlMs: target.ttlMs });
    dirs.push(d);
    return d;
  };

  it('claim() refuses a second publisher of a live stream on any node, release() frees it', async () => {
    cluster = `test-${Date.now().toString(36)}-${++n}`;
    nodes = await target.nodes();
    const a = await open(nodes.a);
    const b = await open(nodes.b);
    expect(await a.claim('live/one', 'node-a', { app: 'live' })).toBe(true);
    expect(await b.claim('live/one', 'node-b', {})).toBe(false);
    expect(await a.claim('live/one', 'node-a', {})).toBe(false);
    expect(await b.claim('live/two', 'node-b', { app: 'live' })).toBe(true);
    const entry = await b.lookup('live/one');
    expect(entry?.nodeId).toBe('node-a');
    expect(entry?.info).toEqual({ app: 'live' });
    expect((await a.list()).map((e) => `${e.streamKey}@${e.nodeId}`).sort()).toEqual([
      'live/one@node-a',
      'live/two@node-b',
    ]);
    await a.release('live/one');
    expect(await b.lookup('live/one')).toBeUndefined();
    expect(await b.claim('live/one', 'node-b', {})).toBe(true);
    a.close();
    expect(a.closed).toBe(true);
    await expect(a.claim('x', 'node-a', {})).rejects.toBeInstanceOf(InvalidStateError);
  }, 10_000);

  it('heartbeats keep a claim alive past its TTL; after the node stops, the entry expires and watch reports it', async () => {
    cluster = `test-${Date.now().toString(36)}-${++n}`;
    nodes = await target.nodes();
    const a = await open(nodes.a);
    const b = await open(nodes.b);
    const events: string[] = [];
    const w = b.watch((key, e) => events.push(`${key}:${e === undefined ? 'gone' : e.nodeId}`));
    expect(await a.claim('live/cam', 'node-a', {})).toBe(true);
    await new Promise((r) => setTimeout(r, target.ttlMs * 2));
    const alive = await b.lookup('live/cam');
    expect(alive?.nodeId).toBe('node-a');
    expect(alive!.heartbeatAt).toBeGreaterThan(alive!.claimedAt);
    expect(await b.claim('live/cam', 'node-b', {})).toBe(false);

    a.close(); // the node "dies": no heartbeat, no release
    const stoppedAt = Date.now();
    await waitFor(
      async () => ((await b.lookup('live/cam')) === undefined ? undefined : 'entry of dead node still there'),
      {
        timeoutMs: target.ttlMs * 3 + 2000,
        intervalMs: 50,
      },
    );
    const expiredAfter = Date.now() - stoppedAt;
    expect(expiredAfter).toBeLessThanOrEqual(target.ttlMs * 3 + 2000);
    await waitFor(() => (events.at(-1) === 'live/cam:gone' ? undefined : `watch saw ${events.join(',')}`), {
      timeoutMs: target.ttlMs * 2 + 2000,
    });
    expect(events[0]).toBe('live/cam:node-a');
    expect(await b.claim('live/cam', 'node-b', {})).toBe(true);
    w.stop();
  }, 20_000);

  it('a node that returns after its entry was taken over learns it lost the claim', async () => {
    cluster = `test-${Date.now().toString(36)}-${++n}`;
    nodes = await target.nodes();
    const lost: string[] = [];
    const a = await StreamDirectory.open(nodes.a, {
      cluster,
      ttlMs: target.ttlMs,
      onLost: (k, holder) => lost.push(`${k}->${holder?.nodeId}`),
    });
    dirs.push(a);
    const b = await open(nodes.b);
    expect(await a.claim('live/x', 'node-a', {})).toBe(true);
    // Simulate a partition: b overwrites the entry as if a's had expired and b claimed it.
    const kv = await nodes.b.kv(directoryBucketName(cluster), { ttlMs: target.ttlMs });
    await kv.delete('live/x');
    expect(await b.claim('live/x', 'node-b', {})).toBe(true);
    await waitFor(() => (lost.length > 0 ? undefined : 'no onLost yet'), {
      timeoutMs: target.ttlMs * 2 + 1000,
    });
    expect(lost).toEqual(['live/x->node-b']);
    expect(a.held).toEqual([]);
    expect((await b.lookup('live/x'))?.nodeId).toBe('node-b');
  }, 10_000);
});
