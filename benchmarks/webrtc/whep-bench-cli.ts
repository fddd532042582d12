/**
 * `rts bench --protocol whep`: K headless WHEP viewers (node-datachannel, in child processes) of
 * any WHEP endpoint, or of our own node started here (`--self`) with a published H.264 + Opus
 * stream. Per K: viewers connected / playing / real time, server CPU (per thread) and RSS, delivered
 * packets/s, CPU µs per delivered packet, loss and NACKs, time to first video packet and, on our
 * node, the server-added latency of the window from /api/v1/node.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseList, pinSelf, tasksetWorks } from '../load/cli-helpers.js';
import type { LoadedSource } from '../load/media-source.js';
import { waitForQuietMachine } from '../load/proc-sampler.js';
import { LoopPublisher } from '../load/publisher.js';
import { machineInfo, table, writeRecord } from '../load/report.js';
import { ourNodeEntry, PROJECT_ROOT, removeBuilds, startOurNode } from '../load/servers.js';
import { runWhepPoint, type WhepPointResult } from './whep-point.js';
import { loadWhepSource } from './whep-source.js';

export const WHEP_HELP = `rts bench --protocol whep: K WebRTC (WHEP) viewers, node-datachannel in child processes

  rts bench --protocol whep --target http://HOST:PORT/APP/STREAM [--server-pid PID] [options]
  rts bench --protocol whep --self [--bitrates 500,2000] [--workers 1] [--rtc-processes N] [options]
        start our node (dist/, pinned to CPU 0), publish H.264 baseline + Opus at each bit rate, run the curve

options:
  --players 50,200,500       viewers per point                          (default 50,200,500)
  --seconds N                measurement window per point               (default 20)
  --warmup S                 seconds between the last connect and the window (default 3)
  --ramp N                   new viewers per second while connecting    (default 50)
  --processes N              viewer processes (default: viewers/150, 1..4)
  --rtc-processes N          (--self) the node's RTC egress processes (default: one per server CPU)
  --server-pid PID           external server's pid: CPU % (per thread) and RSS from /proc
  --no-pin                   do not pin with taskset (default: server on CPU 0, viewers and publisher on CPU 1)
  --server-cpus LIST --client-cpus LIST   taskset CPU lists (default 0 and 1)
  --wait-quiet S             before each point wait up to S seconds for the machine to be idle
  --tsx                      (--self) run our node from source (default: dist/, else a temporary tsc build)
  --out DIR                  where the JSON goes (default benchmarks/results)
The server-added latency (frame ingested → its last RTP packet sent to the last viewer) is read
from the target's /api/v1/node when it is our node.
`;

interface WhepCurve {
  players: number[];
  seconds: number;
  warmupMs: number;
  rampPerSec: number;
  processes: number | undefined;
  pin: boolean;
  serverCpus: string;
  clientCpus: string;
  quietWaitMs: number;
  log: (line: string) => void;
}

const QUIET_BUSY_PERCENT = 35;

async function point(
  c: WhepCurve,
  server: string,
  viewers: number,
  url: string,
  extra: { kbps?: number; serverPid?: number; nodeApi?: string },
): Promise<WhepPointResult> {
  if (c.quietWaitMs > 0) {
    const busy = await waitForQuietMachine(QUIET_BUSY_PERCENT, c.quietWaitMs, cpus().length);
    if (busy > QUIET_BUSY_PERCENT)
      c.log(`  machine still busy (${busy.toFixed(0)} % of a core): running anyway`);
  }
  c.log(`${server}${extra.kbps ? ` ${extra.kbps} kbit/s` : ''}: ${viewers} WHEP viewers, ${c.seconds} s`);
  const r = await runWhepPoint({
    server,
    url,
    viewers,
    processes: c.processes ?? Math.max(1, Math.min(4, Math.ceil(viewers / 150))),
    rampPerSec: c.rampPerSec,
    warmupMs: c.warmupMs,
    seconds: c.seconds,
    clientCpus: c.pin ? c.clientCpus : undefined,
    cores: cpus().length,
    log: c.log,
    ...extra,
  });
  const l = r.serverLatencyMs;
  c.log(
    `  cpu ${r.server_proc?.cpuPercent.toFixed(0) ?? '-'} %, rss ${r.server_proc?.rssMaxMB ?? '-'} MB, ${r.packetsPerSec} packets/s, ${r.cpuUsPerPacket ?? '-'} µs/packet, real time ${r.realtime}/${viewers}, lost ${r.videoLost}, NACKs ${r.nacksSent}, TTFF p50/p90 ${r.ttffMs.p50?.toFixed(1) ?? '-'}/${r.ttffMs.p90?.toFixed(1) ?? '-'} ms${l ? `, latency p50/p99 ${l.p50.toFixed(2)}/${l.p99.toFixed(2)} ms (${l.samples})` : ''}, threads ${JSON.stringify(r.server_proc?.threads ?? {})}`,
  );
  return r;
}

async function waitForStream(http: string, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const body = (await (await fetch(`${http}/api/v1/streams`)).json()) as { streams?: unknown[] };
      if (JSON.stringify(body.streams ?? []).includes(name)) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`stream ${name} not in ${http}/api/v1/streams after ${timeoutMs} ms`);
}

/** Our node, fresh for each point, with a published stream at each bit rate. */
/** How many CPUs a taskset list names ("0", "0,1", "0-3,6"). */
export function cpuListSize(list: string): number {
  let n = 0;
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map((x) => Number(x.trim()));
    if (!Number.isInteger(a)) continue;
    n += Number.isInteger(b) && b >= a ? b - a + 1 : 1;
  }
  return Math.max(1, n);
}

