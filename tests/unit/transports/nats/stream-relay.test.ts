import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ExtendedBus } from '../../../../engine/bus/bus-extensions.js';
import { LocalBus } from '../../../../engine/bus/local-bus.js';
import type { Bus } from '../../../../engine/bus/types.js';
import { NoRespondersError } from '../../../../engine/errors.js';
import type { MediaFrame } from '../../../../media/frame/media-frame.js';
import type { DecodedFrame } from '../../../../transports/nats/frame-codec.js';
import { NatsBus } from '../../../../transports/nats/nats-bus.js';
import { RelayPublisher, RelaySubscriber } from '../../../../transports/nats/stream-relay.js';
import { ensureNatsServer, type NatsServerHandle } from '../../../cluster/support/nats-server.js';
import { waitFor } from '../../../cluster/support/wait-for.js';

let dts = 0;
function frame(
  kind: 'video' | 'audio',
  opts: { key?: boolean; config?: boolean; size?: number } = {},
): MediaFrame {
  const size = opts.size ?? 64;
  const body = new Uint8Array(size);
  for (let i = 0; i < size; i++) body[i] = (dts + i * 7) & 0xff;
  const f: MediaFrame = {
    kind,
    codec: kind === 'video' ? 'h264' : 'aac',
    dts,
    pts: dts + (kind === 'video' ? 33 : 0),
    key: kind === 'audio' || (opts.key ?? false),
    config: opts.config ?? false,
    body,
    payload: body.subarray(kind === 'video' ? 5 : 2),
    seq: 0,
    ingestTime: 1_700_000_000_000 + dts,
  };
  if (!f.config) dts += 10;
  return f;
}

const sig = (f: MediaFrame): string =>
  `${f.kind}${f.config ? 'C' : f.key ? 'K' : 'd'}@${f.dts}/${f.pts}:${f.body.length}:${createHash('sha1').update(f.body).digest('hex').slice(0, 12)}:${f.body.length - f.payload.length}`;

