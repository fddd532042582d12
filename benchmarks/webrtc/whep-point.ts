/**
 * One point of `rts bench --protocol whep`: K viewers of one WHEP URL, a steady window after they
 * all connected, and what the server did in that window: CPU (per thread) and RSS from /proc,
 * delivered packets (counted by the viewers), loss and NACKs, time to first video packet, and the
 * server-added latency from the node's API when the server is ours.
 */
import { MachineLoad, ProcSampler, readProc, readThreadCpu, threadCpuPercent } from '../load/proc-sampler.js';
import { type LatencyBuckets, type WindowLatency, windowLatency } from './latency-window.js';
import { type ClientSummary, WhepViewerPool } from './whep-viewer-pool.js';

export interface WhepPointOptions {
  server: string;
  /** Source bit rate (kbit/s) when we publish it, else undefined. */
  kbps?: number;
  url: string;
  viewers: number;
  processes: number;
  rampPerSec: number;
  warmupMs: number;
  seconds: number;
  serverPid?: number;
  /** `/api/v1/node` of the server when it is our node (server-added latency). */
  nodeApi?: string;
  clientCpus?: string;
  cores: number;
  log: (line: string) => void;
}

export interface WhepPointResult {
  server: string;
  kbps?: number;
  viewers: number;
  processes: number;
  windowS: number;
  connected: number;
  playing: number;
  /** Viewers that got video through the whole window without a wait above 500 ms. */
  realtime: number;
  maxStallMs: number;
  server_proc?: {
    cpuPercent: number;
    cpuPeakPercent: number;
    rssMaxMB: number;
    /** % of one core per thread name (`main` is the JS main thread). */
    threads: Record<string, number>;
  };
  packetsPerSec: number;
  /** CPU % of each RTC egress process of our node (not in server_proc, which is the node's process). */
  rtcProcessesCpuPercent?: number[];
  /** RSS of each RTC egress process at the end of the window (MB). */
  rtcProcessesRssMB?: number[];
  /** server_proc + the RTC processes. */
  serverCpuPercent?: number;
  cpuUsPerPacket?: number;
  videoLost: number;
  duplicates: number;
  nacksSent: number;
  connectRetries: number;
  failures: string[];
  ttffMs: { p50: number | null; p90: number | null; max: number | null; n: number };
  /** From the node's API, window only (undefined for a server that is not ours). */
  serverLatencyMs?: WindowLatency;
  serverRetransmits?: number;
  clientsCpuPercent: number;
  /** This process (the publisher, in --self mode), % of one core. */
  benchCpuPercent: number;
  /** Everything else busy on the machine during the window, % of one core. */
  otherCpuPercent: number;
}

interface NodeWebrtc {
  retransmits: number;
  /** Our node's RTC egress processes (rtc.processes): their CPU counts as the server's. */
  processes?: { pid?: number }[];
  serverLatencyMs: { buckets: LatencyBuckets };
}

/** The node's WebRTC totals (two attempts); undefined for a server without them, with why in `errors`. */
async function readNodeWebrtc(api: string | undefined, errors: string[]): Promise<NodeWebrtc | undefined> {
  if (!api) return undefined;
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      const res = await fetch(api, { signal: AbortSignal.timeout(10_000) });
      const body = (await res.json()) as { webrtc?: NodeWebrtc & { error?: string } };
      if (body.webrtc?.error) errors.push(`${api}: ${body.webrtc.error}`);
      else return body.webrtc?.serverLatencyMs?.buckets ? body.webrtc : undefined;
    } catch (err) {
      errors.push(`${api}: ${String(err)}`);
    }
  }
  return undefined;
}

function quantile(sorted: number[], p: number): number | null {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : null;
}

function cpuSecondsOf(pids: number[]): number {
  return pids.reduce((n, pid) => n + (readProc(pid)?.cpuSeconds ?? 0), 0);
}