async function runSelf(
  c: WhepCurve,
  bitrates: number[],
  workers: number,
  nodeEntry: 'auto' | 'tsx',
  rtcProcesses?: number,
): Promise<WhepPointResult[]> {
  const entry = await ourNodeEntry(nodeEntry, c.log);
  // one RTC process per CPU the server may use (the node's own default is one per core)
  rtcProcesses ??= c.pin ? cpuListSize(c.serverCpus) : undefined;
  const results: WhepPointResult[] = [];
  let n = 0;
  for (const kbps of bitrates) {
    const source: LoadedSource = await loadWhepSource(kbps);
    c.log(
      `source ${source.path}: ${source.media.length} tags, ${(source.bitrate / 1e6).toFixed(2)} Mbit/s, loop ${source.loopMs} ms`,
    );
    for (const viewers of c.players) {
      const name = rtcProcesses ? `rts-w${workers}-rtc${rtcProcesses}` : `rts-w${workers}`;
      const server = await startOurNode({
        entry,
        workers,
        cpus: c.pin ? c.serverCpus : undefined,
        name,
        ...(rtcProcesses ? { config: { rtc: { processes: rtcProcesses } } } : {}),
      });
      const stream = `whep${process.pid}x${++n}`;
      const publisher = new LoopPublisher({ url: server.rtmpUrl('live', stream), source });
      try {
        await publisher.start();
        const http = new URL(server.flvUrl('live', stream) ?? '').origin;
        await waitForStream(http, stream, 10_000);
        await new Promise((r) => setTimeout(r, 2000)); // a keyframe cached and the stream analysed
        const r = await point(c, name, viewers, `${http}/live/${stream}`, {
          kbps,
          serverPid: server.pid,
          nodeApi: `${http}/api/v1/node`,
        });
        if (publisher.error) r.failures.push(`publisher: ${publisher.error.message}`);
        results.push(r);
      } catch (err) {
        c.log(
          `  ${name} ${kbps} kbit/s ${viewers}: FAILED: ${err instanceof Error ? err.message : String(err)}\n  server output: ${server.output().slice(-1500)}`,
        );
      } finally {
        await publisher.stop();
        await server.stop();
      }
    }
  }
  return results;
}

const f0 = (n: number | null | undefined): string =>
  n === undefined || n === null || Number.isNaN(n) ? '-' : n.toFixed(0);
const f1 = (n: number | null | undefined): string =>
  n === undefined || n === null || Number.isNaN(n) ? '-' : n.toFixed(1);
const f2 = (n: number | null | undefined): string =>
  n === undefined || n === null || Number.isNaN(n) ? '-' : n.toFixed(2);

