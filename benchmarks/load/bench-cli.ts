/**
 * `rts bench`: a load tool for any RTMP / HTTP-FLV server (in the spirit of srs-bench), and a
 * comparison of our node against peer servers on the same curve.
 *
 *   rts bench --target rtmp://host:1935/live/s [--flv http://host:8080/live/s.flv] \
 *             --protocol rtmp,flv --players 10,100,500,1000 --seconds 20 [--server-pid PID]
 *   rts bench --compare [--servers rts,nms,nginx] [--workers 1,2] [--config JSON|FILE] ...
 *
 * See HELP below for every option. Results print as tables and are written as JSON (machine,
 * date, Node version, command) to benchmarks/results/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseList, pinSelf, tasksetWorks } from './cli-helpers.js';
import { DEFAULT_SOURCE, ensureSourceFile, type LoadedSource, loadSource } from './media-source.js';
import type { PlayerClient } from './player-messages.js';
import { waitForQuietMachine } from './proc-sampler.js';
import { makeRecord, ratiosTable, resultsTable, writeRecord } from './report.js';
import { type PointResult, runPoint } from './run-point.js';
import {
  killServersNow,
  nginxRtmpAvailable,
  ourNodeEntry,
  PROJECT_ROOT,
  removeBuilds,
  type ServerHandle,
  startNginxRtmp,
  startNodeMediaServer,
  startOurNode,
} from './servers.js';

const HELP = `rts bench: load-test an RTMP / HTTP-FLV server with one real-time publisher and N players

  rts bench --target rtmp://HOST:PORT/APP/STREAM [--flv http://HOST:PORT/APP/STREAM.flv] [options]
  rts bench --compare [options]       start our node and peer servers, run the same curve on each
  rts bench --protocol whep ...       WebRTC (WHEP) viewers: rts bench --protocol whep --help

options:
  --protocol rtmp|flv[,..]   player protocol(s)                         (default rtmp)
  --players 10,100,500,1000  players per point                          (default 10,100,500,1000)
  --seconds N                measurement window per point               (default 20)
  --server-pid PID           external server's pid: CPU % and RSS from /proc
  --processes N              player processes (default: players/250, 1..4)
  --sample-every N           latency sample every Nth tag per player, plus keyframes (default 2)
  --warmup S                 seconds between the last connect and the window (default 3)
  --no-pin                   do not pin with taskset (default: server on CPU 0, clients on CPU 1)
  --server-cpus LIST --client-cpus LIST   taskset CPU lists (default 0 and 1)
  --client light|full        light: raw sockets, one shared read buffer, media never copied (default);
                             full: our RtmpClient / node:http per player (costs the client ~3x more)
  --wait-quiet S             on a shared machine: before each point wait up to S seconds for it to be idle
  --out DIR                  where the JSON goes (default benchmarks/results)
compare mode:
  --servers rts,nms,nginx    servers to run (nginx-rtmp only when installed; RTMP only)
  --workers 1,2              our node's --workers variants (default 1,2)
  --config JSON|FILE         extra config for our node, e.g. '{"players":{"mergeWriteMs":20}}'
  --tsx                      run our node from source through tsx (default: dist/, else a temporary tsc build)
`;

export interface CurveOptions {
  protocols: ('rtmp' | 'flv')[];
  players: number[];
  seconds: number;
  processes: number | undefined;
  sampleEvery: number;
  warmupMs: number;
  pin: boolean;
  serverCpus: string;
  clientCpus: string;
  client: PlayerClient;
  /** Before each point, wait up to this long for the machine to be quiet (0: do not wait). */
  quietWaitMs: number;
  log: (line: string) => void;
}

export interface CompareOptions extends CurveOptions {
  servers: string[];
  workers: number[];
  config: Record<string, unknown> | undefined;
  /** 'auto': dist/ or a temporary tsc build; 'tsx': from source. */
  nodeEntry: 'auto' | 'tsx';
}

function parseProtocols(v: string): ('rtmp' | 'flv')[] {
  const out = v.split(',').map((s) => s.trim());
  for (const p of out)
    if (p !== 'rtmp' && p !== 'flv') throw new Error(`--protocol: unknown ${p} (rtmp or flv)`);
  return out as ('rtmp' | 'flv')[];
}

function parseClient(v: string): PlayerClient {
  if (v !== 'light' && v !== 'full') throw new Error('--client must be light or full');
  return v;
}

function autoProcesses(players: number): number {
  return Math.max(1, Math.min(4, Math.ceil(players / 250)));
}

/** 'Quiet' for --wait-quiet: everything running on the machine below a third of one core. */
const QUIET_BUSY_PERCENT = 35;

let sourceCache: LoadedSource | undefined;
async function source(log: (s: string) => void): Promise<LoadedSource> {
  if (sourceCache) return sourceCache;
  const t0 = Date.now();
  const path = await ensureSourceFile(DEFAULT_SOURCE);
  sourceCache = loadSource(path, DEFAULT_SOURCE);
  log(
    `source ${path}: ${sourceCache.media.length} tags, ${(sourceCache.bitrate / 1e6).toFixed(2)} Mbit/s, loop ${sourceCache.loopMs} ms (${Date.now() - t0} ms)`,
  );
  return sourceCache;
}

