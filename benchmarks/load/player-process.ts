/**
 * A player process of `rts bench`: holds many RTMP (our RtmpClient) or HTTP-FLV (HttpFlvReader)
 * players of one stream, timestamps sampled tag arrivals, matches them with the publisher's send
 * times (sent over IPC by the parent) and returns merged figures: a latency histogram, gaps,
 * real-time checks. Started by player-pool.ts with an IPC channel; never run by hand.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { RtmpClient } from '../../transports/rtmp/client.js';
import { HttpFlvReader } from './flv-reader.js';
import { isVideoKeyframe } from './flv-tag-scanner.js';
import { LatencyHistogram } from './histogram.js';
import type { FromPlayers, PlayerProcessResult, ToPlayers } from './player-messages.js';
import { RawHttpFlvReader } from './raw-flv-reader.js';
import { LightRtmpPlayer } from './rtmp-light-player.js';
import { tagKey } from './tag-key.js';

const GAP_MS = 500;
const BEHIND_LIMIT_MS = 1000;
/** Send times kept for matching (ms). */
const SEND_TIME_RETENTION_MS = 30_000;
/** Sampled arrivals waiting for their send time longer than this are unmatched. */
const PENDING_MAX_AGE_MS = 10_000;
const MAX_PENDING = 2_000_000;

const now = (): number => performance.timeOrigin + performance.now();

interface Player {
  close(): void;
  connected: boolean;
  closedAt: number;
  lastDataAt: number;
  inGap: boolean;
  gaps: number;
  maxGapMs: number;
  tagCount: number;
  lastTs: number;
  windowStartTs: number;
  maxBehindMs: number;
}

function send(msg: FromPlayers): void {
  process.send?.(msg);
}

const players: Player[] = [];
const sendTimes = new Map<number, number>();
const histogram = new LatencyHistogram();
let pendingKeys: number[] = [];
let pendingTimes: number[] = [];
let measuring = false;
let windowStartWall = 0;
let windowStartCpu = process.cpuUsage();
let unmatched = 0;
let samples = 0;
let tags = 0;
let bytesAtWindowStart = 0;
const errors: string[] = [];
const LOOP_RESOLUTION_MS = 10;
const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
/** Byte counters of every connection. */
const counters: { readonly bytes: number }[] = [];

function noteError(msg: string): void {
  if (errors.length < 5 && !errors.includes(msg)) errors.push(msg);
}

function onTag(p: Player, typeId: number, ts: number, key: boolean, sampleEvery: number): void {
  const t = now();
  const gap = t - p.lastDataAt;
  p.lastDataAt = t;
  if (!measuring) {
    p.lastTs = ts;
    return;
  }
  if (gap > p.maxGapMs) p.maxGapMs = gap;
  if (p.inGap) p.inGap = false;
  else if (gap > GAP_MS) p.gaps++;
  p.lastTs = ts;
  tags++;
  if (key || ++p.tagCount % sampleEvery === 0) {
    if (pendingKeys.length < MAX_PENDING) {
      pendingKeys.push(tagKey(typeId, ts));
      pendingTimes.push(t);
    }
  }
}

function newPlayer(): Player {
  return {
    close: () => undefined,
    connected: false,
    closedAt: 0,
    lastDataAt: now(),
    inGap: false,
    gaps: 0,
    maxGapMs: 0,
    tagCount: 0,
    lastTs: -1,
    windowStartTs: -1,
    maxBehindMs: 0,
  };
}

async function connectRtmp(url: string, p: Player, sampleEvery: number, timeoutMs: number): Promise<void> {
  const c = await RtmpClient.connect(url, { timeoutMs });
  p.close = () => c.close();
  counters.push({
    get bytes() {
      return c.bytesReceived;
    },
  });
  c.on('media', (m) => {
    if (m.typeId === 18) return;
    onTag(p, m.typeId, m.timestamp, m.typeId === 9 && isVideoKeyframe(m.payload[0]), sampleEvery);
  });
  c.on('close', (err) => {
    if (p.closedAt === 0) p.closedAt = now();
    if (err) noteError(`rtmp player closed: ${err.message}`);
  });
  await c.play();
}

