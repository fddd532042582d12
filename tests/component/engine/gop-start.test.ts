import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RtsNode } from '../../../engine/node.js';
import { RtmpClient } from '../../../transports/rtmp/client.js';
import {
  type FilePublisher,
  publishFrames,
  readFlvTags,
  startNode,
  testFrames,
} from '../../interop/engine/engine-harness.js';

const isAvcKeyframe = (body: Uint8Array) => body[0] === 0x17 && body[1] === 1;

describe('a player joining mid-stream starts at once from the latest keyframe', () => {
  let node: RtsNode;
  let pub: FilePublisher;
  beforeAll(async () => {
    node = await startNode();
    pub = await publishFrames(`rtmp://127.0.0.1:${node.ports.rtmp}/live/gop`, await testFrames());
    await new Promise((r) => setTimeout(r, 1500)); // mid-GOP (GOP = 1 s)
  }, 60_000);
  afterAll(async () => {
    await pub?.stop();
    await node?.close();
  });

  it('HTTP-FLV: metadata-free start with codec headers first, then a complete keyframe within 200 ms', async () => {
    await (await fetch(`http://127.0.0.1:${node.ports.http}/api/v1/node`)).text(); // load fetch's machinery first
    const t0 = performance.now();
    const tags: { type: number; body: Uint8Array; at: number }[] = [];
    await readFlvTags(`http://127.0.0.1:${node.ports.http}/live/gop.flv`, (t) => {
      tags.push({ type: t.type, body: t.body.slice(), at: t.at });
      return isAvcKeyframe(t.body);
    });
    const key = tags.find((t) => t.type === 9 && isAvcKeyframe(t.body));
    expect(key, 'a keyframe arrived').toBeDefined();
    expect(key!.at - t0).toBeLessThan(200);
    // codec headers come before any coded frame
    const firstVideo = tags.find((t) => t.type === 9)!;
    expect(firstVideo.body[1]).toBe(0); // AVC sequence header
    const firstAudio = tags.find((t) => t.type === 8);
    if (firstAudio) expect(firstAudio.body[1]).toBe(0); // AAC sequence header
  });

  it('RTMP: sequence headers then a keyframe within 200 ms of play()', async () => {
    const c = await RtmpClient.connect(`rtmp://127.0.0.1:${node.ports.rtmp}/live/gop`);
    const t0 = performance.now();
    const got = new Promise<{ at: number; firstVideoType: number }>((resolve) => {
      let firstVideoType = -1;
      c.on('media', (m) => {
        if (m.typeId !== 9) return;
        if (firstVideoType < 0) firstVideoType = m.payload[1];
        if (isAvcKeyframe(m.payload)) resolve({ at: performance.now(), firstVideoType });
      });
    });
    await c.play();
    const r = await got;
    c.close();
    expect(r.firstVideoType).toBe(0);
    expect(r.at - t0).toBeLessThan(200);
  });
});
