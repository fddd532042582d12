/**
 * Shared runner for the micro benchmarks: tinybench for ops/s, plus bytes allocated per op from
 * heap deltas (JS heap + ArrayBuffers) measured in short batches between GCs, median of batches.
 *
 *   node --import tsx benchmarks/micro/chunk-reader.bench.ts [--json]
 *
 * GC is reached through v8.setFlagsFromString('--expose-gc') when node was not started with it.
 */
import { cpus } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Bench } from 'tinybench';

export interface MicroCase {
  name: string;
  fn: () => void;
  /** Units of work per call (e.g. messages parsed), for a per-unit rate. */
  unitsPerOp?: number;
  unit?: string;
  /** Payload bytes handled per call, for MB/s. */
  bytesPerOp?: number;
}

export interface MicroRow {
  suite: string;
  task: string;
  opsPerSec: number;
  latencyMedianUs: number;
  rmePct: number;
  unitsPerSec?: number;
  unit?: string;
  mbPerSec?: number;
  bytesAllocPerOp: number | null;
}

export interface MicroReport {
  suite: string;
  machine: { cpu: string; cores: number; node: string };
  date: string;
  command: string;
  rows: MicroRow[];
}

function getGc(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

const gc = getGc();

const used = (): number => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/** Median of (heap + ArrayBuffer growth) over batches of `calls` calls of `fn`, GC before each batch. */
function medianBatchGrowth(fn: () => void, calls: number, batches: number): number | null {
  const per: number[] = [];
  for (let b = 0; b < batches; b++) {
    gc?.();
    const before = used();
    for (let i = 0; i < calls; i++) fn();
    const delta = used() - before;
    // A batch during which a scavenge ran shows a drop: discard it.
    if (delta >= 0) per.push(delta);
  }
  if (per.length === 0) return null;
  per.sort((a, b) => a - b);
  return per[per.length >> 1];
}

const noop = (): void => undefined;

/**
 * Bytes allocated per call, from heap deltas: the batch size is chosen so that a batch allocates
 * about 256 kB (no scavenge inside it), and the growth of an empty batch of the same size (the
 * measuring itself) is subtracted. Median over batches; null when every batch saw a GC.
 */
export function bytesAllocatedPerOp(fn: () => void, batches = 21): number | null {
  for (let i = 0; i < 20; i++) fn();
  const probe = medianBatchGrowth(fn, 10, 5);
  const est = probe === null ? 100_000 : Math.max(1, probe / 10);
  const calls = Math.max(10, Math.min(10_000, Math.floor((256 * 1024) / est)));
  const growth = medianBatchGrowth(fn, calls, batches);
  const base = medianBatchGrowth(noop, calls, batches) ?? 0;
  if (growth === null) return null;
  return Math.max(0, Math.round((growth - base) / calls));
}

export async function runSuite(
  suite: string,
  cases: MicroCase[],
  opts: { time?: number; warmupTime?: number } = {},
): Promise<MicroReport> {
  const bench = new Bench({ time: opts.time ?? 600, warmupTime: opts.warmupTime ?? 150 });
  for (const c of cases) bench.add(c.name, c.fn);
  await bench.run();
  const rows: MicroRow[] = bench.tasks.map((t, i) => {
    const c = cases[i];
    const r = t.result;
    if (r.state !== 'completed') {
      return { suite, task: t.name, opsPerSec: 0, latencyMedianUs: 0, rmePct: 0, bytesAllocPerOp: null };
    }
    const ops = r.throughput.p50 ?? r.throughput.mean;
    const row: MicroRow = {
      suite,
      task: t.name,
      opsPerSec: Math.round(ops),
      latencyMedianUs: Number(((r.latency.p50 ?? r.latency.mean) * 1000).toFixed(3)),
      rmePct: Number(r.latency.rme.toFixed(2)),
      bytesAllocPerOp: bytesAllocatedPerOp(c.fn),
    };
    if (c.unitsPerOp !== undefined) {
      row.unitsPerSec = Math.round(ops * c.unitsPerOp);
      row.unit = c.unit;
    }
    if (c.bytesPerOp !== undefined) row.mbPerSec = Number(((ops * c.bytesPerOp) / 1e6).toFixed(1));
    return row;
  });
  const report: MicroReport = {
    suite,
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
    date: new Date().toISOString(),
    command: process.argv.join(' '),
    rows,
  };
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(report));
  } else {
    console.log(`\n${suite}${gc ? '' : ' (no GC access: bytes/op are rough)'}`);
    console.table(
      rows.map((r) => ({
        task: r.task,
        'ops/s': r.opsPerSec,
        'median µs': r.latencyMedianUs,
        'rme %': r.rmePct,
        ...(r.unitsPerSec !== undefined ? { [`${r.unit}/s`]: r.unitsPerSec } : {}),
        ...(r.mbPerSec !== undefined ? { 'MB/s': r.mbPerSec } : {}),
        'B alloc/op': r.bytesAllocPerOp,
      })),
    );
  }
  return report;
}

/** A synthetic AVC (legacy FLV) video body: [frameType|7][1][cts 0][4-byte NALU length][NALU]. */
export function avcBody(size: number, key: boolean): Uint8Array {
  const b = new Uint8Array(size);
  b[0] = key ? 0x17 : 0x27;
  b[1] = 1;
  const nalLen = size - 9;
  b[5] = (nalLen >>> 24) & 0xff;
  b[6] = (nalLen >>> 16) & 0xff;
  b[7] = (nalLen >>> 8) & 0xff;
  b[8] = nalLen & 0xff;
  b[9] = key ? 0x65 : 0x41;
  for (let i = 10; i < size; i++) b[i] = (i * 31) & 0xff;
  return b;
}

/** A synthetic AAC raw frame body: [0xaf][1][data]. */
export function aacBody(size: number): Uint8Array {
  const b = new Uint8Array(size);
  b[0] = 0xaf;
  b[1] = 1;
  for (let i = 2; i < size; i++) b[i] = (i * 7) & 0xff;
  return b;
}

/** Average frame sizes of the load test's stream: 2 Mbps 720p30 H.264 + 128 kbps AAC. */
export const AVG_VIDEO_BYTES = Math.round(2_000_000 / 8 / 30);
export const AVG_AUDIO_BYTES = Math.round(128_000 / 8 / (44_100 / 1024));
