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

describe('a second publisher of a live name', () => {
  let node: RtsNode;
  let pub: FilePublisher;
  const events: string[] = [];
  beforeAll(async () => {
    node = await startNode();
    node.on('publish', (c) => events.push(`publish ${c.streamKey}`));
    node.on('unpublish', (c) => events.push(`unpublish ${c.streamKey}`));
    pub = await publishFrames(`rtmp://127.0.0.1:${node.ports.rtmp}/live/one`, await testFrames());
  }, 60_000);
  afterAll(async () => {
    await pub?.stop();
    await node?.close();
  });

  it('is refused with NetStream.Publish.BadName while the first goes on', async () => {
    const second = await RtmpClient.connect(`rtmp://127.0.0.1:${node.ports.rtmp}/live/one`);
    await expect(second.publish()).rejects.toThrow(/BadName|already/);
    second.close();
    let tags = 0;
    await readFlvTags(`http://127.0.0.1:${node.ports.http}/live/one.flv`, () => ++tags >= 20);
    expect(tags).toBe(20);
    expect(events).toEqual(['publish _/live/one']);
  });

  it('the name is free again after the publisher leaves, and players get end of stream', async () => {
    const ended = readFlvTags(`http://127.0.0.1:${node.ports.http}/live/one.flv`, () => false, 15_000);
    await new Promise((r) => setTimeout(r, 300));
    await pub.stop();
    const t0 = performance.now();
    expect((await ended).status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(events).toContain('unpublish _/live/one');
    pub = await publishFrames(`rtmp://127.0.0.1:${node.ports.rtmp}/live/one`, await testFrames());
    expect((await node.streams()).map((s) => s.key)).toEqual(['_/live/one']);
  });
});
