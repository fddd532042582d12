/**
 * Headless Chromium plays a WHEP stream from WhepService: H.264 baseline (-g 25) + Opus fed from
 * ffmpeg-made files in real time. Checks frames decoded keep growing for 9 s, the picture size,
 * audio packets, no freeze, and reports the time to first frame after ICE connected.
 */
import { createServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MemoryFeed,
  makeFixtures,
  mergeFrames,
  type Pacer,
  paceFrames,
  readFlvVideo,
  readOggOpus,
} from '../../../benchmarks/webrtc/file-feed.js';
import { shutdownWebrtcRuntime, WhepService } from '../../../transports/webrtc/index.js';
import { collectPageLog, launchChromium } from '../../support/browser.js';
import { contentionWindow } from '../../support/contention.js';
import { freePort, freeUdpPorts } from '../../support/ports.js';
import { sleep } from '../../support/wait-for.js';

const PAGE = '<!doctype html><html><body><video id="v" muted autoplay playsinline></video></body></html>';

let browser: Browser | undefined;
let http: Server | undefined;
let service: WhepService | undefined;
let pacer: Pacer | undefined;
let base = '';

beforeAll(async () => {
  const fixtures = await makeFixtures();
  const frames = mergeFrames(readFlvVideo(fixtures.flv), readOggOpus(fixtures.ogg));
  const feed = new MemoryFeed({
    video: { codec: 'avc1.42c01e', width: 640, height: 360, bFrames: false, gopMs: 1000 },
    audio: { codec: 'opus', sampleRate: 48000, channels: 2 },
  });
  pacer = paceFrames(frames, (f) => feed.push(f), { loops: 4 });
  const [udpPort] = await freeUdpPorts(1);
  const svc = new WhepService({
    udpPort,
    announceIp: '127.0.0.1',
    locationPrefix: '/whep',
    resolveFeed: (app, stream) => (app === 'live' && stream === 'cam' ? feed : undefined),
  });
  service = svc;
  http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      return;
    }
    if (!url.pathname.startsWith('/whep/')) {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void svc
        .handle({
          method: req.method ?? 'GET',
          path: url.pathname.slice(5),
          query: Object.fromEntries(url.searchParams),
          headers: req.headers as Record<string, string>,
          body: Buffer.concat(chunks),
        })
        .then((r) => res.writeHead(r.status, r.headers).end(r.body));
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => http!.listen(port, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${port}`;
  browser = await launchChromium();
  await sleep(1300); // join mid-GOP
}, 120_000);

afterAll(async () => {
  await browser?.close();
  pacer?.stop();
  await pacer?.done;
  service?.close();
  await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
  await shutdownWebrtcRuntime();
});

interface Sample {
  framesDecoded: number;
  width: number;
  height: number;
  videoWidth: number;
  audioPackets: number;
  freezeCount: number;
  freezeMs: number;
  ice?: number;
  firstFrame?: number;
  start?: number;
  answerAt?: number;
}

describe('WHEP in headless Chromium', () => {
  it('plays H.264 + Opus for 9 s without freezing, starting from the cached GOP', async () => {
    const page = await browser!.newPage();
    const log = collectPageLog(page);
    await page.goto(`${base}/`);
    await page.evaluate(async (url) => {
      const w = window as unknown as Record<string, unknown>;
      const t: Record<string, number> = { start: performance.now() };
      w.__t = t;
      const pc = new RTCPeerConnection();
      w.__pc = pc;
      pc.addTransceiver('video', { direction: 'recvonly' });
      pc.addTransceiver('audio', { direction: 'recvonly' });
      const v = document.getElementById('v') as HTMLVideoElement;
      pc.ontrack = (e) => {
        v.srcObject = e.streams[0] ?? new MediaStream([e.track]);
      };
      pc.oniceconnectionstatechange = () => {
        if (pc.iceConnectionState === 'connected' && t.ice === undefined) t.ice = performance.now();
      };
      const onFrame = (): void => {
        if (t.firstFrame === undefined) t.firstFrame = performance.now();
        v.requestVideoFrameCallback(onFrame);
      };
      v.requestVideoFrameCallback(onFrame);
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((resolve) => {
        if (pc.iceGatheringState === 'complete') resolve();
        pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
        setTimeout(resolve, 2000);
      });
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/sdp' },
        body: pc.localDescription!.sdp,
      });
      if (res.status !== 201) throw new Error(`WHEP ${res.status}: ${await res.text()}`);
      t.answerAt = performance.now();
      await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
    }, `${base}/whep/live/cam`);

    const sample = (): Promise<Sample> =>
      page.evaluate(async () => {
        const w = window as unknown as Record<string, unknown>;
        const pc = w.__pc as RTCPeerConnection;
        const v = document.getElementById('v') as HTMLVideoElement;
        const out: Record<string, number | undefined> = {
          framesDecoded: 0,
          width: 0,
          height: 0,
          audioPackets: 0,
          freezeCount: 0,
        };
        (await pc.getStats()).forEach((s: Record<string, unknown>) => {
          if (s.type === 'inbound-rtp' && s.kind === 'video') {
            out.framesDecoded = Number(s.framesDecoded ?? 0);
            out.width = Number(s.frameWidth ?? 0);
            out.height = Number(s.frameHeight ?? 0);
            out.freezeCount = Number(s.freezeCount ?? 0);
            out.freezeMs = Number(s.totalFreezesDuration ?? 0) * 1000;
          }
          if (s.type === 'inbound-rtp' && s.kind === 'audio')
            out.audioPackets = Number(s.packetsReceived ?? 0);
        });
        out.videoWidth = v.videoWidth;
        Object.assign(out, w.__t as Record<string, number>);
        return out as unknown as Sample;
      });

    const samples: Sample[] = [];
    let window: ReturnType<typeof contentionWindow> | undefined;
    for (let i = 0; i < 10; i++) {
      await sleep(1000);
      samples.push(await sample());
      if (i === 1) window = contentionWindow(); // the freezes counted are those after samples[1]
    }
    const machine = window!.stop();
    const last = samples[samples.length - 1];
    const ttff =
      last.firstFrame !== undefined && last.ice !== undefined ? last.firstFrame - last.ice : undefined;
    console.log(
      `chromium WHEP: time to first frame after ICE connected ${ttff?.toFixed(0)} ms, after POST answer ${(last.firstFrame! - last.answerAt!).toFixed(0)} ms; ` +
        `frames ${samples.map((s) => s.framesDecoded).join(',')}; audio packets ${last.audioPackets}; freezes ${samples.map((s) => s.freezeCount).join(',')} (${last.freezeMs.toFixed(0)} ms); ` +
        `server ${JSON.stringify(service!.sessionStats()[0])}`,
    );
    expect(last.videoWidth, log()).toBe(640);
    expect(last.width).toBe(640);
    expect(last.height).toBe(360);
    // framesDecoded grows every second from the second sample on (no stall), ~25 fps overall.
    for (let i = 2; i < samples.length; i++) {
      expect(samples[i].framesDecoded - samples[i - 1].framesDecoded, `second ${i}`).toBeGreaterThan(10);
    }
    expect(last.framesDecoded).toBeGreaterThan(200);
    expect(last.audioPackets).toBeGreaterThan(400);
    // No freeze once playing. On a shared 2-core box (the suite's other files, benchmarks) the
    // test's own real-time pacer and Chromium's renderer get starved; when the machine was
    // contended over the window a short freeze is tolerated and its figures are in the message.
    const busy = machine.contended;
    expect(last.freezeCount - samples[1].freezeCount, machine.why).toBeLessThanOrEqual(busy ? 2 : 0);
    expect(last.freezeMs, machine.why).toBeLessThan(busy ? 1500 : 1);
    expect(ttff).toBeDefined();
    expect(ttff!).toBeLessThan(1000);
    await page.close();
  }, 60_000);

  it('connects 20 concurrent Chromium peer connections over the one shared UDP port', async () => {
    const page = await browser!.newPage();
    await page.goto(`${base}/`);
    const before = service!.sessionCount;
    const result = await page.evaluate(async (url) => {
      const pcs: RTCPeerConnection[] = [];
      const statuses: number[] = [];
      await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          await new Promise((r) => setTimeout(r, i * 30));
          const pc = new RTCPeerConnection();
          pcs.push(pc);
          pc.addTransceiver('video', { direction: 'recvonly' });
          pc.addTransceiver('audio', { direction: 'recvonly' });
          await pc.setLocalDescription(await pc.createOffer());
          await new Promise<void>((r) => {
            pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r();
            setTimeout(r, 1000);
          });
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/sdp' },
            body: pc.localDescription!.sdp,
          });
          statuses.push(res.status);
          await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
        }),
      );
      for (let i = 0; i < 100 && pcs.some((p) => p.connectionState !== 'connected'); i++)
        await new Promise((r) => setTimeout(r, 100));
      const states = pcs.map((p) => `${p.connectionState}/${p.iceConnectionState}`);
      for (const p of pcs) p.close();
      return { states, statuses };
    }, `${base}/whep/live/cam`);
    const detail = JSON.stringify({ ...result, server: service!.sessionStats().map((s) => s.state) });
    expect(
      result.statuses.filter((s) => s === 201),
      detail,
    ).toHaveLength(20);
    expect(
      result.states.filter((s) => s.startsWith('connected/')),
      detail,
    ).toHaveLength(20);
    expect(service!.sessionCount - before).toBeLessThanOrEqual(20);
    await page.close();
  }, 60_000);
});
