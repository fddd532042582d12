/**
 * One load-client process: N headless WHEP viewers (node-datachannel) of one URL. Sends a
 * receiver report per second (liveness) and NACKs gaps twice a second; prints one JSON summary
 * line on stdout at the end.
 * Run: node --import tsx benchmarks/webrtc/whep-load-client.ts '{"url":"http://127.0.0.1:8080/whep/live/cam","viewers":50,"seconds":20}'
 */
import ndc from 'node-datachannel';
import { httpPost, WhepViewerClient } from './whep-client.js';

interface Args {
  url: string;
  viewers: number;
  seconds: number;
  /** New viewers per second during the ramp; default 50. */
  rampPerSec?: number;
  name?: string;
}

if (process.env.NDC_LOG)
  ndc.initLogger((process.env.NDC_LOG === '1' ? 'Warning' : process.env.NDC_LOG) as 'Warning', (l, m) =>
    process.stderr.write(`client ndc ${l}: ${m}\n`),
  );
const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const viewers: WhepViewerClient[] = [];
const failures: string[] = [];
const post = httpPost(args.url);
const ramp = args.rampPerSec ?? 50;
let nacksSent = 0;

const tick = setInterval(() => {
  for (const v of viewers) {
    v.sendReceiverReports();
    const missing = v.missingVideo(v.video.maxExt - 400);
    if (missing.length > 0 && missing.length < 200) {
      v.sendNack(missing);
      nacksSent++;
    }
  }
}, 500);

/**
 * libdatachannel as the OFFERER can lose a race between finishing setRemoteDescription(answer)
 * and verifying the DTLS fingerprint when ICE connects at once (loopback, busy CPU): the
 * handshake then fails with "certificate verify failed". Chromium does not. We retry such a
 * viewer with a fresh peer connection, and count it.
 */
let retries = 0;
async function connectOne(i: number): Promise<void> {
  for (let attempt = 0; attempt < 4; attempt++) {
    const v = new WhepViewerClient(`${args.name ?? 'load'}-${i}-${attempt}`);
    viewers[i] = v;
    let status: number;
    try {
      status = await v.connect(post);
    } catch (err) {
      // The same race, seen earlier: the peer connection already failed when the answer came.
      if (attempt === 3) failures.push(String(err));
      retries++;
      v.close();
      continue;
    }
    if (status !== 201) {
      failures.push(`HTTP ${status}`);
      return;
    }
    const t = performance.now();
    while (
      v.state !== 'connected' &&
      v.state !== 'failed' &&
      v.state !== 'closed' &&
      performance.now() - t < 8000
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (v.state === 'connected') return;
    retries++;
    v.close();
  }
  failures.push(`viewer ${i} did not connect`);
}

const t0 = performance.now();
const connecting: Promise<void>[] = [];
for (let i = 0; i < args.viewers; i++) {
  connecting.push(connectOne(i));
  const due = ((i + 1) / ramp) * 1000 - (performance.now() - t0);
  if (due > 0) await new Promise((r) => setTimeout(r, due));
}
await Promise.all(connecting);
await new Promise((r) => setTimeout(r, args.seconds * 1000));
clearInterval(tick);

const ttff = viewers
  .filter((v) => v.firstVideoAt !== undefined && v.connectedAt !== undefined)
  .map((v) => v.firstVideoAt! - v.connectedAt!)
  .sort((a, b) => a - b);
const q = (p: number) => (ttff.length ? ttff[Math.min(ttff.length - 1, Math.floor(p * ttff.length))] : null);
const sum = (f: (v: WhepViewerClient) => number) => viewers.reduce((n, v) => n + f(v), 0);
const summary = {
  viewers: viewers.length,
  connected: viewers.filter((v) => v.connectedAt !== undefined).length,
  playing: viewers.filter((v) => v.video.packets > 0).length,
  failures: failures.slice(0, 5),
  videoPackets: sum((v) => v.video.packets),
  audioPackets: sum((v) => v.audio.packets),
  bytes: sum((v) => v.video.bytes + v.audio.bytes),
  videoLostAtEnd: sum((v) => v.missingVideo().length),
  duplicates: sum((v) => v.video.duplicates),
  nacksSent,
  connectRetries: retries,
  ttffMs: { p50: q(0.5), p90: q(0.9), max: ttff.length ? ttff[ttff.length - 1] : null },
};
for (const v of viewers) v.close();
await new Promise((r) => setTimeout(r, 300));
process.stdout.write(`${JSON.stringify(summary)}\n`);
ndc.cleanup();
process.exit(0);
