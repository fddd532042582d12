import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthError } from '../../../engine/errors.js';
import {
  RtmpClient,
  type RtmpLimits,
  type RtmpMediaMessage,
  RtmpServer,
  RtmpStatusError,
} from '../../../transports/rtmp/index.js';
import { aacFrame, aacSequenceHeader, avcFrame, avcSequenceHeader } from '../../support/rtmp/flv-samples.js';
import { MiniRelay } from '../../support/rtmp/mini-relay.js';
import { waitFor } from '../../support/rtmp/wait-for.js';

const cleanups: Array<() => void | Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startServer(
  limits?: Partial<RtmpLimits>,
): Promise<{ server: RtmpServer; relay: MiniRelay; url: string }> {
  const relay = new MiniRelay();
  const server = new RtmpServer({ handler: relay, limits });
  const { port } = await server.listen(0, '127.0.0.1');
  cleanups.push(() => server.close());
  return { server, relay, url: `rtmp://127.0.0.1:${port}` };
}

async function client(url: string, opts?: { digest?: boolean }): Promise<RtmpClient> {
  const c = await RtmpClient.connect(url, { timeoutMs: 3000, ...opts });
  cleanups.push(() => c.close());
  return c;
}

describe('RtmpServer with RtmpClient peers', () => {
  it('relays a publish to a player: metadata, codec headers and GOP first, then live frames, byte-exact', async () => {
    const { url } = await startServer();
    const pub = await client(`${url}/live/cam1`);
    await pub.publish();
    pub.writeMetadata({ width: 320, height: 240, framerate: 25 });
    pub.writeMedia(9, 0, avcSequenceHeader());
    pub.writeMedia(8, 0, aacSequenceHeader());
    const key = avcFrame(true, 70_000, 1); // spans many 4096-byte chunks
    pub.writeMedia(9, 40, key);
    pub.writeMedia(8, 46, aacFrame(300, 2));
    pub.writeMedia(9, 80, avcFrame(false, 5000, 3));

    const player = await client(`${url}/live/cam1`, { digest: true });
    const got: RtmpMediaMessage[] = [];
    player.on('media', (m) => got.push({ ...m, payload: Uint8Array.prototype.slice.call(m.payload) }));
    await player.play();
    await waitFor(
      () => got.length >= 6,
      () => `player got ${got.length} of 6 cached messages`,
    );
    expect(got.map((m) => m.typeId)).toEqual([18, 9, 8, 9, 8, 9]);
    expect(got[0].name).toBe('onMetaData');
    expect(got[0].values?.[0]).toMatchObject({ width: 320, height: 240 });
    expect(Buffer.from(got[3].payload).equals(Buffer.from(key))).toBe(true);
    expect(got[3].timestamp).toBe(40);

    // Live frames after the join, with a timestamp past the 24-bit field (extended timestamps).
    const late = avcFrame(false, 9000, 7);
    pub.writeMedia(9, 0x1000000 + 5, late);
    await waitFor(
      () => got.length >= 7,
      () => 'live frame not received',
    );
    expect(got[6].timestamp).toBe(0x1000000 + 5);
    expect(Buffer.from(got[6].payload).equals(Buffer.from(late))).toBe(true);
  }, 10_000);

  it('answers NetStream.Publish.BadName to a second publisher of a live name, and the first goes on', async () => {
    const { url, relay } = await startServer();
    const first = await client(`${url}/live/dup`);
    await first.publish();
    const second = await client(`${url}/live/dup`);
    await expect(second.publish()).rejects.toMatchObject({ status: 'NetStream.Publish.BadName' });
    await waitFor(
      () => second.closed,
      () => 'refused publisher not closed',
    );
    first.writeMedia(9, 0, avcSequenceHeader());
    expect(first.closed).toBe(false);
    expect(relay.streams.has('live/dup')).toBe(true);
  });

  it('answers NetStream.Play.StreamNotFound for an unknown stream', async () => {
    const { url } = await startServer();
    const player = await client(`${url}/live/nothing`);
    const err = await player.play().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RtmpStatusError);
    expect((err as RtmpStatusError).status).toBe('NetStream.Play.StreamNotFound');
  });

  it('passes app, name, query and host to the hooks, and refuses with Publish.Denied on AuthError', async () => {
    const { url, relay } = await startServer();
    relay.refuse = (req) => (req.query.auth_key === 'good' ? undefined : new AuthError('auth_key expired'));
    const bad = await client(`${url}/live/cam?auth_key=bad&domain=example.com`);
    await expect(bad.publish()).rejects.toMatchObject({ status: 'NetStream.Publish.Denied' });
    const good = await client(`${url}/live/cam?auth_key=good`);
    await good.publish();
    expect(relay.requests[0]).toMatchObject({
      kind: 'publish',
      app: 'live',
      name: 'cam',
      uri: '/live/cam',
      host: '127.0.0.1',
      query: { auth_key: 'bad', domain: 'example.com' },
    });
  });

  it('tells players the stream ended when the publisher unpublishes', async () => {
    const { url } = await startServer();
    const pub = await client(`${url}/live/end`);
    await pub.publish();
    const player = await client(`${url}/live/end`);
    await player.play();
    let eof = false;
    player.on('eof', () => {
      eof = true;
    });
    await pub.stop();
    await waitFor(
      () => eof,
      () => 'player got no UnpublishNotify/StreamEOF',
    );
  });

  it('closes a client that never finishes the handshake, and one that sends garbage', async () => {
    const { url } = await startServer({ handshakeTimeoutMs: 200 });
    const p = Number(new URL(url).port);
    const silent = connect(p, '127.0.0.1');
    const garbage = connect(p, '127.0.0.1', () => garbage.write('GET / HTTP/1.1\r\n\r\n'));
    cleanups.push(() => {
      silent.destroy();
      garbage.destroy();
    });
    const closedAt = (s: ReturnType<typeof connect>) =>
      new Promise<number>((r) => s.on('close', () => r(Date.now())));
    const t0 = Date.now();
    const [a, b] = await Promise.all([closedAt(silent), closedAt(garbage)]);
    expect(a - t0).toBeGreaterThanOrEqual(150);
    expect(a - t0).toBeLessThan(2000);
    expect(b - t0).toBeLessThan(150);
  });

  it('closes a connection whose message length is over the limit, and others keep flowing', async () => {
    const { url } = await startServer({ maxMessageSize: 100_000 });
    const pub = await client(`${url}/live/ok`);
    await pub.publish();
    const player = await client(`${url}/live/ok`);
    const got: number[] = [];
    player.on('media', (m) => got.push(m.payload.length));
    await player.play();
    const hostile = await client(`${url}/live/big`);
    await hostile.publish();
    hostile.writeMedia(9, 0, avcFrame(true, 200_000, 1));
    const err = await hostile.closedPromise();
    expect(hostile.closed).toBe(true);
    void err;
    pub.writeMedia(9, 10, avcFrame(true, 50_000, 2));
    await waitFor(
      () => got.includes(50_000),
      () => 'the good stream stopped flowing',
    );
  });
});
