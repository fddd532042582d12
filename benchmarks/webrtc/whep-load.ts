/**
 * WHEP load run: K headless viewers (node-datachannel, in `--procs` child processes) of one
 * ~500 kbps stream (H.264 450 kbps + Opus 48 kbps from ffmpeg-made files) served by WhepService
 * in THIS process, or of an external `--url`. Reports packets, loss, NACKs, time to first frame
 * and the server's CPU per delivered packet (process.cpuUsage and per-thread /proc/self/task).
 *
 * Run: npx tsx benchmarks/webrtc/whep-load.ts --viewers 50 --seconds 20 [--procs 2] [--url URL] [--pin]
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { shutdownWebrtcRuntime, WhepService } from '../../transports/webrtc/index.js';
import { MemoryFeed, makeFixtures, mergeFrames, paceFrames, readFlvVideo, readOggOpus } from './file-feed.js';

const { values } = parseArgs({
  options: {
    viewers: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '20' },
    procs: { type: 'string', default: '2' },
    url: { type: 'string' },
    'udp-port': { type: 'string', default: '40200' },
    'http-port': { type: 'string', default: '18090' },
    pin: { type: 'boolean', default: false },
  },
});
if (process.env.NDC_LOG)
  (await import('node-datachannel')).default.initLogger(
    (process.env.NDC_LOG === '1' ? 'Warning' : process.env.NDC_LOG) as 'Warning',
    (l, m) => process.stderr.write(`server ndc ${l}: ${m}\n`),
  );
const K = Number(values.viewers);
const seconds = Number(values.seconds);
const procs = Math.max(1, Math.min(K, Number(values.procs)));
const CLK_TCK = 100;

function threadTicks(): Map<string, { name: string; ticks: number }> {
  const out = new Map<string, { name: string; ticks: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, { name, ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // thread gone
    }
  }
  return out;
}

let service: WhepService | undefined;
let url = values.url;
let stopServer = async (): Promise<void> => {};
if (!url) {
  const fx = await makeFixtures({ seconds: 20, kbps: 450 });
  const frames = mergeFrames(readFlvVideo(fx.flv), readOggOpus(fx.ogg));
  const feed = new MemoryFeed({
    video: { codec: 'avc1.42c01e', width: 640, height: 360, bFrames: false, gopMs: 1000 },
    audio: { codec: 'opus', sampleRate: 48000, channels: 2 },
  });
  const pacer = paceFrames(frames, (f) => feed.push(f), { loops: 1000 });
  const svc = new WhepService({
    udpPort: Number(values['udp-port']),
    announceIp: '127.0.0.1',
    locationPrefix: '/whep',
    resolveFeed: () => feed,
    maxSessions: 5000,
  });
  service = svc;
  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      void svc
        .handle({
          method: req.method ?? 'GET',
          path: u.pathname.replace(/^\/whep/, ''),
          query: {},
          headers: req.headers as Record<string, string>,
          body: Buffer.concat(chunks),
        })
        .then((r) => res.writeHead(r.status, r.headers).end(r.body));
    });
  });
  await new Promise<void>((r) => http.listen(Number(values['http-port']), '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${values['http-port']}/whep/live/cam`;
  stopServer = async () => {
    pacer.stop();
    svc.close();
    await new Promise<void>((r) => http.close(() => r()));
  };
  if (values.pin) spawn('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 1500));
}

const clientScript = fileURLToPath(new URL('./whep-load-client.ts', import.meta.url));
const RAMP = Number(process.env.WHEP_RAMP ?? 50);
const rampSec = K / RAMP;
const children = Array.from({ length: procs }, (_, i) => {
  const n = Math.floor(K / procs) + (i < K % procs ? 1 : 0);
  const arg = JSON.stringify({ url, viewers: n, seconds, rampPerSec: RAMP / procs, name: `p${i}` });
  const cmd = values.pin ? 'taskset' : process.execPath;
  const argv = values.pin
    ? ['-c', '1', process.execPath, '--import', 'tsx', clientScript, arg]
    : ['--import', 'tsx', clientScript, arg];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  return new Promise<Record<string, unknown>>((resolve) =>
    child.on('exit', () => resolve(JSON.parse(out.trim().split('\n').pop() || '{}'))),
  );
});

// Measure the steady window: after the ramp plus 3 s, for `seconds - 4` s.
let measured: Record<string, unknown> = {};
if (service) {
  const svc = service;
  await new Promise((r) => setTimeout(r, (rampSec + 3) * 1000));
  const window = Math.max(3, seconds - 5);
  const pk = () =>
    svc.sessionStats().reduce((n, s) => n + s.videoPackets + s.audioPackets + s.retransmits, 0);
  const c0 = process.cpuUsage();
  const t0 = threadTicks();
  const p0 = pk();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, window * 1000));
  const c1 = process.cpuUsage(c0);
  const t1 = threadTicks();
  const p1 = pk();
  const wallS = (performance.now() - w0) / 1000;
  const cpuUs = c1.user + c1.system;
  const packets = p1 - p0;
  const byName = new Map<string, number>();
  for (const [tid, v] of t1) {
    const d = v.ticks - (t0.get(tid)?.ticks ?? 0);
    byName.set(v.name, (byName.get(v.name) ?? 0) + d);
  }
  const mainTid = String(process.pid);
  const mainTicks = (t1.get(mainTid)?.ticks ?? 0) - (t0.get(mainTid)?.ticks ?? 0);
  measured = {
    windowS: Number(wallS.toFixed(1)),
    sessions: svc.sessionCount,
    serverCpuPct: Number(((cpuUs / 1e6 / wallS) * 100).toFixed(1)),
    jsThreadCpuPct: Number(((mainTicks / CLK_TCK / wallS) * 100).toFixed(1)),
    packetsPerSec: Math.round(packets / wallS),
    cpuUsPerPacket: Number((cpuUs / packets).toFixed(2)),
    jsThreadUsPerPacket: Number((((mainTicks / CLK_TCK) * 1e6) / packets).toFixed(2)),
    threadsByName: Object.fromEntries(
      [...byName]
        .filter(([, d]) => d > 0)
        .map(([n, d]) => [n, Number(((d / CLK_TCK / wallS) * 100).toFixed(1))]),
    ),
    rssMB: Math.round(process.memoryUsage().rss / 1e6),
    serverNacks: svc.sessionStats().reduce((n, s) => n + s.nacks, 0),
    serverRetransmits: svc.sessionStats().reduce((n, s) => n + s.retransmits, 0),
  };
}
const results = await Promise.all(children);
const sum = (k: string) => results.reduce((n, r) => n + Number(r[k] ?? 0), 0);
const report = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  command: `npx tsx benchmarks/webrtc/whep-load.ts ${process.argv.slice(2).join(' ')}`,
  viewers: K,
  procs,
  server: measured,
  clients: {
    connected: sum('connected'),
    playing: sum('playing'),
    videoPackets: sum('videoPackets'),
    audioPackets: sum('audioPackets'),
    videoLostAtEnd: sum('videoLostAtEnd'),
    nacksSent: sum('nacksSent'),
    connectRetries: sum('connectRetries'),
    duplicates: sum('duplicates'),
    ttffMs: results.map((r) => r.ttffMs),
    failures: results.flatMap((r) => (r.failures as string[]) ?? []),
  },
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
await stopServer();
if (service) await shutdownWebrtcRuntime();
process.exit(0);
