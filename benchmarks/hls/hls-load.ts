/**
 * HLS / LL-HLS serving at scale: one 2 Mbps 720p30 stream published with our RtmpClient, N classic
 * and M LL-HLS clients (one keep-alive connection each) in a few child processes.
 * Server pinned to CPU 0, this process, the publisher and the clients to CPU 1.
 *
 *   node --import tsx benchmarks/hls/hls-load.ts [--classic 1000] [--ll 500] [--duration 30]
 *        [--procs 3] [--ramp 5] [--warm 3] [--workers 1] [--cpu-prof] [--out FILE] [--label X]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  cpuBetween,
  Hist,
  machine,
  median,
  type ParsedPlaylist,
  type ProcSample,
  parsePlaylist,
  pin,
  publish,
  ROOT,
  readFlvFrames,
  round,
  type ServerHandle,
  sampleProc,
  sleep,
  sourceFile,
  startServer,
  stopChild,
} from './common.js';

const { values: a } = parseArgs({
  options: {
    classic: { type: 'string', default: '1000' },
    ll: { type: 'string', default: '500' },
    duration: { type: 'string', default: '30' },
    procs: { type: 'string', default: '3' },
    ramp: { type: 'string', default: '5' },
    warm: { type: 'string', default: '3' },
    workers: { type: 'string', default: '1' },
    'cpu-prof': { type: 'boolean', default: false },
    out: { type: 'string' },
    label: { type: 'string', default: '' },
    'wait-quiet': { type: 'string', default: '0' },
  },
});
const N = Number(a.classic);
const M = Number(a.ll);
const durationMs = Number(a.duration) * 1000;
const procs = Math.max(1, Number(a.procs));
const rampMs = Number(a.ramp) * 1000;
const warmMs = Number(a.warm) * 1000;
const STREAM = 'bench';

function httpGet(agent: Agent, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(5000, () => req.destroy());
    req.on('error', () => resolve({ status: -1, body: '' }));
    req.end();
  });
}

/** Top self-time functions of the .cpuprofile files in `dir` (one per thread). */
function summarizeProfiles(dir: string) {
  const out: { file: string; totalMs: number; top: { fn: string; selfMs: number; pct: number }[] }[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
      nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
      samples: number[];
      timeDeltas: number[];
    };
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const self = new Map<string, number>();
    let total = 0;
    p.samples.forEach((id, i) => {
      const n = byId.get(id);
      const dt = (p.timeDeltas[i] ?? 0) / 1000;
      total += dt;
      if (!n) return;
      const url = n.callFrame.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/');
      const key = `${n.callFrame.functionName || '(anon)'} ${url}:${n.callFrame.lineNumber + 1}`;
      self.set(key, (self.get(key) ?? 0) + dt);
    });
    const idle = self.get('(idle) :0') ?? 0;
    const busy = total - idle;
    const top = [...self]
      .filter(([k]) => !k.startsWith('(idle)'))
      .sort((x, y) => y[1] - x[1])
      .slice(0, 15)
      .map(([fn, ms]) => ({ fn, selfMs: round(ms), pct: round((ms / busy) * 100, 1) }));
    out.push({ file: f, totalMs: round(busy), top });
  }
  return out.sort((x, y) => y.totalMs - x.totalMs);
}

/** Busy jiffies and total jiffies per CPU from /proc/stat. */
function cpuStat(): { busy: number; total: number }[] {
  return readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((l) => /^cpu\d+ /.test(l))
    .map((l) => {
      const v = l.trim().split(/\s+/).slice(1).map(Number);
      const total = v.reduce((x, y) => x + y, 0);
      return { busy: total - v[3] - (v[4] ?? 0), total };
    });
}