let streamCounter = 0;
function streamName(): string {
  return `bench${process.pid}x${++streamCounter}`;
}

async function point(
  o: CurveOptions,
  server: string,
  protocol: 'rtmp' | 'flv',
  players: number,
  publishUrl: string,
  playUrl: string,
  pid: number | undefined,
): Promise<PointResult> {
  if (o.quietWaitMs > 0) {
    const busy = await waitForQuietMachine(QUIET_BUSY_PERCENT, o.quietWaitMs, cpus().length);
    if (busy > QUIET_BUSY_PERCENT)
      o.log(
        `  machine still busy (${busy.toFixed(0)} % of a core) after ${o.quietWaitMs / 1000} s: running anyway`,
      );
  }
  o.log(`${server} ${protocol} ${players} players, ${o.seconds} s`);
  const r = await runPoint({
    server,
    protocol,
    players,
    publishUrl,
    playUrl,
    serverPid: pid,
    source: await source(o.log),
    seconds: o.seconds,
    processes: o.processes ?? autoProcesses(players),
    clientCpus: o.pin ? o.clientCpus : undefined,
    sampleEvery: o.sampleEvery,
    leadMs: 1500,
    warmupMs: o.warmupMs,
    concurrency: 25,
    client: o.client,
    log: o.log,
  });
  const l = r.latencyMs;
  o.log(
    `  cpu ${r.server_proc ? r.server_proc.cpuPercent.toFixed(0) : '-'} %, rss ${r.server_proc ? (r.server_proc.rssMaxBytes / 2 ** 20).toFixed(0) : '-'} MB, latency p50/p99/max ${l.p50.toFixed(1)}/${l.p99.toFixed(1)}/${l.max.toFixed(0)} ms (${l.samples} samples${r.unmatchedSamples ? `, ${r.unmatchedSamples} unmatched` : ''}), real time ${r.realtime.ok}/${r.connected}, client cpu ${r.clients.cpuPercent.toFixed(0)} %, other load on the machine ${r.machine.otherPercent.toFixed(0)} %`,
  );
  return r;
}

/** Runs the curve against an external server. */
export async function runExternal(
  o: CurveOptions,
  target: string,
  flv: string | undefined,
  serverPid: number | undefined,
): Promise<PointResult[]> {
  const results: PointResult[] = [];
  for (const protocol of o.protocols) {
    const playUrl = protocol === 'rtmp' ? target : flv;
    if (playUrl === undefined) throw new Error('--protocol flv needs --flv URL');
    for (const n of o.players)
      results.push(await point(o, 'target', protocol, n, target, playUrl, serverPid));
  }
  return results;
}

/** Starts each server fresh for each point and runs the same curve on all of them. */
export async function runCompare(o: CompareOptions): Promise<PointResult[]> {
  const starters: {
    name: string;
    rtmpOnly: boolean;
    entry?: string[];
    start: () => Promise<ServerHandle>;
  }[] = [];
  const serverCpus = o.pin ? o.serverCpus : undefined;
  for (const s of o.servers) {
    if (s === 'rts') {
      for (const w of o.workers) {
        const name = `rts-w${w}${o.config ? '+cfg' : ''}`;
        const st: (typeof starters)[number] = {
          name,
          rtmpOnly: false,
          start: () =>
            startOurNode({ entry: st.entry ?? [], workers: w, config: o.config, cpus: serverCpus, name }),
        };
        starters.push(st);
      }
    } else if (s === 'nms') {
      starters.push({ name: 'nms', rtmpOnly: false, start: () => startNodeMediaServer(serverCpus) });
    } else if (s === 'nginx') {
      if (nginxRtmpAvailable())
        starters.push({ name: 'nginx-rtmp', rtmpOnly: true, start: () => startNginxRtmp(serverCpus) });
      else o.log('nginx-rtmp is not installed: skipped');
    } else {
      throw new Error(`--servers: unknown ${s} (rts, nms, nginx)`);
    }
  }
  const entry = o.servers.includes('rts') ? await ourNodeEntry(o.nodeEntry, o.log) : [];
  for (const s of starters) if (s.name.startsWith('rts')) s.entry = entry;
  const results: PointResult[] = [];
  for (const protocol of o.protocols) {
    for (const n of o.players) {
      for (const s of starters) {
        if (protocol === 'flv' && s.rtmpOnly) continue;
        const server = await s.start();
        try {
          const stream = streamName();
          const playUrl =
            protocol === 'rtmp' ? server.rtmpUrl('live', stream) : server.flvUrl('live', stream);
          if (playUrl === undefined) continue;
          results.push(
            await point(o, s.name, protocol, n, server.rtmpUrl('live', stream), playUrl, server.pid),
          );
        } catch (err) {
          o.log(
            `  ${s.name} ${protocol} ${n}: FAILED: ${err instanceof Error ? err.message : String(err)}\n  server output: ${server.output().slice(-1500)}`,
          );
        } finally {
          await server.stop();
        }
      }
    }
  }
  return results;
}

