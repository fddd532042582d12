import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefusedError } from '../../../engine/errors.js';
import type { PlayContext, PublishContext, RtsNode } from '../../../engine/node.js';
import { RtmpClient } from '../../../transports/rtmp/client.js';
import {
  type FilePublisher,
  publishFrames,
  readFlvTags,
  startNode,
  testFrames,
} from '../../interop/engine/engine-harness.js';

describe('library hooks and events', () => {
  let node: RtsNode;
  let pub: FilePublisher;
  const seen: string[] = [];
  beforeAll(async () => {
    node = await startNode(
      {},
      {
        async onPublish(ctx: PublishContext) {
          await new Promise((r) => setTimeout(r, 10));
          if (ctx.stream.startsWith('private'))
            throw new RefusedError('MY_DENIED', 'private streams are not allowed here');
        },
        onPlay(ctx: PlayContext) {
          if (ctx.query.token !== 'ok') throw new Error('a token is required');
        },
      },
    );
    node.on('publish', (c) => seen.push(`publish ${c.stream}`));
    node.on('play', (c) => seen.push(`play ${c.protocol}`));
    node.on('stop', (c) => seen.push(`stop ${c.protocol} ${c.bytesOut > 0}`));
    node.on('publish', () => {
      throw new Error('a broken listener');
    });
    pub = await publishFrames(`rtmp://127.0.0.1:${node.ports.rtmp}/live/open`, await testFrames());
  }, 60_000);
  afterAll(async () => {
    await pub?.stop();
    await node?.close();
  });

  it('an async publish hook refuses with its reason; a throwing listener does not break the node', async () => {
    const c = await RtmpClient.connect(`rtmp://127.0.0.1:${node.ports.rtmp}/live/private1`);
    await expect(c.publish()).rejects.toThrow(/private streams are not allowed here/);
    c.close();
    expect(seen).toContain('publish open');
    expect(seen).not.toContain('publish private1');
  });

  it('a play hook refuses HTTP-FLV with 403 and its reason, and allows with the token; play/stop events follow', async () => {
    const no = await readFlvTags(`http://127.0.0.1:${node.ports.http}/live/open.flv`, () => true);
    expect(no).toEqual({ status: 403, text: 'a token is required\n' });
    let n = 0;
    await readFlvTags(`http://127.0.0.1:${node.ports.http}/live/open.flv?token=ok`, () => ++n > 5);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toContain('play flv');
    expect(seen).toContain('stop flv true');
  });
});