async function main(): Promise<void> {
  pin(process.pid, '1');
  // Shared machine: wait (bounded) until both CPUs are mostly idle before measuring.
  const quietUntil = Date.now() + Number(a['wait-quiet']) * 1000;
  while (Date.now() < quietUntil) {
    const s0 = cpuStat();
    await sleep(2000);
    const s1 = cpuStat();
    const busy = s1.map((e, i) => (e.busy - s0[i].busy) / Math.max(1, e.total - s0[i].total));
    if (Math.max(...busy) < 0.25) break;
    console.error(`waiting for a quiet machine: busy ${busy.map((b) => Math.round(b * 100)).join('/')} %`);
  }
  const file = await sourceFile(60);
  const frames = readFlvFrames(file);
  const profDir = a['cpu-prof'] ? mkdtempSync(join(tmpdir(), 'rts-hls-prof-')) : undefined;
  let server: ServerHandle;
  const classicPath = `/live/${STREAM}.m3u8`;
  const llPath: string | undefined = M > 0 ? `/live/${STREAM}/ll.m3u8` : undefined;
  server = await startServer({
    workers: Number(a.workers),
    nodeArgs: profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [],
  });
  const children: ChildProcess[] = [];
  const cleanup = async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await server.stop();
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    const pub = await publish(`rtmp://127.0.0.1:${server.rtmpPort}/live/${STREAM}`, frames, 10);
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    // Wait for 3 segments, so every client starts on a full playlist.
    const ready = Date.now() + 30_000;
    for (;;) {
      const r = await httpGet(agent, server.httpPort, classicPath);
      if (r.status === 200 && parsePlaylist(r.body).segments.length >= 3) break;
      if (Date.now() > ready)
        throw new Error(`no playlist: ${r.status} ${r.body.slice(0, 200)} ${server.output()}`);
      await sleep(200);
    }
    if (llPath) await httpGet(agent, server.httpPort, llPath);

    const clientsFile = new URL('./hls-clients.ts', import.meta.url).pathname;
    const results: Promise<any>[] = [];
    const snapWaiters = new Map<string, (m: any) => void>();
    const countFrom = Date.now() + rampMs + warmMs;
    const runMs = warmMs + durationMs;
    for (let i = 0; i < procs; i++) {
      const c = spawn(process.execPath, ['--import', 'tsx', clientsFile], {
        cwd: ROOT,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.push(c);
      results.push(
        new Promise((resolve) =>
          c.on('message', (m: any) => {
            if (m.type === 'result') resolve(m);
            else if (m.type === 'snap') snapWaiters.get(`${m.id}:${m.index}`)?.(m);
          }),
        ),
      );
      const share = (n: number) => Math.floor(n / procs) + (i < n % procs ? 1 : 0);
      c.send({
        type: 'start',
        index: i,
        host: '127.0.0.1',
        port: server.httpPort,
        stream: STREAM,
        classic: share(N),
        ll: llPath ? share(M) : 0,
        rampMs,
        durationMs: runMs,
        countFrom,
        timeoutMs: 20_000,
      });
    }

    // CPU/RSS every second; live-edge snapshots every 2 s once counting.
    const samples: ProcSample[] = [];
    const rss: number[] = [];
    const cpuPerSec: number[] = [];
    const classicLagSegs: number[] = []; // per client per snapshot
    const llLagMs: number[] = [];
    const maxClassicLag = new Map<string, number>();
    const maxLlLag = new Map<string, number>();
    const endAt = Date.now() + rampMs + runMs;
    let nextSnap = countFrom;
    let snapId = 0;
    let prev = sampleProc(server.pid);
    const clientTicks = () =>
      [process.pid, ...children.map((c) => c.pid!)].reduce(
        (acc, pid) => acc + (sampleProc(pid)?.cpuTicks ?? 0),
        0,
      );
    let cpuStart: { busy: number; total: number }[] | undefined;
    let cpuEnd: { busy: number; total: number }[] | undefined;
    let clientStart: { t: number; ticks: number } | undefined;
    let clientEnd: { t: number; ticks: number } | undefined;
    while (Date.now() < endAt - 500) {
      await sleep(1000);
      const s = sampleProc(server.pid);
      if (Date.now() >= countFrom) {
        cpuStart ??= cpuStat();
        cpuEnd = cpuStat();
        const c = { t: performance.now(), ticks: clientTicks() };
        clientStart ??= c;
        clientEnd = c;
      }
      if (s && prev && Date.now() >= countFrom) {
        samples.push(s);
        rss.push(s.rssBytes);
        cpuPerSec.push(cpuBetween(prev, s, server.pid).cpuPct);
      }
      prev = s;
      if (Date.now() >= nextSnap && Date.now() < endAt - 2000) {
        nextSnap += 2000;
        const id = snapId++;
        const [c, l] = await Promise.all([
          httpGet(agent, server.httpPort, classicPath),
          llPath ? httpGet(agent, server.httpPort, llPath) : Promise.resolve({ status: 0, body: '' }),
        ]);
        const cp: ParsedPlaylist | undefined = c.status === 200 ? parsePlaylist(c.body) : undefined;
        const lp: ParsedPlaylist | undefined = l.status === 200 ? parsePlaylist(l.body) : undefined;
        const serverMsn = cp?.segments.at(-1)?.msn ?? -1;
        const serverLlEnd = lp?.parts.at(-1)?.endWall ?? 0;
        const snaps = await Promise.all(
          children.map(
            (ch, ci) =>
              new Promise<any>((resolve) => {
                snapWaiters.set(`${id}:${ci}`, resolve);
                ch.send({ type: 'snap', id });
              }),
          ),
        );
        snaps.forEach((sn, pi) => {
          (sn.clients as [number, number, number, number][]).forEach(([kind, endWall, msn], ci) => {
            const key = `${pi}:${ci}`;
            if (kind === 0 && serverMsn >= 0) {
              const lag = msn < 0 ? 99 : serverMsn - msn;
              classicLagSegs.push(lag);
              maxClassicLag.set(key, Math.max(maxClassicLag.get(key) ?? -99, lag));
            } else if (kind === 1 && serverLlEnd > 0) {
              const lag = endWall <= 0 ? 99_000 : serverLlEnd - endWall;
              llLagMs.push(lag);
              maxLlLag.set(key, Math.max(maxLlLag.get(key) ?? -99_999, lag));
            }
          });
        });
      }
    }
    const done = await Promise.all(results);
    pub.stop();

    const lat = new Map<string, Hist>();
    const avail = new Map<string, Hist>();
    const statuses: Record<string, number> = {};
    let bytes = 0;
    let clientErrors = 0;
    for (const d of done) {
      for (const [k, h] of Object.entries(d.lat)) {
        if (!lat.has(k)) lat.set(k, new Hist());
        lat.get(k)!.merge(h as any);
      }
      for (const [k, h] of Object.entries(d.avail)) {
        if (!avail.has(k)) avail.set(k, new Hist());
        avail.get(k)!.merge(h as any);
      }
      for (const [k, v] of Object.entries(d.statuses as Record<string, number>))
        statuses[k] = (statuses[k] ?? 0) + v;
      bytes += d.bytes;
      clientErrors += (d.clients as { errors: number }[]).filter((c) => c.errors > 0).length;
    }
    const first = samples[0];
    const last = samples.at(-1);
    const cpu = first && last ? cpuBetween(first, last, server.pid) : undefined;
    const sortedC = [...maxClassicLag.values()];
    const sortedL = [...maxLlLag.values()];
    const targetMs = 2000;
    const result = {
      label: a.label,
      date: new Date().toISOString(),
      machine: machine(),
      command: `node --import tsx benchmarks/hls/hls-load.ts ${process.argv.slice(2).join(' ')}`,
      config: {
        classic: N,
        ll: llPath ? M : 0,
        durationS: durationMs / 1000,
        procs,
        rampS: rampMs / 1000,
        warmS: warmMs / 1000,
        workers: Number(a.workers),
      },
      serverCpuPct: cpu?.cpuPct,
      serverCpuPerSecMedian: round(median(cpuPerSec), 1),
      serverThreads: cpu?.threads,
      clientsCpuPct:
        clientStart && clientEnd && clientEnd.t > clientStart.t
          ? round(
              ((clientEnd.ticks - clientStart.ticks) / 100 / ((clientEnd.t - clientStart.t) / 1000)) * 100,
              1,
            )
          : null,
      // Whole-machine busy % per CPU (anything else running on the box shows up here).
      systemCpuBusyPct:
        cpuStart && cpuEnd
          ? cpuEnd.map((e, i) =>
              round(((e.busy - cpuStart![i].busy) / Math.max(1, e.total - cpuStart![i].total)) * 100, 1),
            )
          : null,
      loadavg: readFileSync('/proc/loadavg', 'utf8').trim(),
      rssMBMedian: round(median(rss) / 2 ** 20),
      rssMBMax: round(Math.max(...rss) / 2 ** 20),
      deliveredMbps: round((bytes * 8) / (runMs - warmMs) / 1000, 0),
      latencyMs: Object.fromEntries([...lat].filter(([, h]) => h.n > 0).map(([k, h]) => [k, h.summary()])),
      mediaDelayMs: Object.fromEntries(
        [...avail].filter(([, h]) => h.n > 0).map(([k, h]) => [k, h.summary()]),
      ),
      statuses,
      clientsWithErrors: clientErrors,
      liveEdge: {
        snapshots: snapId,
        classicLagSegments: {
          median: median(classicLagSegs),
          max: sortedC.length ? Math.max(...sortedC) : null,
          clientsMoreThan1Behind: sortedC.filter((x) => x > 1).length,
          clients: sortedC.length,
        },
        llLagMs: {
          median: round(median(llLagMs)),
          p99: round(new Float64Array(llLagMs).sort()[Math.floor(llLagMs.length * 0.99)] ?? Number.NaN),
          max: sortedL.length ? round(Math.max(...sortedL)) : null,
          clientsMoreThan1SegmentBehind: sortedL.filter((x) => x > targetMs).length,
          clients: sortedL.length,
        },
      },
      publisherMaxLateMs: round(pub.maxLateMs),
    };
    await cleanup();
    if (profDir) {
      await sleep(500);
      (result as any).profile = summarizeProfiles(profDir);
    }
    console.log(JSON.stringify(result, null, 2));
    if (a.out) {
      mkdirSync(join(ROOT, 'benchmarks/results'), { recursive: true });
      let prior: unknown[] = [];
      try {
        prior = JSON.parse(readFileSync(a.out, 'utf8')).runs ?? [];
      } catch {
        /* new file */
      }
      writeFileSync(a.out, JSON.stringify({ runs: [...prior, result] }, null, 2));
    }
  } finally {
    for (const c of children) if (c.exitCode === null) await stopChild(c, 1000);
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
