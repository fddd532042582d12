import ndc from 'node-datachannel';
import { WhepService } from '../../transports/webrtc/index.js';
import { MemoryFeed, makeFixtures, mergeFrames, paceFrames, readFlvVideo, readOggOpus } from './file-feed.js';
import { WhepViewerClient } from './whep-client.js';
const fx = await makeFixtures();
const frames = mergeFrames(readFlvVideo(fx.flv), readOggOpus(fx.ogg));
const feed = new MemoryFeed({ video: { codec: 'avc1.42c01e', width: 640, height: 360, bFrames: false, gopMs: 1000 }, audio: { codec: 'opus', sampleRate: 48000, channels: 2 } });
const pacer = paceFrames(frames, (f) => feed.push(f), { loops: 2 });
const svc = new WhepService({ udpPort: 40333, resolveFeed: () => feed });
const spacing = Number(process.argv[2] ?? 200);
const vs: WhepViewerClient[] = [];
for (let i = 0; i < 10; i++) {
  const v = new WhepViewerClient(`d${i}`);
  vs.push(v);
  await v.connect(async (offer) => {
    const r = await svc.handle({ method: 'POST', path: '/live/cam', query: {}, headers: { 'content-type': 'application/sdp' }, body: new TextEncoder().encode(offer) });
    return { status: r.status, answer: String(r.body) };
  });
  await new Promise((r) => setTimeout(r, spacing));
}
await new Promise((r) => setTimeout(r, 1500));
console.log(vs.map((v) => `${v.name}:${v.state}:${v.video.packets}`).join(' '));
for (const v of vs) v.close();
svc.close();
pacer.stop();
await new Promise((r) => setTimeout(r, 300));
ndc.cleanup();
