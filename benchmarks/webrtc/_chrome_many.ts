import { createServer } from 'node:http';
import { chromium } from 'playwright-core';
import { shutdownWebrtcRuntime, WhepService } from '../../transports/webrtc/index.js';
import { MemoryFeed, makeFixtures, mergeFrames, paceFrames, readFlvVideo, readOggOpus } from './file-feed.js';
const fx = await makeFixtures();
const frames = mergeFrames(readFlvVideo(fx.flv), readOggOpus(fx.ogg));
const feed = new MemoryFeed({ video: { codec: 'avc1.42c01e', width: 640, height: 360, bFrames: false, gopMs: 1000 }, audio: { codec: 'opus', sampleRate: 48000, channels: 2 } });
const pacer = paceFrames(frames, (f) => feed.push(f), { loops: 2 });
const svc = new WhepService({ udpPort: 40444, resolveFeed: () => feed });
const http = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (req.url === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
    void svc.handle({ method: req.method!, path: '/live/cam', query: {}, headers: req.headers as Record<string, string>, body: Buffer.concat(chunks) }).then((r) => res.writeHead(r.status, r.headers).end(r.body));
  });
});
await new Promise<void>((r) => http.listen(18777, '127.0.0.1', () => r()));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: false, args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-features=WebRtcHideLocalIpsWithMdns'] });
const page = await browser.newPage();
await page.goto('http://127.0.0.1:18777/');
const n = Number(process.argv[2] ?? 20);
const states = await page.evaluate(async (n) => {
  const pcs: RTCPeerConnection[] = [];
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    await new Promise((r) => setTimeout(r, i * 50));
    const pc = new RTCPeerConnection();
    pcs.push(pc);
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((r) => { pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r(); setTimeout(r, 1000); });
    const res = await fetch('/whep', { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp });
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  }));
  await new Promise((r) => setTimeout(r, 3000));
  return pcs.map((p) => p.connectionState);
}, n);
console.log(states.join(' '));
console.log('server sessions', svc.sessionCount);
await browser.close();
pacer.stop();
svc.close();
http.close();
shutdownWebrtcRuntime();