function parseConfig(v: string | undefined): Record<string, unknown> | undefined {
  if (v === undefined) return undefined;
  const text = v.trim().startsWith('{') ? v : readFileSync(v, 'utf8');
  const c = JSON.parse(text) as unknown;
  if (c === null || typeof c !== 'object' || Array.isArray(c))
    throw new Error('--config must be a JSON object');
  return c as Record<string, unknown>;
}

/** Installs exit/signal handlers that kill every child the run started; returns the remover. */
export function guardChildren(): () => void {
  const onSignal = (sig: NodeJS.Signals): void => {
    killServersNow();
    removeBuilds();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  const onExit = (): void => {
    killServersNow();
    removeBuilds();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', onExit);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
  };
}

/** `--protocol whep` (alone: WHEP is not mixed with the TCP protocols in one curve). */
function asksForWhep(argv: string[]): boolean {
  const i = argv.indexOf('--protocol');
  const v = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--protocol='))?.slice('--protocol='.length);
  return v === 'whep';
}

export async function runBenchCli(argv: string[]): Promise<void> {
  if (asksForWhep(argv)) {
    const { runWhepBenchCli } = await import('../webrtc/whep-bench-cli.js');
    const unguard = guardChildren();
    try {
      await runWhepBenchCli(argv);
    } finally {
      unguard();
    }
    return;
  }
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: 'string' },
      flv: { type: 'string' },
      protocol: { type: 'string', default: 'rtmp' },
      players: { type: 'string', default: '10,100,500,1000' },
      seconds: { type: 'string', default: '20' },
      'server-pid': { type: 'string' },
      processes: { type: 'string' },
      'sample-every': { type: 'string', default: '2' },
      warmup: { type: 'string', default: '3' },
      'no-pin': { type: 'boolean', default: false },
      'server-cpus': { type: 'string', default: '0' },
      'client-cpus': { type: 'string', default: '1' },
      client: { type: 'string', default: 'light' },
      'wait-quiet': { type: 'string', default: '0' },
      out: { type: 'string' },
      compare: { type: 'boolean', default: false },
      servers: { type: 'string', default: 'rts,nms,nginx' },
      workers: { type: 'string', default: '1,2' },
      config: { type: 'string' },
      tsx: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || (!values.compare && !values.target)) {
    console.log(HELP);
    return;
  }
  const seconds = Number(values.seconds);
  if (!(seconds > 0 && seconds <= 3600)) throw new Error('--seconds must be in 1..3600');
  const pin = !values['no-pin'] && tasksetWorks();
  const curve: CurveOptions = {
    protocols: parseProtocols(values.protocol ?? 'rtmp'),
    players: parseList(values.players ?? '', 'players'),
    seconds,
    processes: values.processes ? parseList(values.processes, 'processes')[0] : undefined,
    sampleEvery: parseList(values['sample-every'] ?? '2', 'sample-every')[0],
    warmupMs: Number(values.warmup) * 1000,
    pin,
    serverCpus: values['server-cpus'] ?? '0',
    clientCpus: values['client-cpus'] ?? '1',
    client: parseClient(values.client ?? 'light'),
    quietWaitMs: Number(values['wait-quiet'] ?? 0) * 1000,
    log: (line) => console.log(line),
  };
  if (pin) pinSelf(curve.clientCpus);
  const unguard = guardChildren();
  try {
    let results: PointResult[];
    const options: Record<string, unknown> = { ...curve, log: undefined, source: DEFAULT_SOURCE };
    if (values.compare) {
      const cmp: CompareOptions = {
        ...curve,
        servers: (values.servers ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        workers: parseList(values.workers ?? '1', 'workers'),
        config: parseConfig(values.config),
        nodeEntry: values.tsx ? 'tsx' : 'auto',
      };
      Object.assign(options, { servers: cmp.servers, workers: cmp.workers, config: cmp.config });
      results = await runCompare(cmp);
    } else {
      const pid = values['server-pid'] ? Number(values['server-pid']) : undefined;
      if (pid !== undefined && !existsSync(`/proc/${pid}/stat`))
        throw new Error(`--server-pid ${pid}: no such process`);
      Object.assign(options, { target: values.target, flv: values.flv, serverPid: pid });
      results = await runExternal(curve, values.target ?? '', values.flv, pid);
    }
    console.log(`\n${resultsTable(results)}`);
    const ratios = ratiosTable(results, (n) => n.startsWith('rts'));
    if (ratios) console.log(`\n${ratios}`);
    const record = makeRecord(`rts bench ${argv.join(' ')}`, options, results);
    const path = writeRecord(
      values.out ?? join(PROJECT_ROOT, 'benchmarks', 'results'),
      record,
      values.compare ? 'compare' : 'target',
    );
    console.log(`\nwritten ${path}`);
  } finally {
    removeBuilds();
    unguard();
  }
}
