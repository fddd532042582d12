/**
 * Arrival of RTP packets against their media clock, per track, for one WHEP viewer
 * (node-datachannel): offset = arrival − RTP time, relative to the first packet, in 5 s windows
 * (min / median / max). A growing offset is delay building up on the way (a transcoder, a
 * queue); the spread within a window is the jitter a browser's jitter buffer has to absorb.
 *
 *   node --import tsx benchmarks/webrtc/rtp-arrival.ts --url http://127.0.0.1:8080/live/cam [--seconds 60]
 */
import { parseArgs } from 'node:util';
import ndc from 'node-datachannel';
import { readRtpHeader } from '../../transports/webrtc/rtp/rtp-header.js';
import { httpPost, WhepViewerClient } from './whep-client.js';

const { values } = parseArgs({
  options: { url: { type: 'string' }, seconds: { type: 'string', default: '60' } },
});
if (!values.url) throw new Error('--url http://HOST:PORT/app/stream is required');
const seconds = Math.min(3600, Number(values.seconds));

type Arrival = [at: number, rtpTs: number];
const arrivals: { audio: Arrival[]; video: Arrival[] } = { audio: [], video: [] };
const viewer = new WhepViewerClient('rtp-arrival');
// the client's per-packet handler, wrapped: arrival time and RTP timestamp of every media packet
const hook = viewer as unknown as {
  onMessage: (m: Buffer, c: unknown, s: unknown, isVideo: boolean) => void;
};
const inner = hook.onMessage.bind(viewer);
hook.onMessage = (m, c, s, isVideo) => {
  const h = m[1] >= 192 && m[1] <= 223 ? undefined : readRtpHeader(m);
  if (h) (isVideo ? arrivals.video : arrivals.audio).push([performance.now(), h.timestamp]);
  inner(m, c, s, isVideo);
};
const status = await viewer.connect(httpPost(values.url));
if (status !== 201) throw new Error(`WHEP POST answered ${status}`);
const rr = setInterval(() => viewer.sendReceiverReports(), 1000);
await new Promise((r) => setTimeout(r, seconds * 1000));
clearInterval(rr);

function windows(xs: Arrival[], clockHz: number): string[] {
  let base: number | undefined;
  let prev = -1;
  let wraps = 0;
  const t0 = xs[0]?.[0] ?? 0;
  const byWindow = new Map<number, number[]>();
  for (const [at, ts] of xs) {
    if (prev >= 0 && ts < prev && prev - ts > 2 ** 31) wraps++;
    prev = ts;
    const mediaMs = ((ts + wraps * 2 ** 32) / clockHz) * 1000;
    base ??= at - mediaMs;
    const w = Math.floor((at - t0) / 5000);
    const list = byWindow.get(w) ?? [];
    list.push(at - mediaMs - base);
    byWindow.set(w, list);
  }
  return [...byWindow].map(([w, list]) => {
    list.sort((a, b) => a - b);
    const f = (x: number) => x.toFixed(0);
    return `${w * 5}s ${f(list[0])}/${f(list[list.length >> 1])}/${f(list[list.length - 1])}`;
  });
}
console.log(`offset = arrival − RTP time, ms relative to the first packet; per 5 s window min/median/max`);
console.log(`audio (${arrivals.audio.length} packets): ${windows(arrivals.audio, 48_000).join(' | ')}`);
console.log(`video (${arrivals.video.length} packets): ${windows(arrivals.video, 90_000).join(' | ')}`);
viewer.close();
await new Promise((r) => setTimeout(r, 200));
ndc.cleanup();
process.exit(0);