async function connectFlv(url: string, p: Player, sampleEvery: number, timeoutMs: number): Promise<void> {
  const r = await HttpFlvReader.open(
    url,
    (type, ts, _size, b0) => {
      if (type === 18) return;
      onTag(p, type, ts, type === 9 && isVideoKeyframe(b0), sampleEvery);
    },
    timeoutMs,
    (err) => {
      if (p.closedAt === 0) p.closedAt = now();
      if (err && measuring) noteError(`flv player closed: ${err.message}`);
    },
  );
  p.close = () => r.close();
  counters.push({
    get bytes() {
      return r.scanner.bytes;
    },
  });
}

async function connectLightRtmp(
  url: string,
  p: Player,
  sampleEvery: number,
  timeoutMs: number,
): Promise<void> {
  const c = await LightRtmpPlayer.open(
    url,
    (typeId, ts, _len, b0) => onTag(p, typeId, ts, typeId === 9 && isVideoKeyframe(b0), sampleEvery),
    timeoutMs,
    (err) => {
      if (p.closedAt === 0) p.closedAt = now();
      if (err && measuring) noteError(`rtmp player closed: ${err.message}`);
    },
  );
  p.close = () => c.close();
  counters.push({
    get bytes() {
      return c.bytesReceived;
    },
  });
}

async function connectRawFlv(url: string, p: Player, sampleEvery: number, timeoutMs: number): Promise<void> {
  const r = await RawHttpFlvReader.open(
    url,
    (type, ts, _size, b0) => {
      if (type === 18) return;
      onTag(p, type, ts, type === 9 && isVideoKeyframe(b0), sampleEvery);
    },
    timeoutMs,
    (err) => {
      if (p.closedAt === 0) p.closedAt = now();
      if (err && measuring) noteError(`flv player closed: ${err.message}`);
    },
  );
  p.close = () => r.close();
  counters.push({
    get bytes() {
      return r.bytes;
    },
  });
}

