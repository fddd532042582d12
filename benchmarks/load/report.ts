/** Text tables and the JSON record of a load run. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { PointResult } from './run-point.js';

const f0 = (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(0));
const f1 = (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(1));
const mb = (b: number | undefined): string =>
  b === undefined || b === 0 ? '-' : (b / 1024 / 1024).toFixed(0);

/** A Markdown table with padded columns. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function resultsTable(results: PointResult[]): string {
  return table(
    [
      'server',
      'proto',
      'players',
      'conn',
      'CPU %',
      'peak %',
      'RSS MB',
      'p50 ms',
      'p99 ms',
      'max ms',
      'real time',
      'gaps',
      'Mbit/s out',
      'client CPU %',
      'client lag p99',
      'other CPU %',
    ],
    results.map((r) => [
      r.server,
      r.protocol,
      String(r.players),
      String(r.connected),
      f0(r.server_proc?.cpuPercent),
      f0(r.server_proc?.cpuPeakPercent),
      mb(r.server_proc?.rssMaxBytes),
      f1(r.latencyMs.p50),
      f1(r.latencyMs.p99),
      f0(r.latencyMs.max),
      `${r.realtime.ok}/${r.connected}`,
      String(r.realtime.gaps),
      f0(r.deliveredMbps),
      f0(r.clients.cpuPercent),
      f1(r.clients.loopDelayP99Ms),
      f0(r.machine.otherPercent),
    ]),
  );
}

/** Ratios of each of our node's variants against each peer at the same protocol and player count. */
export function ratiosTable(results: PointResult[], ours: (name: string) => boolean): string {
  const rows: string[][] = [];
  for (const o of results.filter((r) => ours(r.server))) {
    for (const p of results.filter(
      (r) => !ours(r.server) && r.protocol === o.protocol && r.players === o.players,
    )) {
      const ratio = (a: number | undefined, b: number | undefined): string =>
        a === undefined || b === undefined || !(b > 0) || Number.isNaN(a) ? '-' : (a / b).toFixed(2);
      rows.push([
        `${o.server} / ${p.server}`,
        o.protocol,
        String(o.players),
        ratio(o.server_proc?.cpuPercent, p.server_proc?.cpuPercent),
        ratio(o.server_proc?.rssMaxBytes, p.server_proc?.rssMaxBytes),
        ratio(o.latencyMs.p50, p.latencyMs.p50),
        ratio(o.latencyMs.p99, p.latencyMs.p99),
      ]);
    }
  }
  if (rows.length === 0) return '';
  return table(['ours / peer', 'proto', 'players', 'CPU', 'RSS', 'p50', 'p99'], rows);
}

export interface RunRecord {
  kind: 'rts-bench-load';
  machine: { cpu: string; cores: number; memGiB: number; platform: string };
  node: string;
  date: string;
  command: string;
  options: Record<string, unknown>;
  results: PointResult[];
}

/** The machine a run was made on, for its JSON record. */
export function machineInfo(): RunRecord['machine'] {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    platform: `${process.platform}-${process.arch}`,
  };
}

export function makeRecord(
  command: string,
  options: Record<string, unknown>,
  results: PointResult[],
): RunRecord {
  return {
    kind: 'rts-bench-load',
    machine: machineInfo(),
    node: process.version,
    date: new Date().toISOString(),
    command,
    options,
    results,
  };
}

/** Writes `record` under `dir` as <prefix>-<timestamp>[-tag].json; returns the path. */
export function writeRecord(dir: string, record: { date: string }, tag = '', prefix = 'load'): string {
  mkdirSync(dir, { recursive: true });
  const stamp = record.date.replace(/[:.]/g, '-').replace(/-\d+Z$/, 'Z');
  const path = join(dir, `${prefix}-${stamp}${tag ? `-${tag}` : ''}.json`);
  writeFileSync(path, `${JSON.stringify(record, null, 2)}\n`);
  return path;
}
