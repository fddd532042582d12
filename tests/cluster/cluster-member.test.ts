/**
 * Two nodes in one process joined by a LocalBus (the same ClusterMember code as over NATS): one
 * copy of each frame crosses per stream whatever the number of edge players, a second publisher
 * anywhere is refused, the edge relay closes after its last player leaves, and an origin's
 * unpublish ends the edge's players.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBus } from '../../engine/bus/local-bus.js';
import { ClusterMember } from '../../engine/cluster/cluster.js';
import { silentLogger } from '../../engine/logging/logger.js';
import type { RtsNode } from '../../engine/node.js';
import type { MediaFrame } from '../../media/frame/media-frame.js';
import { RtmpClient } from '../../transports/rtmp/client.js';
import {
  type FilePublisher,
  publishFrames,
  readFlvTags,
  startNode,
  testFrames,
} from '../interop/engine/engine-harness.js';
import { waitFor } from './support/wait-for.js';

const KEY = '_/live/cam';
let bus: LocalBus;
let a: RtsNode;
let b: RtsNode;
let ma: ClusterMember;
let mb: ClusterMember;
let frames: MediaFrame[];

beforeAll(async () => {
  frames = await testFrames();
  bus = new LocalBus();
  [a, b] = await Promise.all([startNode(), startNode()]);
  const opts = { servers: 'local', ttlMs: 900, relayIdleMs: 400, statsIntervalMs: 200 };
  ma = await ClusterMember.start(a, bus, { ...opts, nodeId: 'a' }, silentLogger);
  mb = await ClusterMember.start(b, bus, { ...opts, nodeId: 'b' }, silentLogger);
}, 60_000);

afterAll(async () => {
  await ma?.close();
  await mb?.close();
  await Promise.all([a?.close(), b?.close()]);
  await bus?.close();
});

function flvUrl(n: RtsNode): string {
  return `http://127.0.0.1:${n.ports.http}/live/cam.flv`;
}

describe('cluster members over a LocalBus', () => {
  let pub: FilePublisher;

  it('relays one copy per stream to an edge with three players, and refuses a second publisher', async () => {
    pub = await publishFrames(`rtmp://127.0.0.1:${a.ports.rtmp}/live/cam`, frames);
    await waitFor(() => (a.liveStream(KEY) ? undefined : 'no stream on a'));
    let copies = 0;
    const before = a.liveStream(KEY)!.framesIn;
    const media = bus.subscribe('rts.default.media.>', { callback: () => copies++ });

    const counts = [0, 0, 0];
    const plays = counts.map((_, i) =>
      readFlvTags(flvUrl(b), (t) => {
        if (t.type === 9) counts[i]!++;
        return counts[i]! >= 60 ? true : undefined;
      }),
    );
    const results = await Promise.all(plays);
    media.unsubscribe();
    for (const r of results) expect(r.status).toBe(200);
    // ~60 video + ~90 audio frames in the window: one copy each, not three.
    const framesIn = a.liveStream(KEY)!.framesIn - before;
    expect(copies).toBeLessThanOrEqual(framesIn);
    expect(copies).toBeGreaterThanOrEqual(framesIn - 2);
    expect(copies).toBeGreaterThan(100);

    const second = await RtmpClient.connect(`rtmp://127.0.0.1:${b.ports.rtmp}/live/cam`, { timeoutMs: 5000 });
    await expect(second.publish()).rejects.toThrow();
    second.close();
    const view = (await mb.describe()) as { streams: { key: string; origin: string }[] };
    expect(view.streams.find((s) => s.key === KEY)?.origin).toBe('a');
  }, 30_000);

  it('closes the edge relay after its last player left', async () => {
    await waitFor(() => (b.liveStream(KEY) ? `relay still open on b` : undefined), { timeoutMs: 3000 });
    // And a new player pulls it again.
    let n = 0;
    const r = await readFlvTags(flvUrl(b), (t) => (t.type === 9 && ++n >= 10 ? true : undefined));
    expect(r.status).toBe(200);
    expect(n).toBe(10);
  }, 15_000);

  it("ends the edge's players when the origin's publisher leaves", async () => {
    let n = 0;
    let ended = false;
    const playing = readFlvTags(flvUrl(b), (t) => {
      if (t.type === 9) n++;
      return undefined;
    }).then((r) => {
      ended = true;
      return r;
    });
    await waitFor(() => (n > 10 ? undefined : `${n} video tags`), { timeoutMs: 5000 });
    const t0 = Date.now();
    await pub.stop();
    await playing;
    expect(ended).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2000);
    await waitFor(() => (b.liveStream(KEY) ? 'relay still open' : undefined), { timeoutMs: 2000 });
  }, 15_000);
});