export function whepResultsTable(results: WhepPointResult[]): string {
  return table(
    [
      'server',
      'kbit/s',
      'viewers',
      'conn',
      'playing',
      'real time',
      'CPU %',
      'RTC procs %',
      'peak %',
      'RSS MB',
      'RTC procs MB',
      'pkts/s',
      'µs/pkt',
      'lost',
      'NACKs',
      'TTFF p50',
      'TTFF p90',
      'lat p50',
      'lat p99',
      'lat samples',
      'client CPU %',
      'other CPU %',
    ],
    results.map((r) => [
      r.server,
      r.kbps === undefined ? '-' : String(r.kbps),
      String(r.viewers),
      String(r.connected),
      String(r.playing),
      `${r.realtime}/${r.viewers}`,
      f0(r.serverCpuPercent ?? r.server_proc?.cpuPercent),
      r.rtcProcessesCpuPercent?.length ? r.rtcProcessesCpuPercent.join('+') : '-',
      f0(r.server_proc?.cpuPeakPercent),
      f0(r.server_proc?.rssMaxMB),
      r.rtcProcessesRssMB?.length ? r.rtcProcessesRssMB.join('+') : '-',
      String(r.packetsPerSec),
      f1(r.cpuUsPerPacket),
      String(r.videoLost),
      String(r.nacksSent),
      f1(r.ttffMs.p50),
      f1(r.ttffMs.p90),
      f2(r.serverLatencyMs?.p50),
      f2(r.serverLatencyMs?.p99),
      r.serverLatencyMs ? String(r.serverLatencyMs.samples) : '-',
      f0(r.clientsCpuPercent + r.benchCpuPercent),
      f0(r.otherCpuPercent),
    ]),
  );
}

export async function runWhepBenchCli(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      protocol: { type: 'string' },
      target: { type: 'string' },
      self: { type: 'boolean', default: false },
      bitrates: { type: 'string', default: '500' },
      workers: { type: 'string', default: '1' },
      'rtc-processes': { type: 'string' },
      players: { type: 'string', default: '50,200,500' },
      seconds: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '3' },
      ramp: { type: 'string', default: '50' },
      processes: { type: 'string' },
      'server-pid': { type: 'string' },
      'no-pin': { type: 'boolean', default: false },
      'server-cpus': { type: 'string', default: '0' },
      'client-cpus': { type: 'string', default: '1' },
      'wait-quiet': { type: 'string', default: '0' },
      tsx: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || (!values.self && !values.target)) {
    console.log(WHEP_HELP);
    return;
  }
  const seconds = Number(values.seconds);
  if (!(seconds > 0 && seconds <= 3600)) throw new Error('--seconds must be in 1..3600');
  const pin = !values['no-pin'] && tasksetWorks();
  const curve: WhepCurve = {
    players: parseList(values.players ?? '', 'players'),
    seconds,
    warmupMs: Number(values.warmup) * 1000,
    rampPerSec: parseList(values.ramp ?? '50', 'ramp')[0],
    processes: values.processes ? parseList(values.processes, 'processes')[0] : undefined,
    pin,
    serverCpus: values['server-cpus'] ?? '0',
    clientCpus: values['client-cpus'] ?? '1',
    quietWaitMs: Number(values['wait-quiet'] ?? 0) * 1000,
    log: (line) => console.log(line),
  };
  if (pin) pinSelf(curve.clientCpus);
  const options: Record<string, unknown> = { ...curve, log: undefined };
  try {
    let results: WhepPointResult[];
    if (values.self) {
      const bitrates = parseList(values.bitrates ?? '500', 'bitrates');
      const workers = parseList(values.workers ?? '1', 'workers')[0];
      const rtcProcesses = values['rtc-processes']
        ? parseList(values['rtc-processes'], 'rtc-processes')[0]
        : undefined;
      Object.assign(options, { self: true, bitrates, workers, rtcProcesses });
      results = await runSelf(curve, bitrates, workers, values.tsx ? 'tsx' : 'auto', rtcProcesses);
    } else {
      const target = values.target ?? '';
      const pid = values['server-pid'] ? Number(values['server-pid']) : undefined;
      if (pid !== undefined && !existsSync(`/proc/${pid}/stat`))
        throw new Error(`--server-pid ${pid}: no such process`);
      Object.assign(options, { target, serverPid: pid });
      const nodeApi = `${new URL(target).origin}/api/v1/node`;
      results = [];
      for (const viewers of curve.players)
        results.push(await point(curve, 'target', viewers, target, { serverPid: pid, nodeApi }));
    }
    console.log(`\n${whepResultsTable(results)}`);
    const record = {
      kind: 'rts-bench-whep',
      machine: machineInfo(),
      node: process.version,
      date: new Date().toISOString(),
      command: `rts bench ${argv.join(' ')}`,
      options,
      results,
    };
    const path = writeRecord(
      values.out ?? join(PROJECT_ROOT, 'benchmarks', 'results'),
      record,
      values.self ? 'self' : 'target',
      'whep',
    );
    console.log(`\nwritten ${path}`);
  } finally {
    removeBuilds();
  }
}
