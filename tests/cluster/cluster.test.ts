/**
 * Three nodes as child processes over a private NATS server (started here, so the test can restart
 * it): ffmpeg publishes to A; B serves it over HTTP-FLV and C over RTMP through relays; a second
 * publisher on C is refused; kill -9 A ends the edges' players and the directory entry expires; a
 * republish on C plays on B; a NATS restart is ridden through by a player that stays connected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtmpClient } from '../../transports/rtmp/client.js';
import { publishFrames, readFlvTags, testFrames } from '../interop/engine/engine-harness.js';
import { killTrackedChildren } from '../support/children.js';
import { decode, publishTestPattern, type RunningFfmpeg } from '../support/ffmpeg.js';
import { type NodeProcess, spawnNode } from './support/cluster-nodes.js';
import { type NatsServerHandle, startNatsServer } from './support/nats-server.js';
import { waitFor } from './support/wait-for.js';

let nats: NatsServerHandle;
let A: NodeProcess;
let B: NodeProcess;
let C: NodeProcess;
/** A again, restarted after the kill -9 (same node id). */
let A2node: NodeProcess | undefined;
const A2 = (): NodeProcess => A2node!;
const publishers: RunningFfmpeg[] = [];
const cleanups: (() => Promise<void>)[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function publish(node: NodeProcess, name: string): RunningFfmpeg {
  const p = publishTestPattern({
    url: `${node.rtmp}/live/${name}`,
    seconds: 120,
    width: 320,
    height: 240,
    fps: 25,
    videoKbps: 300,
  });
  publishers.push(p);
  return p;
}

/** Stream keys are `{domain}/{app}/{name}`; the default domain is `_`. */
const KEY = '_/live/cam';

async function streamOn(node: NodeProcess, key: string, origin: string): Promise<string | undefined> {
  const v = await node.cluster().catch((err: unknown) => ({ err: String(err) }));
  if ('err' in v) return v.err;
  const s = v.streams.find((x) => x.key === key);
  return s?.origin === origin ? undefined : `${node.id} sees ${JSON.stringify(v.streams)}`;
}

beforeAll(async () => {
  nats = await startNatsServer();
  [A, B, C] = await Promise.all(
    // Three nodes start from TypeScript sources at once: on a busy 2-core host that can take a while.
    ['A', 'B', 'C'].map((id, i) =>
      spawnNode({ natsUrl: nats.url, id, region: i === 2 ? 'eu' : 'us', startTimeoutMs: 50_000 }),
    ),
  );
}, 60_000);

afterAll(async () => {
  B?.proc.kill('SIGCONT');
  await Promise.all(cleanups.map((c) => c().catch(() => {})));
  await Promise.all(publishers.map((p) => p.stop()));
  await Promise.all([A, B, C, A2node].filter(Boolean).map((n) => n!.stop()));
  await killTrackedChildren();
  await nats?.stop();
}, 30_000);

describe('three nodes over NATS', () => {
  it('relays a stream published on A to B (HTTP-FLV) and C (RTMP), refuses a second publisher', async () => {
    publish(A, 'cam');
    await waitFor(() => streamOn(B, KEY, 'A'), { timeoutMs: 10_000, intervalMs: 200 });

    const [fromB, fromC] = await Promise.all([
      decode(`${B.http}/live/cam.flv`, { seconds: 3 }),
      decode(`${C.rtmp}/live/cam`, { seconds: 3 }),
    ]);
    for (const r of [fromB, fromC]) {
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.width).toBe(320);
      expect(r.height).toBe(240);
      expect(r.frames).toBeGreaterThanOrEqual(60);
    }

    const second = await RtmpClient.connect(`${C.rtmp}/live/cam`, { timeoutMs: 5000 });
    await expect(second.publish()).rejects.toThrow(/BadName|busy|already/i);
    second.close();

    const view = await C.cluster();
    expect(view.nodes.map((n) => n.id)).toEqual(['A', 'B', 'C']);
    expect(view.nodes.find((n) => n.id === 'C')?.region).toBe('eu');
  }, 40_000);

  it('ends edge players when the origin is killed, then follows a republish on C', async () => {
    // A player that stays on B until its stream ends.
    let tags = 0;
    let endedAt = 0;
    const playing = readFlvTags(
      `${B.http}/live/cam.flv`,
      () => {
        tags++;
        return undefined;
      },
      30_000,
    ).then((r) => {
      endedAt = Date.now();
      return r;
    });
    await waitFor(() => (tags > 25 ? undefined : `${tags} tags`), { timeoutMs: 5000 });
    const killedAt = Date.now();
    await A.kill9();
    await playing;
    const endMs = endedAt - killedAt;
    expect(endMs).toBeLessThan(8000);
    await waitFor(
      async () => {
        const v = await C.cluster();
        return v.streams.some((s) => s.key === KEY) ? JSON.stringify(v.streams) : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    console.log(
      `origin killed: B's player ended after ${endMs} ms; entry gone ${Date.now() - killedAt} ms after kill`,
    );

    publish(C, 'cam');
    A2node = await spawnNode({ natsUrl: nats.url, id: 'A' });
    await waitFor(() => streamOn(B, KEY, 'C'), { timeoutMs: 10_000, intervalMs: 200 });
    const r = await decode(`${B.http}/live/cam.flv`, { seconds: 2 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.width).toBe(320);
    expect(r.frames).toBeGreaterThanOrEqual(40);
  }, 40_000);

  it('a stalled edge (SIGSTOP) never slows the origin or other edges, and skips to live on resume', async () => {
    const onA = watchVideo(`${A2().http}/live/cam.flv`, 30_000);
    const onB = watchVideo(`${B.http}/live/cam.flv`, 30_000);
    await waitFor(() => (onA.video > 25 && onB.video > 25 ? undefined : `A ${onA.video}, B ${onB.video}`), {
      timeoutMs: 8000,
    });
    onA.resetGap();
    B.proc.kill('SIGSTOP');
    await sleep(4000);
    B.proc.kill('SIGCONT');
    onB.resetGap();
    const resumedAt = onB.video;
    await waitFor(
      () =>
        onB.video - resumedAt >= 50 ? undefined : `${onB.video - resumedAt} video tags on B after resume`,
      {
        timeoutMs: 10_000,
      },
    );
    const lagAfter = onB.lagMs();
    onA.stop();
    onB.stop();
    const edges = (await B.cluster()).relays.edges as { key: string; lateDropped?: number }[];
    console.log(
      `stalled edge: other edge's longest gap ${Math.round(onA.maxGap)} ms; stalled edge dropped ${edges[0]?.lateDropped} late frames, resumed on a keyframe: ${onB.keyAfterGap}, media skipped to stay live ${Math.round(-lagAfter)} ms`,
    );
    expect(onA.maxGap).toBeLessThan(1000);
    expect(onB.keyAfterGap).toBe(true);
    expect(edges[0]?.lateDropped ?? 0).toBeGreaterThan(0);
  }, 40_000);

  it('rides through a NATS restart: local players continue, a publish during the outage fails open, relays resume', async () => {
    const edge = watchVideo(`${B.http}/live/cam.flv`, 30_000);
    const local = watchVideo(`${C.http}/live/cam.flv`, 30_000);
    await waitFor(
      () => (edge.video > 25 && local.video > 25 ? undefined : `${edge.video}/${local.video} video tags`),
      {
        timeoutMs: 8000,
      },
    );
    edge.resetGap();
    local.resetGap();
    const t0 = Date.now();
    const restarting = nats.restart({ downMs: 3000 });
    await waitFor(async () => ((await A2().cluster()).connected ? 'A still connected' : undefined), {
      timeoutMs: 5000,
      intervalMs: 100,
    });
    // NATS is down: a new publish on A is accepted locally and its local players play it.
    const frames = await testFrames();
    const solo = await publishFrames(`${A2().rtmp}/live/solo`, frames);
    cleanups.push(() => solo.stop());
    let soloTags = 0;
    await readFlvTags(
      `${A2().http}/live/solo.flv`,
      (t) => (t.type === 9 && ++soloTags >= 20 ? true : undefined),
      8000,
    );
    expect(soloTags).toBe(20);
    await restarting;
    const backAt = edge.video;
    await waitFor(
      () => (edge.video - backAt >= 50 ? undefined : `${edge.video - backAt} video tags on B after restart`),
      {
        timeoutMs: 10_000,
      },
    );
    edge.stop();
    local.stop();
    // Once NATS is back, the fail-open publish is claimed and B can pull it.
    let soloOnB = 0;
    await waitFor(
      async () => {
        soloOnB = 0;
        await readFlvTags(
          `${B.http}/live/solo.flv`,
          (t) => (t.type === 9 && ++soloOnB >= 10 ? true : undefined),
          4000,
        );
        return soloOnB >= 10 ? undefined : `${soloOnB} video tags of solo on B`;
      },
      { timeoutMs: 10_000, intervalMs: 500 },
    );
    console.log(
      `NATS restart (3 s down): origin-local player's longest gap ${Math.round(local.maxGap)} ms; edge player's ${Math.round(edge.maxGap)} ms, resumed on a keyframe: ${edge.keyAfterGap}; ${Date.now() - t0} ms in all`,
    );
    expect(local.maxGap).toBeLessThan(1000);
    expect(edge.keyAfterGap).toBe(true);
    expect((await B.cluster()).connected).toBe(true);
  }, 45_000);
});

/** Follows an HTTP-FLV stream's video tags: count, longest gap since the last reset, keyframe after it. */
function watchVideo(url: string, timeoutMs: number) {
  const w = {
    video: 0,
    maxGap: 0,
    keyAfterGap: false,
    lastAt: 0,
    lastTs: 0,
    firstAt: 0,
    firstTs: 0,
    done: undefined as Promise<unknown> | undefined,
    stopped: false,
    resetGap() {
      w.maxGap = 0;
      w.keyAfterGap = false;
    },
    /** How far the media timeline is behind the wall clock, relative to the first tag. */
    lagMs() {
      return w.lastAt - w.firstAt - (w.lastTs - w.firstTs);
    },
    stop() {
      w.stopped = true;
    },
  };
  w.done = readFlvTags(
    url,
    (t) => {
      if (w.stopped) return true;
      if (t.type !== 9) return undefined;
      w.video++;
      if (w.firstAt === 0) {
        w.firstAt = t.at;
        w.firstTs = t.timestamp;
      }
      if (w.lastAt > 0 && t.at - w.lastAt > w.maxGap) {
        w.maxGap = t.at - w.lastAt;
        w.keyAfterGap = t.body[0]! >> 4 === 1;
      }
      w.lastAt = t.at;
      w.lastTs = t.timestamp;
      return undefined;
    },
    timeoutMs,
  );
  return w;
}