/** Drops the media publishes `drop` says to drop (simulated loss between nodes). */
function lossy(bus: Bus, drop: (n: number) => boolean): Bus {
  let n = 0;
  return new Proxy(bus, {
    get(target, prop) {
      if (prop === 'publish') {
        return (subject: string, data: Uint8Array, opts?: { reply?: string }) => {
          if (subject.includes('.media.') && drop(n++)) return;
          target.publish(subject, data, opts);
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

interface Nodes {
  origin: ExtendedBus;
  edge: ExtendedBus;
}

const targets: { name: string; nodes(): Promise<Nodes>; done(n: Nodes): Promise<void> }[] = [
  {
    name: 'LocalBus',
    nodes: async () => {
      const bus = new LocalBus();
      return { origin: bus, edge: bus };
    },
    done: async (n) => n.origin.close(),
  },
  {
    name: 'NatsBus (two connections)',
    nodes: async () => ({
      origin: await NatsBus.connect({ servers: server.url, name: 'origin' }),
      edge: await NatsBus.connect({ servers: server.url, name: 'edge' }),
    }),
    done: async (n) => {
      await n.origin.close();
      await n.edge.close();
    },
  },
];

let server: NatsServerHandle;
beforeAll(async () => {
  server = await ensureNatsServer();
}, 15_000);
afterAll(async () => {
  await server?.stop();
});

let keyCounter = 0;

describe.each(targets)('stream relay over $name', (target) => {
  let nodes: Nodes;
  const closers: { close(): void }[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) c.close();
    if (nodes !== undefined) await target.done(nodes);
  });
  const streamKey = (): string => `live/cam.${Date.now().toString(36)}-${++keyCounter}`;

  it('a late edge gets config + current GOP at once, then every live frame in order', async () => {
    nodes = await target.nodes();
    const key = streamKey();
    const pub = new RelayPublisher(nodes.origin, { streamKey: key, maxPayload: 4096 });
    closers.push(pub);
    const sent: MediaFrame[] = [];
    const send = (f: MediaFrame): void => {
      pub.publish(f);
      sent.push({ ...f, body: f.body.slice(), payload: f.payload.slice() });
    };
    send(frame('video', { config: true }));
    send(frame('audio', { config: true }));
    send(frame('video', { key: true, size: 9000 }));
    for (let i = 0; i < 4; i++) send(frame('video'));
    send(frame('audio'));
    const gopStart = sent.length;
    send(frame('video', { key: true, size: 20_000 }));
    send(frame('audio'));
    send(frame('video'));
    await nodes.origin.flush();

    const got: DecodedFrame[] = [];
    const gotSigs: string[] = [];
    const sub = new RelaySubscriber(nodes.edge, {
      streamKey: key,
      onFrame: (f) => {
        got.push(f);
        gotSigs.push(sig(f));
      },
    });
    closers.push(sub);
    const { snapshotFrames } = await sub.start();
    expect(snapshotFrames).toBe(2 + (sent.length - gopStart));
    for (let i = 0; i < 5; i++) send(frame('video', { size: i === 2 ? 5000 : 100 }));
    send(frame('audio'));
    await nodes.origin.flush();
    const want = [sent[0]!, sent[1]!, ...sent.slice(gopStart)].map(sig);
    await waitFor(() =>
      gotSigs.length >= want.length ? undefined : `${gotSigs.length}/${want.length} frames`,
    );
    expect(gotSigs).toEqual(want);
    expect(got[2]!.key).toBe(true);
    expect(got.at(-1)!.ingestTime).toBe(sent.at(-1)!.ingestTime);
    expect(sub.lost).toBe(0);
  }, 10_000);

  it('the origin publishes each frame once whatever the number of edges', async () => {
    nodes = await target.nodes();
    const key = streamKey();
    const pub = new RelayPublisher(nodes.origin, { streamKey: key });
    closers.push(pub);
    pub.publish(frame('video', { config: true }));
    pub.publish(frame('video', { key: true }));
    // the origin's snapshot responder is subscribed on its own connection: flushed before an edge asks
    await nodes.origin.flush();
    let wire = 0;
    const spy = nodes.edge.subscribe(pub.subjects.media, { callback: () => wire++ });
    closers.push({ close: () => spy.unsubscribe() });
    const counts = [0, 0, 0];
    for (let i = 0; i < 3; i++) {
      const s = new RelaySubscriber(nodes.edge, { streamKey: key, onFrame: () => counts[i]!++ });
      closers.push(s);
      await s.start();
    }
    for (let i = 0; i < 10; i++) pub.publish(frame('video'));
    await nodes.origin.flush();
    await waitFor(() => (counts.every((c) => c === 12) ? undefined : `edges got ${counts.join(',')}`));
    expect(pub.framesPublished).toBe(12);
    expect(wire).toBe(10);
    expect(pub.snapshotsServed).toBe(3);
  }, 10_000);

  it('after a loss the edge reports it and skips video until the next keyframe', async () => {
    nodes = await target.nodes();
    const key = streamKey();
    // The 5th media publish (a video delta) is lost on the way.
    const pub = new RelayPublisher(
      lossy(nodes.origin, (n) => n === 4),
      { streamKey: key },
    );
    closers.push(pub);
    pub.publish(frame('video', { config: true }));
    pub.publish(frame('video', { key: true }));
    const got: string[] = [];
    const losses: number[] = [];
    const sub = new RelaySubscriber(nodes.edge, {
      streamKey: key,
      onFrame: (f) => got.push(f.kind === 'video' ? (f.config ? 'C' : f.key ? 'K' : 'd') : 'a'),
      onLoss: (n) => losses.push(n),
    });
    closers.push(sub);
    await sub.start();
    pub.publish(frame('video')); // n=2
    pub.publish(frame('video')); // n=3
    pub.publish(frame('video')); // n=4: lost
    pub.publish(frame('video')); // skipped: waiting for a keyframe
    pub.publish(frame('audio')); // audio passes
    pub.publish(frame('video', { key: true }));
    pub.publish(frame('video'));
    await nodes.origin.flush();
    await waitFor(() => (got.length === 7 ? undefined : `got ${got.join('')}`));
    await nodes.edge.flush();
    // config, key, 2 deltas, [lost], [skipped delta], audio, key, delta
    expect(got.join('')).toBe('CKddaKd');
    expect(losses).toEqual([1]);
    expect(sub.lost).toBe(1);
    expect(sub.skipped).toBe(1);
    expect(sub.resyncs).toBe(1);
  }, 10_000);

  it('frames larger than the bus maxPayload are split and arrive whole, in the snapshot and live', async () => {
    nodes = await target.nodes();
    const key = streamKey();
    const pub = new RelayPublisher(nodes.origin, { streamKey: key });
    closers.push(pub);
    const big = frame('video', { key: true, size: 2_500_000 });
    const bigSig = sig(big);
    pub.publish(big);
    const got: string[] = [];
    const sub = new RelaySubscriber(nodes.edge, { streamKey: key, onFrame: (f) => got.push(sig(f)) });
    closers.push(sub);
    expect((await sub.start()).snapshotFrames).toBe(1);
    const big2 = frame('video', { key: true, size: 1_500_000 });
    const big2Sig = sig(big2);
    pub.publish(big2);
    await nodes.origin.flush();
    await waitFor(() => (got.length === 2 ? undefined : `${got.length}/2 frames`), { timeoutMs: 5000 });
    expect(got).toEqual([bigSig, big2Sig]);
    expect(pub.bytesPublished).toBeGreaterThan(4_000_000);
  }, 10_000);

  it('RelaySubscriber.start() rejects with NoRespondersError when no origin publishes the stream', async () => {
    nodes = await target.nodes();
    const sub = new RelaySubscriber(nodes.edge, { streamKey: streamKey(), onFrame: () => {} });
    await expect(sub.start()).rejects.toBeInstanceOf(NoRespondersError);
    expect(sub.closed).toBe(true);
  }, 10_000);
});
