/**
 * One load-client process: N headless WHEP viewers (node-datachannel) of one URL. Sends a
 * receiver report per second (liveness) and NACKs gaps twice a second; prints one JSON summary
 * line on stdout at the end.
 *
 * With `"control": true` (rts bench --protocol whep) the parent drives a measurement window over
 * stdin: the client prints `{"t":"connected",...}` once every viewer connected (or gave up), then
 * a line `mark` starts the window (answered `{"t":"mark",...}`) and `stop` ends the hold early
 * (`seconds` stays the upper bound); the summary then has `window` (packets, video stalls).
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
  /** Window driven over stdin (see above). */
  control?: boolean;
}

/** A viewer is stalled in the window when it waited longer than this for a video packet. */
const STALL_MS = 500;

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

const sum = (f: (v: WhepViewerClient) => number) => viewers.reduce((n, v) => n + f(v), 0);
const packetsNow = () => sum((v) => v.video.packets + v.audio.packets);
const line = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);
let mark: { at: number; packets: number } | undefined;
let stopHold: () => void = () => {};
const held = new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, args.seconds * 1000);
  stopHold = () => {
    clearTimeout(timer);
    resolve();
  };
});
if (args.control) {
  line({
    t: 'connected',
    connected: viewers.filter((v) => v.connectedAt !== undefined).length,
    playing: viewers.filter((v) => v.video.packets > 0).length,
  });
  let buffered = '';
  process.stdin.setEncoding('utf8').on('data', (s: string) => {
    buffered += s;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const cmd = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (cmd === 'mark') {
        for (const v of viewers) v.resetGap();
        mark = { at: performance.now(), packets: packetsNow() };
        line({ t: 'mark', packets: mark.packets });
      } else if (cmd === 'stop') stopHold();
    }
  });
  // The parent gone: stop holding (its viewers would otherwise run to `seconds`).
  process.stdin.on('end', () => stopHold());
}
await held;
process.stdin.pause();
clearInterval(tick);
const endAt = performance.now();

const ttff = viewers
  .filter((v) => v.firstVideoAt !== undefined && v.connectedAt !== undefined)
  // the GOP's first packet can beat the (asynchronous) connected callback: that counts as 0
  .map((v) => Math.max(0, v.firstVideoAt! - v.connectedAt!))
  .sort((a, b) => a - b);
const q = (p: number) => (ttff.length ? ttff[Math.min(ttff.length - 1, Math.floor(p * ttff.length))] : null);
const stallMs = (v: WhepViewerClient) =>
  v.firstVideoAt === undefined ? Number.POSITIVE_INFINITY : Math.max(v.maxVideoGapMs, endAt - v.lastVideoAt);
const window = mark && {
  ms: Math.round(endAt - mark.at),
  packets: packetsNow() - mark.packets,
  /** Viewers that got video all through the window with no wait above STALL_MS. */
  realtime: viewers.filter((v) => stallMs(v) <= STALL_MS).length,
  maxStallMs: Math.round(Math.min(1e9, Math.max(0, ...viewers.map(stallMs)))),
};
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
  ttffAllMs: args.control ? ttff.map((x) => Math.round(x * 100) / 100) : undefined,
  window,
};
for (const v of viewers) v.close();
await new Promise((r) => setTimeout(r, 300));
process.stdout.write(`${JSON.stringify(summary)}\n`);
ndc.cleanup();
process.exit(0);