async function start(msg: Extract<ToPlayers, { t: 'start' }>): Promise<void> {
  let next = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < msg.count) {
      next++;
      const p = newPlayer();
      players.push(p);
      try {
        const connectOne =
          msg.protocol === 'rtmp'
            ? msg.client === 'light'
              ? connectLightRtmp
              : connectRtmp
            : msg.client === 'light'
              ? connectRawFlv
              : connectFlv;
        await connectOne(msg.url, p, msg.sampleEvery, msg.connectTimeoutMs);
        p.connected = true;
      } catch (err) {
        failed++;
        p.close();
        noteError(`connect: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(msg.concurrency, msg.count)) }, worker));
  send({ t: 'ready', connected: players.filter((p) => p.connected).length, failed, errors: [...errors] });
}

function resolvePending(final: boolean): void {
  const t = now();
  const keys: number[] = [];
  const times: number[] = [];
  for (let i = 0; i < pendingKeys.length; i++) {
    const sent = sendTimes.get(pendingKeys[i]);
    // Arrival before the send is not this tag: the server rewrote timestamps.
    if (sent !== undefined && pendingTimes[i] - sent < -1) {
      unmatched++;
    } else if (sent !== undefined) {
      histogram.record(pendingTimes[i] - sent);
      samples++;
    } else if (t - pendingTimes[i] > (final ? 2000 : PENDING_MAX_AGE_MS)) {
      unmatched++;
    } else if (!final) {
      keys.push(pendingKeys[i]);
      times.push(pendingTimes[i]);
    }
    // else: arrived in the last moments of the window, its send time still in flight: not counted.
  }
  pendingKeys = keys;
  pendingTimes = times;
  // Send times arrive in order: drop the oldest beyond the retention.
  for (const [k, v] of sendTimes) {
    if (t - v <= SEND_TIME_RETENTION_MS) break;
    sendTimes.delete(k);
  }
}

function totalBytes(): number {
  let b = 0;
  for (const c of counters) b += c.bytes;
  return b;
}

const gapTimer = setInterval(() => {
  if (!measuring) return;
  const t = now();
  for (const p of players) {
    if (!p.connected || p.closedAt !== 0) continue;
    const gap = t - p.lastDataAt;
    if (gap > GAP_MS && !p.inGap) {
      p.inGap = true;
      p.gaps++;
    }
    if (gap > p.maxGapMs) p.maxGapMs = gap;
  }
}, 100);

const resolveTimer = setInterval(() => resolvePending(false), 500);

function startWindow(): void {
  resolvePending(false);
  pendingKeys = [];
  pendingTimes = [];
  histogram.reset();
  unmatched = 0;
  samples = 0;
  tags = 0;
  for (const p of players) {
    p.gaps = 0;
    p.maxGapMs = 0;
    p.inGap = false;
    p.windowStartTs = p.lastTs;
  }
  bytesAtWindowStart = totalBytes();
  windowStartWall = now();
  windowStartCpu = process.cpuUsage();
  loopDelay.reset();
  measuring = true;
}

function collect(): PlayerProcessResult {
  const t = now();
  measuring = false;
  resolvePending(true);
  const cpu = process.cpuUsage(windowStartCpu);
  const wall = t - windowStartWall;
  let connected = 0;
  let closedEarly = 0;
  let playersWithGaps = 0;
  let gaps = 0;
  let maxGapMs = 0;
  let notRealtime = 0;
  let maxBehindMs = 0;
  for (const p of players) {
    if (!p.connected) continue;
    connected++;
    const closed = p.closedAt !== 0 && p.closedAt < t;
    if (closed) closedEarly++;
    if (p.gaps > 0) playersWithGaps++;
    gaps += p.gaps;
    if (p.maxGapMs > maxGapMs) maxGapMs = p.maxGapMs;
    const advance = p.windowStartTs >= 0 && p.lastTs >= 0 ? p.lastTs - p.windowStartTs : 0;
    const behind = wall - advance;
    if (behind > maxBehindMs) maxBehindMs = behind;
    if (closed || p.gaps > 0 || behind > BEHIND_LIMIT_MS) notRealtime++;
  }
  return {
    players: players.length,
    connected,
    failed: players.length - connected,
    closedEarly,
    playersWithGaps,
    gaps,
    maxGapMs,
    notRealtime,
    maxBehindMs,
    tags,
    bytes: totalBytes() - bytesAtWindowStart,
    samples,
    unmatched,
    latency: histogram.toJSON(),
    cpuPercent: wall > 0 ? ((cpu.user + cpu.system) / 1000 / wall) * 100 : 0,
    // The histogram counts the sampling interval itself: report only the delay beyond it.
    loopDelayP99Ms: Math.max(0, loopDelay.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
    errors: [...errors],
  };
}

let shuttingDown = false;
function shutdown(code: number): void {
  if (shuttingDown) return;
  shuttingDown = true;
  clearInterval(gapTimer);
  clearInterval(resolveTimer);
  loopDelay.disable();
  for (const p of players) p.close();
  setTimeout(() => process.exit(code), 50).unref();
  process.disconnect?.();
}

loopDelay.enable();
process.on('message', (raw) => {
  const msg = raw as ToPlayers;
  switch (msg.t) {
    case 'start': {
      start(msg).catch((err) => send({ t: 'fatal', error: String(err) }));
      return;
    }
    case 'sent': {
      for (let i = 0; i < msg.keys.length; i++) sendTimes.set(msg.keys[i], msg.times[i]);
      return;
    }
    case 'measure': {
      startWindow();
      return;
    }
    case 'collect': {
      send({ t: 'result', result: collect() });
      return;
    }
    case 'stop': {
      shutdown(0);
      return;
    }
    default: {
      return;
    }
  }
});
// The parent went away: never outlive it.
process.on('disconnect', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
