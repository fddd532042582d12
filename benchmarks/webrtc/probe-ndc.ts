/**
 * Stack probe (docs/decisions/webrtc-stack.md): node-datachannel inside a worker thread, two peer
 * connections on one UDP port (enableIceUdpMux), raw RTP through track.sendMessageBinary with no
 * media handler, RTCP delivered to the sender's track.onMessage.
 * Run: npx tsx benchmarks/webrtc/probe-ndc.ts
 */
import { isMainThread, parentPort, Worker } from 'node:worker_threads';

type Ndc = typeof import('node-datachannel').default;
let ndc = undefined as unknown as Ndc;

const PORT = 40_100;

async function connectPair(i: number): Promise<{ rtp: number; rtcp: number; close(): void }> {
  const server = new ndc.PeerConnection(`s${i}`, {
    iceServers: [],
    enableIceUdpMux: true,
    portRangeBegin: PORT,
    portRangeEnd: PORT,
    bindAddress: '127.0.0.1',
  });
  const client = new ndc.PeerConnection(`c${i}`, { iceServers: [], bindAddress: '127.0.0.1' });
  const cv = new ndc.Video('0', 'RecvOnly');
  cv.addH264Codec(102);
  const ctrack = client.addTrack(cv);
  let rtp = 0;
  let rtcp = 0;
  ctrack.onMessage(() => rtp++);
  const offer = await new Promise<string>((res) => {
    client.onGatheringStateChange((s) => {
      if (s === 'complete') res(client.localDescription()!.sdp);
    });
    client.setLocalDescription();
  });
  const sv = new ndc.Video('0', 'SendOnly');
  sv.addH264Codec(102);
  sv.addSSRC(1234, 'cname', 'ms', 'v');
  const strack = server.addTrack(sv);
  strack.onMessage(() => rtcp++);
  const answer = await new Promise<string>((res) => {
    server.onGatheringStateChange((s) => {
      if (s === 'complete') res(server.localDescription()!.sdp);
    });
    server.setRemoteDescription(offer, 'offer');
    if (server.gatheringState() === 'complete') res(server.localDescription()!.sdp);
  });
  if (i === 0 && process.env.SHOW_SDP) console.log(answer);
  client.setRemoteDescription(answer, 'answer');
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error('track open timeout')), 5000);
    strack.onOpen(() => {
      clearTimeout(t);
      res();
    });
  });
  const pkt = Buffer.alloc(1200);
  pkt[0] = 0x80;
  pkt[1] = 102;
  pkt.writeUInt32BE(1234, 8);
  for (let s = 0; s < 100; s++) {
    pkt.writeUInt16BE(s, 2);
    strack.sendMessageBinary(pkt);
  }
  // A PLI from the client to our SSRC.
  const pli = Buffer.from([0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0x04, 0xd2]);
  await new Promise((r) => setTimeout(r, 200));
  ctrack.sendMessageBinary(pli);
  await new Promise((r) => setTimeout(r, 300));
  return {
    get rtp() {
      return rtp;
    },
    get rtcp() {
      return rtcp;
    },
    close() {
      client.close();
      server.close();
    },
  } as { rtp: number; rtcp: number; close(): void };
}

async function main(): Promise<void> {
  ndc = (await import('node-datachannel')).default;
  const a = await connectPair(0);
  const b = await connectPair(1);
  console.error(
    JSON.stringify({ thread: isMainThread ? 'main' : 'worker', a: [a.rtp, a.rtcp], b: [b.rtp, b.rtcp] }),
  );
  a.close();
  b.close();
}

const mode = process.argv[2] ?? 'workeronly'; // main | workeronly | both | twoworkers
if (isMainThread && mode !== 'main') {
  if (mode === 'both') await main();
  // tsx does not hook worker threads here: run this same file, compiled on the fly, through tsx's API.
  const w = new Worker(
    `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`,
    { eval: true },
  );
  w.on('error', (e) => console.log('worker error', e));
  await new Promise((r) => w.on('exit', r));
  if (mode === 'twoworkers') {
    const w2 = new Worker(
      `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(import.meta.url)}); })`,
      { eval: true },
    );
    await new Promise((r) => w2.on('exit', r));
  }
  if (mode === 'both') ndc.cleanup();
} else {
  await main();
  parentPort?.close();
}
