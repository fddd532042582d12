import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAuthKey } from '../../../engine/access/auth-key.js';
import type { RtsNode } from '../../../engine/node.js';
import { RtmpClient } from '../../../transports/rtmp/client.js';
import {
  type FilePublisher,
  publishFrames,
  readFlvTags,
  startNode,
  testFrames,
} from '../../interop/engine/engine-harness.js';

const now = () => Math.floor(Date.now() / 1000);
const domains = [
  { name: 'push.test', type: 'ingest' as const, authKey: 'pushkey' },
  { name: 'play.test', type: 'play' as const, ingest: 'push.test', authKey: 'playkey', authKey2: 'playkey2' },
  { name: 'rts.test', type: 'rts' as const, parent: 'play.test' },
  { name: 'push2.test', type: 'ingest' as const },
  { name: 'play2.test', type: 'play' as const, ingest: 'push2.test' },
];

describe('domains and auth_key over RTMP and HTTP-FLV', () => {
  let node: RtsNode;
  let pub: FilePublisher;
  let flv: (stream: string, q: string) => string;
  beforeAll(async () => {
    node = await startNode({ domains });
    const key = makeAuthKey('/live/s', 'pushkey', now() + 60);
    pub = await publishFrames(
      `rtmp://127.0.0.1:${node.ports.rtmp}/live/s?domain=push.test&auth_key=${key}`,
      await testFrames(),
    );
    flv = (stream, q) => `http://127.0.0.1:${node.ports.http}/live/${stream}.flv?${q}`;
  }, 60_000);
  afterAll(async () => {
    await pub?.stop();
    await node?.close();
  });

  it('a publish signed for the ingest domain is live under that domain', async () => {
    const list = await node.streams();
    expect(list.map((s) => s.key)).toEqual(['push.test/live/s']);
  });

  it('refuses a publish on a play domain, and an unsigned publish, with an error status', async () => {
    for (const q of ['domain=play.test', 'domain=push.test']) {
      const c = await RtmpClient.connect(`rtmp://127.0.0.1:${node.ports.rtmp}/live/other?${q}`);
      await expect(c.publish()).rejects.toThrow(/domain|auth_key/);
      c.close();
    }
  });

  it('HTTP-FLV: valid, secondary key, expired, forged and another URI', async () => {
    const ok = makeAuthKey('/live/s.flv', 'playkey', now() + 60);
    let tags = 0;
    const r = await readFlvTags(flv('s', `domain=play.test&auth_key=${ok}`), () => ++tags > 3);
    expect(r.status).toBe(200);
    expect(tags).toBeGreaterThan(3);
    const second = makeAuthKey('/live/s.flv', 'playkey2', now() + 60);
    expect((await readFlvTags(flv('s', `domain=play.test&auth_key=${second}`), () => true)).status).toBe(200);
    const expired = makeAuthKey('/live/s.flv', 'playkey', now() - 5);
    const e = await readFlvTags(flv('s', `domain=play.test&auth_key=${expired}`), () => true);
    expect(e).toEqual({ status: 403, text: 'auth_key expired\n' });
    const forged = makeAuthKey('/live/s.flv', 'guess', now() + 60);
    expect((await readFlvTags(flv('s', `domain=play.test&auth_key=${forged}`), () => true)).status).toBe(403);
    const otherUri = makeAuthKey('/live/s', 'playkey', now() + 60);
    expect((await readFlvTags(flv('s', `domain=play.test&auth_key=${otherUri}`), () => true)).status).toBe(
      403,
    );
  });

  it('RTMP play: signed for /{app}/{stream} plays, unsigned gets an error status', async () => {
    const ok = makeAuthKey('/live/s', 'playkey', now() + 60);
    const c = await RtmpClient.connect(
      `rtmp://127.0.0.1:${node.ports.rtmp}/live/s?domain=play.test&auth_key=${ok}`,
    );
    const media = new Promise<number>((resolve) => c.once('media', (m) => resolve(m.typeId)));
    await c.play();
    expect([8, 9, 18]).toContain(await media);
    c.close();
    const bad = await RtmpClient.connect(`rtmp://127.0.0.1:${node.ports.rtmp}/live/s?domain=play.test`);
    await expect(bad.play()).rejects.toThrow(/auth_key missing/);
    bad.close();
  });

  it('FLV on an rts domain is refused; play across unbound domains finds nothing', async () => {
    const k = makeAuthKey('/live/s.flv', 'playkey', now() + 60);
    const r = await readFlvTags(flv('s', `domain=rts.test&auth_key=${k}`), () => true);
    expect(r.status).toBe(403);
    expect(r.text).toMatch(/RTS domain/);
    // play2.test is bound to push2.test: the stream published on push.test is not visible there
    expect((await readFlvTags(flv('s', 'domain=play2.test'), () => true)).status).toBe(404);
  });
});
