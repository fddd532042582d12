/**
 * One edge hop over NATS, on loopback: two nodes (child processes, `cli/rts.ts serve --nats`), a
 * private nats-server with its monitoring port, our RTMP publisher looping the 720p30 2 Mbps
 * source into A.
 *
 * 1. Added latency of the hop: one HTTP-FLV reader on A and one on B in this process; for every
 *    tag, hop = arrival at B − arrival at A (same clock), plus publish → B.
 * 2. NATS bytes per stream per edge: the server's /connz counters for B's connection (what crossed
 *    to the edge, payload bytes) over a window, against the FLV tag bytes the publisher sent, with
 *    1 and then 50 players on B. The per-message protocol line (MSG …) is estimated from out_msgs.
 *
 * usage: node --import tsx benchmarks/cluster/edge-hop.ts [--seconds 15] [--out FILE]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type NodeProcess, spawnNode } from '../../tests/cluster/support/cluster-nodes.js';
import { startNatsServer } from '../../tests/cluster/support/nats-server.js';
import { killTrackedChildren } from '../../tests/support/children.js';
import { HttpFlvReader } from '../load/flv-reader.js';
import { DEFAULT_SOURCE, ensureSourceFile, loadSource } from '../load/media-source.js';
import { LoopPublisher } from '../load/publisher.js';
import { tagKey } from '../load/tag-key.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '15' }, out: { type: 'string' } },
});
const seconds = Number(values.seconds);
const here = dirname(fileURLToPath(import.meta.url));
const outFile = values.out ?? join(here, '..', 'results', 'cluster-edge-hop.json');
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 1000) / 1000;
}

interface Conn {
  name?: string;
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
}

async function connz(monitor: string): Promise<Map<string, Conn>> {
  const res = await fetch(`${monitor}/connz?limit=1000`, { signal: AbortSignal.timeout(5000) });
  const j = (await res.json()) as { connections: Conn[] };
  return new Map(j.connections.map((c) => [c.name ?? '?', c]));
}

async function main(): Promise<void> {
  const nats = await startNatsServer({ monitor: true });
  const monitor = nats.monitorUrl!;
  const nodes: NodeProcess[] = [];
  const readers: HttpFlvReader[] = [];
  let pub: LoopPublisher | undefined;
  try {
    const source = loadSource(await ensureSourceFile(DEFAULT_SOURCE), DEFAULT_SOURCE);
    const [A, B] = await Promise.all(['A', 'B'].map((id) => spawnNode({ natsUrl: nats.url, id })));
    nodes.push(A!, B!);
    const sent = new Map<number, number>();
    pub = new LoopPublisher({ url: `${A!.rtmp}/live/bench`, source, onSent: (k, t) => sent.set(k, t) });
    await pub.start();
    await sleep(1500);

    const atA = new Map<number, number>();
    const hop: number[] = [];
    const toB: number[] = [];
    const toA: number[] = [];
    let measuring = false;
    const open = (url: string, onTag: (key: number) => void): Promise<HttpFlvReader> =>
      HttpFlvReader.open(
        url,
        (type, ts) => onTag(tagKey(type, ts)),
        10_000,
        () => {},
      ).then((r) => {
        readers.push(r);
        return r;
      });
    await open(`${A!.http}/live/bench.flv`, (key) => {
      const t = now();
      atA.set(key, t);
      const s = sent.get(key);
      if (measuring && s !== undefined) toA.push(t - s);
    });
    await open(`${B!.http}/live/bench.flv`, (key) => {
      const t = now();
      const a = atA.get(key);
      const s = sent.get(key);
      if (!measuring) return;
      if (a !== undefined) hop.push(t - a);
      if (s !== undefined) toB.push(t - s);
    });
    await sleep(3000);

    const windowOf = async (label: string, players: number) => {
      const c0 = await connz(monitor);
      const p0 = pub!.stats.bytesSent;
      const t0 = now();
      measuring = true;
      hop.length = 0;
      toB.length = 0;
      toA.length = 0;
      await sleep(seconds * 1000);
      measuring = false;
      const c1 = await connz(monitor);
      const streamBytes = pub!.stats.bytesSent - p0;
      const secs = (now() - t0) / 1000;
      const b0 = c0.get('rts-B')!;
      const b1 = c1.get('rts-B')!;
      const a0 = c0.get('rts-A')!;
      const a1 = c1.get('rts-A')!;
      const toEdge = b1.out_bytes - b0.out_bytes;
      const toEdgeMsgs = b1.out_msgs - b0.out_msgs;
      const fromOrigin = a1.in_bytes - a0.in_bytes;
      // "MSG <subject> <sid> <size>\r\n" + "\r\n" per message; the media subject is the longest used.
      const protoPerMsg = 'MSG rts.default.media._2Flive2Fbench 99 99999\r\n\r\n'.length;
      const r = {
        label,
        playersOnEdge: players,
        seconds: Math.round(secs * 10) / 10,
        streamKbps: Math.round((streamBytes * 8) / secs / 1000),
        edgeHopMs: {
          p50: pct(hop, 50),
          p90: pct(hop, 90),
          p99: pct(hop, 99),
          max: pct(hop, 100),
          samples: hop.length,
        },
        publishToOriginPlayerMs: { p50: pct(toA, 50), p99: pct(toA, 99) },
        publishToEdgePlayerMs: { p50: pct(toB, 50), p99: pct(toB, 99) },
        natsToEdge: {
          payloadBytes: toEdge,
          msgs: toEdgeMsgs,
          ratioToStream: Math.round((toEdge / streamBytes) * 10000) / 10000,
          withProtocolLinesRatio:
            Math.round(((toEdge + toEdgeMsgs * protoPerMsg) / streamBytes) * 10000) / 10000,
        },
        natsFromOrigin: {
          payloadBytes: fromOrigin,
          ratioToStream: Math.round((fromOrigin / streamBytes) * 10000) / 10000,
        },
      };
      console.log(JSON.stringify(r));
      return r;
    };

    const one = await windowOf('1 player on the edge', 1);
    // 49 more players on B that only count bytes.
    const extraBytes: number[] = [];
    for (let i = 0; i < 49; i++) {
      const idx = i;
      extraBytes.push(0);
      await open(`${B!.http}/live/bench.flv`, () => {}).then((r) => {
        const scan = r.scanner as unknown as { push(b: Buffer): void };
        const orig = scan.push.bind(scan);
        scan.push = (b: Buffer) => {
          extraBytes[idx]! += b.length;
          orig(b);
        };
      });
    }
    await sleep(2000);
    const e0 = extraBytes.reduce((a, b) => a + b, 0);
    const fifty = await windowOf('50 players on the edge', 50);
    const e1 = extraBytes.reduce((a, b) => a + b, 0);
    const perPlayerKbps = Math.round(((e1 - e0) * 8) / 49 / fifty.seconds / 1000);
    const result = {
      bench: 'cluster edge hop over NATS (loopback, 2 cores, nodes as child processes, 1 worker each)',
      date: new Date().toISOString(),
      loadAverageAtEnd: loadavg(),
      note: 'shared 2-core machine: other jobs ran at the same time; compare loadAverageAtEnd',
      source: DEFAULT_SOURCE,
      windows: [one, { ...fifty, edgePlayerKbpsMean: perPlayerKbps }],
      publisher: pub.stats,
    };
    mkdirSync(dirname(outFile), { recursive: true });
    // Keep earlier runs: on a shared machine one run is not a figure.
    let earlier: unknown[] = [];
    try {
      const prev = JSON.parse(readFileSync(outFile, 'utf8')) as { runs?: unknown[] };
      earlier = Array.isArray(prev.runs) ? prev.runs : [prev];
    } catch {
      earlier = [];
    }
    writeFileSync(outFile, `${JSON.stringify({ runs: [...earlier, result].slice(-10) }, null, 2)}\n`);
    console.log(`wrote ${outFile}`);
  } finally {
    for (const r of readers) r.close();
    await pub?.stop();
    await Promise.all(nodes.map((n) => n.stop()));
    await killTrackedChildren();
    await nats.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
