/**
 * One point of a load curve: publisher + N players against one server for a fixed window, with
 * the server's CPU/RSS sampled from /proc when its pid is known.
 */

import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadedSource } from './media-source.js';
import type { PlayerClient } from './player-messages.js';
import { PlayerPool } from './player-pool.js';
import { MachineLoad, ProcSampler, type ProcSummary } from './proc-sampler.js';
import { LoopPublisher, type PublisherStats } from './publisher.js';

export interface PointOptions {
  server: string;
  protocol: 'rtmp' | 'flv';
  players: number;
  publishUrl: string;
  playUrl: string;
  serverPid: number | undefined;
  source: LoadedSource;
  seconds: number;
  processes: number;
  clientCpus: string | undefined;
  sampleEvery: number;
  /** Publisher runs this long before players connect (the server has a GOP to serve). */
  leadMs: number;
  /** After every player connected, before the window opens. */
  warmupMs: number;
  concurrency: number;
  client: PlayerClient;
  log: (line: string) => void;
}

export interface PointResult {
  server: string;
  protocol: 'rtmp' | 'flv';
  players: number;
  connected: number;
  failed: number;
  seconds: number;
  server_proc: ProcSummary | undefined;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number; samples: number };
  unmatchedSamples: number;
  realtime: {
    /** Players that kept real time over the whole window. */
    ok: number;
    notRealtime: number;
    playersWithGaps: number;
    gaps: number;
    maxGapMs: number;
    closedEarly: number;
    maxBehindMs: number;
  };
  /** Media delivered to all players in the window (Mbit/s). */
  deliveredMbps: number;
  clients: { kind: PlayerClient; processes: number; cpuPercent: number; loopDelayP99Ms: number };
  publisher: PublisherStats;
  /**
   * The machine during the window: all CPU busy (% of one core, summed over cores), and what was
   * not ours (busy − server − clients): other work on a shared machine skews the figures.
   */
  machine: { busyPercent: number; otherPercent: number; loadAvg1mStart: number; loadAvg1mEnd: number };
  errors: string[];
}

export async function runPoint(o: PointOptions): Promise<PointResult> {
  const pool = new PlayerPool({
    protocol: o.protocol,
    url: o.playUrl,
    players: o.players,
    processes: o.processes,
    cpus: o.clientCpus,
    sampleEvery: o.sampleEvery,
    concurrency: o.concurrency,
    connectTimeoutMs: 10_000,
    client: o.client,
  });
  const publisher = new LoopPublisher({
    url: o.publishUrl,
    source: o.source,
    onSent: (k, t) => pool.sent(k, t),
  });
  let sampler: ProcSampler | undefined;
  try {
    await publisher.start();
    await sleep(o.leadMs);
    const t0 = Date.now();
    const ready = await pool.start();
    o.log(
      `  ${ready.connected}/${o.players} players connected in ${Date.now() - t0} ms${ready.failed ? ` (${ready.failed} failed: ${ready.errors[0] ?? ''})` : ''}`,
    );
    if (publisher.error) throw publisher.error;
    await sleep(o.warmupMs);
    if (o.serverPid !== undefined) {
      sampler = new ProcSampler(o.serverPid);
      sampler.start(1000);
    }
    const loadStart = loadavg()[0];
    const machine = new MachineLoad(cpus().length);
    pool.measure();
    // Bounded wait that notices a dead publisher.
    const end = Date.now() + o.seconds * 1000;
    while (Date.now() < end) {
      await sleep(Math.min(500, Math.max(0, end - Date.now())));
      if (publisher.error) throw publisher.error;
    }
    const procSummary = sampler?.stop();
    sampler = undefined;
    const busy = machine.stop();
    const r = await pool.collect();
    const h = r.latency;
    return {
      server: o.server,
      protocol: o.protocol,
      players: o.players,
      connected: r.connected,
      failed: r.failed,
      seconds: o.seconds,
      server_proc: procSummary,
      latencyMs: {
        p50: h.percentile(50),
        p90: h.percentile(90),
        p99: h.percentile(99),
        max: h.count ? h.max : Number.NaN,
        mean: h.mean,
        samples: h.count,
      },
      unmatchedSamples: r.unmatched,
      realtime: {
        ok: r.connected - r.notRealtime,
        notRealtime: r.notRealtime,
        playersWithGaps: r.playersWithGaps,
        gaps: r.gaps,
        maxGapMs: r.maxGapMs,
        closedEarly: r.closedEarly,
        maxBehindMs: r.maxBehindMs,
      },
      deliveredMbps: (r.bytes * 8) / o.seconds / 1e6,
      clients: {
        kind: o.client,
        processes: r.processes,
        cpuPercent: r.cpuPercent,
        loopDelayP99Ms: r.loopDelayP99Ms,
      },
      publisher: { ...publisher.stats },
      machine: {
        busyPercent: busy,
        otherPercent: busy - (procSummary?.cpuPercent ?? 0) - r.cpuPercent,
        loadAvg1mStart: loadStart,
        loadAvg1mEnd: loadavg()[0],
      },
      errors: r.errors,
    };
  } finally {
    sampler?.stop();
    await pool.stop();
    await publisher.stop();
  }
}
