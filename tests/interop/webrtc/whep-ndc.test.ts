/**
 * WhepService against headless node-datachannel viewers on loopback: a feed played in real time
 * from an ffmpeg-made H.264 FLV + Opus Ogg, one subscription per stream, GOP start, NACK, reaping,
 * and the 4xx answers.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Fixtures,
  MemoryFeed,
  makeFixtures,
  mergeFrames,
  type Pacer,
  paceFrames,
  readFlvVideo,
  readOggOpus,
} from '../../../benchmarks/webrtc/file-feed.js';
import { type WhepPost, WhepViewerClient } from '../../../benchmarks/webrtc/whep-client.js';
import type { MediaFrame } from '../../../media/frame/media-frame.js';
import { shutdownWebrtcRuntime, WhepService } from '../../../transports/webrtc/index.js';
import { freeUdpPorts } from '../../support/ports.js';
import { sleep, waitFor } from '../../support/wait-for.js';
import { type LossyProxy, startLossyProxy } from './support/lossy-udp-proxy.js';

let fixtures: Fixtures;
let frames: MediaFrame[];
let service: WhepService | undefined;
let pacer: Pacer | undefined;
let proxy: LossyProxy | undefined;
const clients: WhepViewerClient[] = [];

const INFO = {
  video: { codec: 'avc1.42c01e', width: 640, height: 360, bFrames: false, gopMs: 1000 },
  audio: { codec: 'opus', sampleRate: 48000, channels: 2 },
};

beforeAll(async () => {
  fixtures = await makeFixtures();
  frames = mergeFrames(readFlvVideo(fixtures.flv), readOggOpus(fixtures.ogg));
}, 120_000);

afterEach(async () => {
  pacer?.stop();
  await pacer?.done;
  pacer = undefined;
  for (const c of clients.splice(0)) c.close();
  service?.close();
  service = undefined;
  await proxy?.close();
  proxy = undefined;
  await sleep(100);
});

afterAll(async () => {
  await shutdownWebrtcRuntime();
});

async function start(
  opts: { rtcpTimeoutMs?: number; viaLossyProxy?: (len: number, index: number) => boolean } = {},
): Promise<{ svc: WhepService; feed: MemoryFeed; post: (path: string) => WhepPost; port: number }> {
  const [port] = await freeUdpPorts(1);
  if (opts.viaLossyProxy) proxy = await startLossyProxy(port, opts.viaLossyProxy);
  const feed = new MemoryFeed(INFO);
  const svc = new WhepService({
    udpPort: port,
    announceIp: '127.0.0.1',
    announcePort: proxy?.port,
    resolveFeed: (app, stream) => (app === 'live' && stream === 'cam' ? feed : undefined),
    checkPlayable: (info) => (info.video?.bFrames ? 'B-frames' : undefined),
    rtcpTimeoutMs: opts.rtcpTimeoutMs,
  });
  service = svc;
  pacer = paceFrames(frames, (f) => feed.push(f), { loops: 3 });
  const post =
    (path: string): WhepPost =>
    async (offer) => {
      const res = await svc.handle({
        method: 'POST',
        path,
        query: {},
        headers: { 'content-type': 'application/sdp' },
        // Through the proxy the server must learn the viewer only as the proxy (peer-reflexive):
        // without its host candidates it cannot reach it around the proxy.
        body: new TextEncoder().encode(proxy ? offer.replace(/a=candidate:[^\r\n]*\r?\n/g, '') : offer),
      });
      return { status: res.status, location: res.headers.location, answer: String(res.body) };
    };
  return { svc, feed, post, port };
}

function client(): WhepViewerClient {
  const c = new WhepViewerClient(`v${clients.length}`);
  clients.push(c);
  return c;
}

describe('WhepService with node-datachannel viewers', () => {
  it('starts each viewer at once from the cached GOP, with one feed subscription for three viewers', async () => {
    const { svc, feed, post } = await start();
    await sleep(1500); // mid-GOP: the newcomer must not wait for the next keyframe
    const viewers = [client(), client(), client()];
    for (const v of viewers) expect(await v.connect(post('/live/cam'))).toBe(201);
    await waitFor(() => viewers.every((v) => v.firstVideoAt !== undefined) || 'missing: first video packet', {
      timeoutMs: 5000,
      what: 'every viewer to get video',
    });
    for (const v of viewers) {
      const ttf = v.firstVideoAt! - (v.connectedAt ?? v.startedAt);
      expect(ttf).toBeLessThan(300);
    }
    await sleep(3000);
    for (const v of viewers) {
      expect(v.video.packets).toBeGreaterThan(100);
      expect(v.audio.packets).toBeGreaterThan(100); // 50 Opus packets/s
      expect(v.rtcpIn).toBeGreaterThan(0); // sender reports
    }
    expect(feed.subscribes).toBe(1);
    expect(svc.streamCount).toBe(1);
    const stats = svc.sessionStats();
    expect(stats.every((s) => s.firstFrameMs !== undefined && s.firstFrameMs < 300)).toBe(true);
    // DELETE frees the session; the last one drops the subscription.
    for (const v of viewers) {
      const res = await svc.handle({
        method: 'DELETE',
        path: v.location!,
        query: {},
        headers: {},
        body: new Uint8Array(),
      });
      expect(res.status).toBe(200);
    }
    expect(svc.sessionCount).toBe(0);
    expect(feed.subscriberCount).toBe(0);
  }, 30_000);

  it('answers NACKs from the per-stream history', async () => {
    let big = 0;
    const { svc, post } = await start({
      viaLossyProxy: (len) => len > 600 && [60, 61, 90].includes(big++),
    });
    const v = client();
    expect(await v.connect(post('/live/cam'))).toBe(201);
    await waitFor(() => v.video.packets > 120 || 'missing: 120 video packets', { timeoutMs: 5000 });
    const missing = v.missingVideo();
    expect(missing.length).toBeGreaterThan(0);
    v.sendNack(missing);
    await waitFor(
      () => v.missingVideo().length === 0 || `missing: ${v.missingVideo().length} packets still lost`,
      {
        timeoutMs: 3000,
        what: 'retransmissions',
      },
    );
    const s = svc.sessionStats()[0];
    expect(s.nacks).toBe(1);
    expect(s.retransmits).toBe(missing.length);
  }, 30_000);

  it('reaps a viewer that vanishes without DELETE', async () => {
    const { svc, feed, post } = await start({ rtcpTimeoutMs: 2000 });
    const v = client();
    expect(await v.connect(post('/live/cam'))).toBe(201);
    await waitFor(() => v.video.packets > 10 || 'missing: video', { timeoutMs: 5000 });
    expect(svc.sessionCount).toBe(1);
    v.close(); // no DELETE; the server learns from ICE/DTLS state or from RTCP silence
    await waitFor(() => svc.sessionCount === 0 || `missing: reaping (${svc.sessionStats()[0]?.state})`, {
      timeoutMs: 8000,
      what: 'the vanished viewer to be reaped',
    });
    expect(feed.subscriberCount).toBe(0);
  }, 30_000);

  it('drops garbage datagrams on its UDP port and counts RTCP that does not parse; the viewer plays on', async () => {
    const { svc, post, port } = await start();
    const v = client();
    expect(await v.connect(post('/live/cam'))).toBe(201);
    await waitFor(() => v.video.packets > 10 || 'missing: video', { timeoutMs: 5000 });
    // from a stranger: random bytes, a STUN binding request for an unknown user, a DTLS record, RTP-like bytes
    const sock = createSocket('udp4');
    const stun = Buffer.alloc(20 + 12);
    stun.writeUInt16BE(0x0001, 0);
    stun.writeUInt16BE(12, 2);
    stun.writeUInt32BE(0x2112a442, 4);
    stun.writeUInt16BE(0x0006, 20); // USERNAME
    stun.writeUInt16BE(8, 22);
    stun.write('nobody:x', 24);
    const dtls = Buffer.from([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4]);
    const rtpLike = Buffer.concat([Buffer.from([0x80, 96, 0, 1]), randomBytes(200)]);
    for (let i = 0; i < 50; i++) {
      for (const d of [randomBytes(1 + (i % 300)), stun, dtls, rtpLike]) sock.send(d, port, '127.0.0.1');
    }
    // from the viewer itself, through SRTCP: a receiver report with the padding bit set and a pad
    // count of 0 (the stack routes it by its length and SSRCs; our parser refuses the padding)
    const bad = Buffer.alloc(32);
    bad[0] = 0xa1;
    bad[1] = 201;
    bad.writeUInt16BE(7, 2);
    bad.writeUInt32BE(1, 4);
    bad.writeUInt32BE(v.video.ssrc, 8);
    for (let i = 0; i < 5; i++) v.sendRawRtcp(bad);
    await waitFor(() => svc.stats().rtcpErrors >= 5 || `missing: rtcpErrors ${svc.stats().rtcpErrors}`, {
      timeoutMs: 5000,
      what: 'bad RTCP to be counted',
    });
    sock.close();
    expect(
      svc.sessionStats().find((x) => x.state !== 'closed')?.rtcpErrors,
      JSON.stringify(svc.sessionStats()),
    ).toBeGreaterThanOrEqual(5);
    const before = v.video.packets;
    await waitFor(() => v.video.packets > before + 20 || 'missing: video after the garbage', {
      timeoutMs: 5000,
    });
    expect(svc.sessionCount).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('answers 4xx with a one-line reason for bad SDP, VP8-only offers, unknown streams and wrong types', async () => {
    const { svc } = await start();
    const req = (path: string, body: string, type = 'application/sdp', method = 'POST') =>
      svc.handle({
        method,
        path,
        query: {},
        headers: { 'content-type': type },
        body: new TextEncoder().encode(body),
      });
    const bad = await req('/live/cam', 'hello');
    expect(bad.status).toBe(400);
    expect(String(bad.body)).toMatch(/v=0/);
    const vp8 = [
      'v=0',
      'o=- 1 2 IN IP4 127.0.0.1',
      's=-',
      't=0 0',
      'a=group:BUNDLE 0',
      'a=fingerprint:sha-256 AB:CD',
      'a=ice-ufrag:abcd',
      'a=ice-pwd:0123456789012345678901',
      'm=video 9 UDP/TLS/RTP/SAVPF 96',
      'c=IN IP4 0.0.0.0',
      'a=mid:0',
      'a=recvonly',
      'a=rtpmap:96 VP8/90000',
      '',
    ].join('\r\n');
    const r406 = await req('/live/cam', vp8);
    expect(r406.status).toBe(406);
    expect(String(r406.body)).toMatch(/H\.264/);
    const h264 = vp8.replace(
      'VP8/90000',
      'H264/90000\r\na=fmtp:96 packetization-mode=1;profile-level-id=42e01f',
    );
    const r404 = await req('/live/nope', h264);
    expect(r404.status).toBe(404);
    expect((await req('/live/cam', h264, 'text/plain')).status).toBe(415);
    expect((await req('/live/cam', '', 'application/sdp', 'GET')).status).toBe(405);
    const pre = await svc.handle({
      method: 'OPTIONS',
      path: '/live/cam',
      query: {},
      headers: {},
      body: new Uint8Array(),
    });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-expose-headers']).toMatch(/Location/);
    expect(svc.sessionCount).toBe(0);
  });

  it('PATCH takes trickled candidates and refuses an ICE restart with 405', async () => {
    const { svc, post } = await start();
    const v = client();
    expect(await v.connect(post('/live/cam'))).toBe(201);
    const patch = (body: string) =>
      svc.handle({
        method: 'PATCH',
        path: v.location!,
        query: {},
        headers: { 'content-type': 'application/trickle-ice-sdpfrag' },
        body: new TextEncoder().encode(body),
      });
    const ok = await patch('a=mid:0\r\na=candidate:1 1 UDP 2122252543 127.0.0.1 50000 typ host\r\n');
    expect(ok.status).toBe(204);
    const restart = await patch('a=ice-ufrag:zzzz\r\na=ice-pwd:yyyyyyyyyyyyyyyyyyyyyy\r\n');
    expect(restart.status).toBe(405);
    expect(String(restart.body)).toMatch(/ICE restart/);
  });

  it('refuses with 406 and the hook reason when checkPlayable says no', async () => {
    const [port] = await freeUdpPorts(1);
    const feed = new MemoryFeed({ ...INFO, video: { ...INFO.video, bFrames: true } });
    service = new WhepService({
      udpPort: port,
      resolveFeed: () => feed,
      checkPlayable: (info) => (info.video?.bFrames ? 'B-frames are not allowed over RTS' : undefined),
    });
    const v = client();
    const svc = service;
    const status = await v.connect(async (offer) => {
      const r = await svc.handle({
        method: 'POST',
        path: '/live/b',
        query: {},
        headers: { 'content-type': 'application/sdp' },
        body: new TextEncoder().encode(offer),
      });
      return { status: r.status, answer: String(r.body) };
    });
    expect(status).toBe(406);
    expect(feed.subscribes).toBe(0);
  });
});