export async function runWhepPoint(o: WhepPointOptions): Promise<WhepPointResult> {
  const pool = new WhepViewerPool({
    url: o.url,
    viewers: o.viewers,
    processes: o.processes,
    rampPerSec: o.rampPerSec,
    maxHoldSeconds: o.warmupMs / 1000 + o.seconds + 60,
    cpus: o.clientCpus,
  });
  try {
    const c = await pool.connected((o.viewers / o.rampPerSec) * 1000 + 60_000);
    o.log(`  ${c.connected}/${o.viewers} connected, ${c.playing} playing; warm-up ${o.warmupMs / 1000} s`);
    await new Promise((r) => setTimeout(r, o.warmupMs));

    const sampler = o.serverPid ? new ProcSampler(o.serverPid) : undefined;
    const threads0 = o.serverPid ? readThreadCpu(o.serverPid) : undefined;
    const apiErrors: string[] = [];
    const node0 = await readNodeWebrtc(o.nodeApi, apiErrors);
    const rtcPids = (node0?.processes ?? []).flatMap((p) => (p.pid ? [p.pid] : []));
    const rtc0 = rtcPids.map((pid) => readProc(pid)?.cpuSeconds ?? 0);
    const clients0 = cpuSecondsOf(pool.pids);
    const self0 = process.cpuUsage();
    const machine = new MachineLoad(o.cores);
    await pool.mark();
    sampler?.start();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, o.seconds * 1000));
    const wallS = (performance.now() - t0) / 1000;
    const proc = sampler?.stop();
    const threads1 = o.serverPid ? readThreadCpu(o.serverPid) : undefined;
    const node1 = await readNodeWebrtc(o.nodeApi, apiErrors);
    const rtcCpu = rtcPids.map((pid, i) =>
      Math.round((((readProc(pid)?.cpuSeconds ?? 0) - rtc0[i]) / wallS) * 100),
    );
    const rtcRssMB = rtcPids.map((pid) => Math.round((readProc(pid)?.rssBytes ?? 0) / 2 ** 20));
    const clientsCpu = ((cpuSecondsOf(pool.pids) - clients0) / wallS) * 100;
    const self1 = process.cpuUsage(self0);
    const benchCpu = ((self1.user + self1.system) / 1e6 / wallS) * 100;
    const machineBusy = machine.stop();
    const summaries = await pool.stop();
    if (apiErrors.length) o.log(`  node API: ${apiErrors.join('; ')}`);
    return summarize(o, summaries, {
      wallS,
      proc: proc && {
        cpuPercent: proc.cpuPercent,
        cpuPeakPercent: proc.cpuPeakPercent,
        rssMaxMB: Math.round(proc.rssMaxBytes / 2 ** 20),
        threads:
          o.serverPid && threads0 && threads1 ? threadCpuPercent(o.serverPid, threads0, threads1, wallS) : {},
      },
      node0,
      node1,
      rtcCpu,
      rtcRssMB,
      clientsCpu,
      benchCpu,
      machineBusy,
      apiErrors,
    });
  } finally {
    pool.kill();
  }
}

function summarize(
  o: WhepPointOptions,
  s: ClientSummary[],
  m: {
    wallS: number;
    proc: WhepPointResult['server_proc'];
    node0: NodeWebrtc | undefined;
    node1: NodeWebrtc | undefined;
    rtcCpu: number[];
    rtcRssMB: number[];
    clientsCpu: number;
    benchCpu: number;
    machineBusy: number;
    apiErrors: string[];
  },
): WhepPointResult {
  const sum = (f: (x: ClientSummary) => number) => s.reduce((n, x) => n + f(x), 0);
  const windowMs = Math.max(1, ...s.map((x) => x.window?.ms ?? 0));
  const packets = sum((x) => x.window?.packets ?? 0);
  const packetsPerSec = packets / (windowMs / 1000);
  const ttff = s.flatMap((x) => x.ttffAllMs ?? []).sort((a, b) => a - b);
  const rtcCpu = m.rtcCpu.reduce((n, x) => n + x, 0);
  const cpuUs = m.proc ? ((m.proc.cpuPercent + rtcCpu) / 100) * m.wallS * 1e6 : undefined;
  return {
    server: o.server,
    kbps: o.kbps,
    viewers: o.viewers,
    processes: o.processes,
    windowS: Math.round(m.wallS * 10) / 10,
    connected: sum((x) => x.connected),
    playing: sum((x) => x.playing),
    realtime: sum((x) => x.window?.realtime ?? 0),
    maxStallMs: Math.max(0, ...s.map((x) => x.window?.maxStallMs ?? 0)),
    server_proc: m.proc,
    rtcProcessesCpuPercent: m.rtcCpu,
    rtcProcessesRssMB: m.rtcRssMB,
    serverCpuPercent: m.proc ? Math.round(m.proc.cpuPercent + rtcCpu) : undefined,
    packetsPerSec: Math.round(packetsPerSec),
    cpuUsPerPacket:
      cpuUs !== undefined && packets > 0
        ? Math.round((cpuUs / (packetsPerSec * m.wallS)) * 100) / 100
        : undefined,
    videoLost: sum((x) => x.videoLostAtEnd),
    duplicates: sum((x) => x.duplicates),
    nacksSent: sum((x) => x.nacksSent),
    connectRetries: sum((x) => x.connectRetries),
    failures: [...s.flatMap((x) => x.failures).slice(0, 5), ...m.apiErrors.slice(0, 2)],
    ttffMs: { p50: quantile(ttff, 0.5), p90: quantile(ttff, 0.9), max: ttff.at(-1) ?? null, n: ttff.length },
    serverLatencyMs:
      m.node0 && m.node1
        ? windowLatency(m.node0.serverLatencyMs.buckets, m.node1.serverLatencyMs.buckets)
        : undefined,
    serverRetransmits: m.node0 && m.node1 ? m.node1.retransmits - m.node0.retransmits : undefined,
    clientsCpuPercent: Math.round(m.clientsCpu),
    benchCpuPercent: Math.round(m.benchCpu),
    otherCpuPercent: Math.max(
      0,
      Math.round(m.machineBusy - (m.proc?.cpuPercent ?? 0) - rtcCpu - m.clientsCpu - m.benchCpu),
    ),
  };
}
