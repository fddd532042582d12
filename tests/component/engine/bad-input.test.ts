import { connect } from 'node:net';
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

function rawExchange(
  port: number,
  bytes: string | Uint8Array,
  waitMs = 1500,
): Promise<{ reply: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let reply = '';
    let closed = false;
    s.on('data', (d) => {
      reply += d.toString('latin1');
    });
    s.on('error', () => {});
    s.on('close', () => {
      closed = true;
    });
    s.write(bytes);
    setTimeout(() => {
      s.destroy();
      resolve({ reply, closed });
    }, waitMs);
  });
}

describe('bad input closes only its own connection', () => {
  let node: RtsNode;
  let pub: FilePublisher;
  let tags = 0;
  let reading: Promise<unknown>;
  beforeAll(async () => {
    node = await startNode();
    pub = await publishFrames(`rtmp://127.0.0.1:${node.ports.rtmp}/live/ok`, await testFrames());
    reading = readFlvTags(
      `http://127.0.0.1:${node.ports.http}/live/ok.flv`,
      () => {
        tags++;
        return false;
      },
      25_000,
    );
  }, 60_000);
  afterAll(async () => {
    await pub?.stop();
    await node?.close();
    await reading;
  });

  it('garbage before the RTMP handshake, and after it, closes that socket', async () => {
    const r1 = await rawExchange(node.ports.rtmp, new Uint8Array(4000).fill(0x42));
    expect(r1.closed).toBe(true);
    const c0c1 = new Uint8Array(1537);
    c0c1[0] = 3;
    const garbage = new Uint8Array(1537 + 1536 + 3000);
    garbage.set(c0c1);
    garbage.fill(0xff, 1537 + 1536);
    const r2 = await rawExchange(node.ports.rtmp, garbage);
    expect(r2.closed).toBe(true);
  });

  it('a client that never finishes the handshake is closed by the handshake timeout', async () => {
    const quick = await startNode({ rtmp: { handshakeTimeoutMs: 400 } });
    try {
      const early = rawExchange(quick.ports.rtmp, new Uint8Array([3]), 200);
      expect((await early).closed).toBe(false);
      const late = await rawExchange(quick.ports.rtmp, new Uint8Array([3]), 1200);
      expect(late.closed).toBe(true);
    } finally {
      await quick.close();
    }
  });

  it('a broken HTTP request gets 400, an oversized header 431, a traversal 404, an oversized body 413', async () => {
    const bad = await rawExchange(node.ports.http, 'NONSENSE\r\n\r\n', 500);
    expect(bad.reply).toMatch(/^HTTP\/1\.1 400/);
    const big = await rawExchange(
      node.ports.http,
      `GET /live/ok.flv HTTP/1.1\r\nX: ${'a'.repeat(40_000)}\r\n\r\n`,
      500,
    );
    expect(big.reply).toMatch(/^HTTP\/1\.1 (431|400)/);
    const trav = await fetch(`http://127.0.0.1:${node.ports.http}/player/..%2f..%2fpackage.json`);
    expect(trav.status).toBe(404);
    const ws = await rawExchange(
      node.ports.http,
      'GET /live/ok.flv HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
      500,
    );
    expect(ws.reply).toMatch(/^HTTP\/1\.1 400/);
    // a WHEP offer of 1 MB: refused before it is read whole, the node answers on
    const huge = await fetch(`http://127.0.0.1:${node.ports.http}/live/ok`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: `v=0\r\n${'a=x\r\n'.repeat(200_000)}`,
    });
    expect(huge.status).toBe(413);
    expect(await huge.text()).toMatch(/request body over/);
    // far too big (past the 4 MB drained for the 413): that connection is cut
    const endless = fetch(`http://127.0.0.1:${node.ports.http}/live/ok`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: new Uint8Array(8 * 1024 * 1024),
    });
    await expect(endless).rejects.toThrow();
    expect((await fetch(`http://127.0.0.1:${node.ports.http}/api/v1/node`)).status).toBe(200);
  });

  it('a publisher of frames that do not parse is dropped; other streams go on', async () => {
    const c = await RtmpClient.connect(`rtmp://127.0.0.1:${node.ports.rtmp}/live/bad`);
    await c.publish();
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    for (let i = 0; i < 60; i++) c.writeMedia(9, i * 40, new Uint8Array([0x1f, 0xff])); // codec id 15: not a video codec
    await closed;
    expect(node.badFrames).toBeGreaterThanOrEqual(50);
    const before = tags;
    await new Promise((r) => setTimeout(r, 500));
    expect(tags).toBeGreaterThan(before);
    expect((await node.streams()).map((s) => s.key)).toEqual(['_/live/ok']);
  });
});

describe('streams spread over two workers', () => {
  it('places two streams on two workers, each answering for its own', async () => {
    const node = await startNode({ workers: 2 });
    const frames = await testFrames();
    const a = await publishFrames(`rtmp://127.0.0.1:${node.ports.rtmp}/live/a`, frames);
    const b = await publishFrames(`rtmp://127.0.0.1:${node.ports.rtmp}/live/b`, frames);
    await new Promise((r) => setTimeout(r, 1500));
    const streams = await node.streams();
    expect(streams.map((s) => [s.stream, s.worker]).sort()).toEqual([
      ['a', 0],
      ['b', 1],
    ]);
    for (const s of streams) expect(s.video?.width).toBe(320);
    await a.stop();
    await b.stop();
    await node.close();
  }, 30_000);
});
