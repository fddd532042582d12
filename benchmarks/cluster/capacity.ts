/**
 * Players kept in real time: one standalone node vs three clustered nodes (A origin, B and C edges
 * over NATS), same box, same publisher (720p30 2 Mbps loop into A), same client processes.
 *
 * - single: N players over HTTP-FLV on A, from 3 client processes.
 * - cluster: N/3 players on each of A, B, C (what DNS round-robin or an L4 balancer gives).
 *
 * A player is "in real time" when its media timeline never fell more than 1 s behind the wall
 * clock and it had no gap (benchmarks/load/player-process.ts). Node CPU comes from /proc (every
 * thread of the process). On this 2-core box all nodes, clients and NATS share the same cores, so
 * this shows the cost the cluster adds, not the scale-out (which needs separate machines).
 *
 * usage: node --import tsx benchmarks/cluster/capacity.ts [--points 150,300,450] [--seconds 10]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type NodeProcess, spawnNode } from '../../tests/cluster/support/cluster-nodes.js';
import { startNatsServer } from '../../tests/cluster/support/nats-server.js';
import { killTrackedChildren } from '../../tests/support/children.js';
import { DEFAULT_SOURCE, ensureSourceFile, type LoadedSource, loadSource } from '../load/media-source.js';
import { PlayerPool } from '../load/player-pool.js';
import { ProcSampler } from '../load/proc-sampler.js';
import { LoopPublisher } from '../load/publisher.js';

const { values } = parseArgs({
  options: {
    points: { type: 'string', default: '150,300,450' },
    seconds: { type: 'string', default: '10' },
    configs: { type: 'string', default: 'single,cluster' },
    'show-logs': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const points = values.points.split(',').map(Number);
const seconds = Number(values.seconds);
const here = dirname(fileURLToPath(import.meta.url));
const outFile = values.out ?? join(here, '..', 'results', 'cluster-capacity.json');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function point(
  label: string,
  publishTo: NodeProcess,
  playOn: NodeProcess[],
  all: NodeProcess[],
  n: number,
  source: LoadedSource,
) {
  const name = `cap-${label}-${n}`;
  const pools = playOn.map(
    (node, i) =>
      new PlayerPool({
        protocol: 'flv',
        url: `${node.http}/live/${name}.flv`,
        players: Math.floor(n / playOn.length) + (i < n % playOn.length ? 1 : 0),
        processes: playOn.length === 1 ? 3 : 1,
        cpus: undefined,
        sampleEvery: 10,
        concurrency: 50,
        connectTimeoutMs: 10_000,
      }),
  );
  const pub = new LoopPublisher({
    url: `${publishTo.rtmp}/live/${name}`,
    source,
    onSent: (k, t) => {
      for (const p of pools) p.sent(k, t);
    },
  });
  const samplers = all.map((x) => new ProcSampler(x.proc.pid!));
  try {
    await pub.start();
    await sleep(1500);
    const ready = await Promise.all(pools.map((p) => p.start()));
    await sleep(3000);
    for (const s of samplers) s.start(1000);
    for (const p of pools) p.measure();
    await sleep(seconds * 1000);
    const procs = samplers.map((s) => s.stop());
    const rs = await Promise.all(pools.map((p) => p.collect()));
    let connected = 0;
    let notRealtime = 0;
    let bytes = 0;
    let clientCpu = 0;
    let maxBehindMs = 0;
    const lat = rs[0]!.latency;
    for (const [i, r] of rs.entries()) {
      connected += r.connected;
      notRealtime += r.notRealtime;
      bytes += r.bytes;
      clientCpu += r.cpuPercent;
      maxBehindMs = Math.max(maxBehindMs, r.maxBehindMs);
      if (i > 0) lat.merge(r.latency);
    }
    const out = {
      config: label,
      players: n,
      connected,
      failed: ready.reduce((t, r) => t + r.failed, 0),
      realtime: connected - notRealtime,
      notRealtime,
      maxBehindMs: Math.round(maxBehindMs),
      deliveredMbps: Math.round(((bytes * 8) / seconds / 1e6) * 10) / 10,
      latencyMs: { p50: lat.percentile(50), p99: lat.percentile(99) },
      nodesCpuPercent: Object.fromEntries(all.map((x, i) => [x.id, Math.round(procs[i]!.cpuPercent)])),
      loadAverage1m: Math.round(loadavg()[0]! * 10) / 10,
      nodesRssMB: Object.fromEntries(all.map((x, i) => [x.id, Math.round(procs[i]!.rssMaxBytes / 1e6)])),
      clientsCpuPercent: Math.round(clientCpu),
    };
    console.log(JSON.stringify(out));
    return out;
  } finally {
    for (const s of samplers) s.stop();
    await Promise.all(pools.map((p) => p.stop()));
    await pub.stop();
  }
}

async function main(): Promise<void> {
  const source = loadSource(await ensureSourceFile(DEFAULT_SOURCE), DEFAULT_SOURCE);
  const results: unknown[] = [];
  const nats = await startNatsServer();
  try {
    const configs = values.configs.split(',');
    const single = configs.includes('single') ? await spawnNode({ id: 'solo' }) : undefined;
    if (single)
      try {
        for (const n of points) results.push(await point('single', single, [single], [single], n, source));
      } finally {
        await single.stop();
      }
    const nodes = !configs.includes('cluster')
      ? []
      : await Promise.all(['A', 'B', 'C'].map((id) => spawnNode({ natsUrl: nats.url, id })));
    try {
      for (const n of points)
        if (nodes.length) results.push(await point('cluster', nodes[0]!, nodes, nodes, n, source));
    } finally {
      if (values['show-logs'])
        for (const x of nodes)
          console.error(
            `---- ${x.id}\n${x
              .log()
              .split('\n')
              .filter((l) => !l.includes(`"info"`) || l.includes('relay'))
              .join('\n')
              .slice(-6000)}`,
          );
      await Promise.all(nodes.map((x) => x.stop()));
    }
  } finally {
    await killTrackedChildren();
    await nats.stop();
  }
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(
    outFile,
    `${JSON.stringify(
      {
        bench: 'players in real time, 1 node vs 3 clustered nodes on one 2-core box',
        date: new Date().toISOString(),
        loadAverageAtEnd: loadavg(),
        source: DEFAULT_SOURCE,
        seconds,
        results,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`wrote ${outFile}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
