import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RtsNode } from '../../../engine/node.js';
import {
  type FilePublisher,
  publishFrames,
  readFlvTags,
  startNode,
  testFrames,
} from '../../interop/engine/engine-harness.js';

describe('a slow player (reads nothing)', () => {
  let node: RtsNode;
  let pub: FilePublisher;
  let slow: Socket;
  beforeAll(async () => {
    node = await startNode({
      limits: { ringBytes: 2 * 1024 * 1024 },
      players: { maxQueuedBytes: 256 * 1024, stallTimeoutMs: 2000 },
    });
    // 40x real time: about 20 Mbit/s, so the slow player's socket buffers fill within seconds
    pub = await publishFrames(`rtmp://127.0.0.1:${node.ports.rtmp}/live/fast`, await testFrames(), 400, 40);
    await new Promise((r) => setTimeout(r, 300));
  }, 60_000);
  afterAll(async () => {
    slow?.destroy();
    await pub?.stop();
    await node?.close();
  });

  it('does not slow a normal player, and is dropped while the node stays bounded', async () => {
    slow = connect(node.ports.http, '127.0.0.1');
    slow.write('GET /live/fast.flv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    slow.pause(); // never read: the kernel buffers fill, then the node's queue
    let dropped = 0;
    node.on('stop', (ctx) => {
      if (ctx.protocol === 'flv') dropped++;
    });
    const rssBefore = process.memoryUsage().rss;
    let droppedAt = 0;
    let last = performance.now();
    let maxGap = 0;
    let tags = 0;
    const t0 = performance.now();
    await readFlvTags(
      `http://127.0.0.1:${node.ports.http}/live/fast.flv`,
      (t) => {
        maxGap = Math.max(maxGap, t.at - last);
        last = t.at;
        tags++;
        // play until the slow player has been dropped, and 2 s more
        if (dropped > 0 && droppedAt === 0) droppedAt = t.at;
        return (droppedAt > 0 && t.at - droppedAt > 2000) || t.at - t0 > 25_000;
      },
      30_000,
    );
    expect(tags).toBeGreaterThan(1000);
    expect(maxGap, 'longest pause of the normal player').toBeLessThan(500);
    // the slow player was dropped while the normal one was still playing
    expect(dropped).toBe(1);
    // a gross-leak guard only: this process also reads ~20 Mbit/s for up to 25 s, and its GC is lazy
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(160 * 1024 * 1024);
  }, 50_000);
});
