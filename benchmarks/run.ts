/**
 * `npm run bench`: every micro-benchmark (benchmarks/micro/*.bench.ts, each in its own process
 * with --expose-gc), then a short load comparison of our node against Node-Media-Server (and
 * nginx-rtmp when installed): RTMP and HTTP-FLV at 100 and 500 players, 15 s each. Under about
 * 10 minutes on 2 cores.
 *
 *   npm run bench                      micro + short load comparison
 *   npm run bench -- --full            load curve at 200 and 1000 players, 20 s, workers 1 and 2
 *   npm run bench -- --micro-only | --load-only
 *   npm run bench -- --filter chunk    only the micro files whose name contains "chunk"
 *
 * Writes benchmarks/results/micro-<date>.json and load-<date>-compare.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runBenchCli } from './load/bench-cli.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const { values } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    'micro-only': { type: 'boolean', default: false },
    'load-only': { type: 'boolean', default: false },
    filter: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
  },
});

const MICRO_TIMEOUT_MS = 180_000;

/** Runs one micro file in its own process; resolves with its --json report (or an error note). */
function runMicroFile(file: string): Promise<unknown> {
  return new Promise((resolve) => {
    const execArgv = file.endsWith('.ts') ? ['--import', 'tsx'] : [];
    const proc = spawn(process.execPath, ['--expose-gc', ...execArgv, join(here, 'micro', file), '--json'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (b: Buffer) => {
      out += b.toString('utf8');
    });
    const timer = setTimeout(() => proc.kill('SIGKILL'), MICRO_TIMEOUT_MS);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      const line = out
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{'));
      if (code !== 0) {
        resolve({ file, error: `exit ${code}`, output: out.slice(-2000) });
        return;
      }
      if (line === undefined) {
        // A bench without --json support: keep what it printed.
        resolve({ file, output: out.slice(-4000) });
        return;
      }
      try {
        resolve({ file, ...(JSON.parse(line) as object) });
      } catch {
        resolve({ file, error: 'no JSON line', output: out.slice(-2000) });
      }
    });
  });
}

function printMicro(report: unknown): void {
  const r = report as {
    file: string;
    error?: string;
    rows?: Record<string, unknown>[];
    results?: Record<string, unknown>[];
  };
  console.log(`\n${r.file}`);
  if (r.error) {
    console.log(`  failed: ${r.error}`);
    return;
  }
  const rows = r.rows ?? r.results;
  if (Array.isArray(rows)) console.table(rows.map(({ suite: _s, ...rest }) => rest));
  else if (typeof (report as { output?: unknown }).output === 'string')
    console.log((report as { output: string }).output);
  else console.log(JSON.stringify(report).slice(0, 2000));
}

async function micro(): Promise<void> {
  const files = readdirSync(join(here, 'micro'))
    .filter((f) => f.endsWith('.bench.ts') || f.endsWith('.bench.js'))
    .filter((f) => !values.filter || f.includes(values.filter))
    .sort();
  const reports: unknown[] = [];
  for (const f of files) {
    const r = await runMicroFile(f);
    printMicro(r);
    reports.push(r);
  }
  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString();
  const path = join(dir, `micro-${date.replace(/[:.]/g, '-').replace(/-\d+Z$/, 'Z')}.json`);
  const c = cpus();
  writeFileSync(
    path,
    `${JSON.stringify({ kind: 'rts-bench-micro', machine: { cpu: c[0]?.model, cores: c.length, memGiB: Math.round(totalmem() / 2 ** 30) }, node: process.version, date, command: process.argv.join(' '), reports }, null, 2)}\n`,
  );
  console.log(`\nwritten ${path}`);
}

async function load(): Promise<void> {
  const args = values.full
    ? ['--compare', '--protocol', 'rtmp,flv', '--players', '200,1000', '--seconds', '20', '--workers', '1,2']
    : [
        '--compare',
        '--protocol',
        'rtmp,flv',
        '--players',
        '100,500',
        '--seconds',
        '15',
        '--workers',
        '1',
        '--warmup',
        '2',
      ];
  if (values['no-pin']) args.push('--no-pin');
  await runBenchCli(args);
}

const t0 = Date.now();
if (!values['load-only']) await micro();
if (!values['micro-only']) await load();
console.log(`\nbench done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
