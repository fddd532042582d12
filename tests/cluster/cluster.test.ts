/**
 * Three nodes as child processes over a private NATS server (started here, so the test can restart
 * it): ffmpeg publishes to A; B serves it over HTTP-FLV and C over RTMP through relays; a second
 * publisher on C is refused; kill -9 A ends the edges' players and the directory entry expires; a
 * republish on C plays on B; a NATS restart is ridden through by a player that stays connected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtmpClient } from '../../transports/rtmp/client.js';
import { readFlvTags } from '../interop/engine/engine-harness.js';
import { killTrackedChildren } from '../support/children.js';
import { decode, publishTestPattern, type RunningFfmpeg } from '../support/ffmpeg.js';
import { type NodeProcess, spawnNode } from './support/cluster-nodes.js';
import { type NatsServerHandle, startNatsServer } from './support/nats-server.js';
import { waitFor } from './support/wait-for.js';

let nats: NatsServerHandle;
let A: NodeProcess;
let B: NodeProcess;
let C: NodeProcess;
const publishers: RunningFfmpeg[] = [];

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
    ['A', 'B', 'C'].map((id, i) => spawnNode({ natsUrl: nats.url, id, region: i === 2 ? 'eu' : 'us' })),
  );
}, 40_000);

afterAll(async () => {
  await Promise.all(publishers.map((p) => p.stop()));
  await Promise.all([A, B, C].filter(Boolean).map((n) => n.stop()));
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
    await waitFor(() => streamOn(B, KEY, 'C'), { timeoutMs: 10_000, intervalMs: 200 });
    const r = await decode(`${B.http}/live/cam.flv`, { seconds: 2 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.width).toBe(320);
    expect(r.frames).toBeGreaterThanOrEqual(40);
  }, 40_000);

  it('rides through a NATS restart: the relay resumes for a player that stays connected', async () => {
    let video = 0;
    let keysAfter = 0;
    let restarted = false;
    let afterRestart = 0;
    let prevAt = 0;
    let maxGap = 0;
    let keyAfterGap = false;
    const playing = readFlvTags(
      `${B.http}/live/cam.flv`,
      (t) => {
        if (t.type !== 9) return undefined;
        video++;
        if (prevAt > 0 && t.at - prevAt > maxGap) {
          maxGap = t.at - prevAt;
          keyAfterGap = t.body[0]! >> 4 === 1;
        }
        prevAt = t.at;
        if (restarted) {
          afterRestart++;
          if (t.body[0]! >> 4 === 1) keysAfter++;
        }
        return afterRestart >= 50 ? true : undefined;
      },
      25_000,
    );
    await waitFor(() => (video > 25 ? undefined : `${video} video tags`), { timeoutMs: 5000 });
    const t0 = Date.now();
    await nats.restart({ downMs: 500 });
    restarted = true;
    const r = await playing;
    if (afterRestart < 50) console.log(r, B.log().slice(-3000), C.log().slice(-3000));
    console.log(
      `NATS restart: longest gap between video tags ${Math.round(maxGap)} ms, resumed on a keyframe: ${keyAfterGap}; ${afterRestart} video tags (${keysAfter} keyframes) after restart, ${Date.now() - t0} ms`,
    );
    expect(afterRestart).toBeGreaterThanOrEqual(50);
    expect(keyAfterGap).toBe(true);
    const v = await B.cluster();
    expect(v.connected).toBe(true);
  }, 30_000);
});
