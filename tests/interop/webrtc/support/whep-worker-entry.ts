/** Worker body for whep-worker.test.ts: a WhepService + a file-fed feed, served over a MessagePort. */
import { parentPort, workerData } from 'node:worker_threads';
import {
  MemoryFeed,
  makeFixtures,
  mergeFrames,
  paceFrames,
  readFlvVideo,
  readOggOpus,
} from '../../../../benchmarks/webrtc/file-feed.js';
import { serveWhepOnPort, shutdownWebrtcRuntime, WhepService } from '../../../../transports/webrtc/index.js';

const { udpPort, port } = workerData as { udpPort: number; port: import('node:worker_threads').MessagePort };
const fx = await makeFixtures();
const feed = new MemoryFeed({
  video: { codec: 'avc1.42c01e', width: 640, height: 360, bFrames: false, gopMs: 1000 },
  audio: { codec: 'opus', sampleRate: 48000, channels: 2 },
});
const pacer = paceFrames(mergeFrames(readFlvVideo(fx.flv), readOggOpus(fx.ogg)), (f) => feed.push(f), {
  loops: 3,
});
const service = new WhepService({ udpPort, resolveFeed: () => feed, locationPrefix: '/whep' });
const stop = serveWhepOnPort(service, port);
parentPort!.postMessage('ready');
parentPort!.once('message', async () => {
  stop();
  pacer.stop();
  service.close();
  await new Promise((r) => setTimeout(r, 200));
  await shutdownWebrtcRuntime();
  port.close();
  parentPort!.postMessage({ done: true });
});
