/**
 * Servers under test, each started as its own child process on loopback ports (pinned with
 * taskset when asked): our node (`rts serve`), Node-Media-Server 4.4, and nginx-rtmp when the
 * Debian module is installed.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeMediaServerSetup } from './nms-setup.js';
import { pinnedCommand } from './player-pool.js';

export interface ServerHandle {
  /** Label in tables: `rts-w1`, `nms`, `nginx-rtmp`. */
  name: string;
  pid: number;
  /** rtmp://127.0.0.1:port/app/stream (publish and RTMP play). */
  rtmpUrl(app: string, stream: string): string;
  /** HTTP-FLV play URL, or undefined when the server has no HTTP-FLV. */
  flvUrl(app: string, stream: string): string | undefined;
  output(): string;
  stop(): Promise<void>;
  /** Our node's ports (the other servers' are fixed by their configs). */
  rtmpPort?: number;
  httpPort?: number;
}

/** The project's root: two levels up from here, or three when running from dist/. */
export const PROJECT_ROOT = projectRoot();

function projectRoot(): string {
  const up2 = fileURLToPath(new URL('../../', import.meta.url));
  return existsSync(join(up2, 'package.json')) ? up2 : fileURLToPath(new URL('../../../', import.meta.url));
}

/** A free loopback TCP port (closed again before returning). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const t = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 500);
    s.once('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
}

async function waitListening(
  proc: ChildProcess,
  ports: number[],
  timeoutMs: number,
  what: string,
  out: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 1000 && Date.now() < deadline; i++) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`${what} exited (${proc.exitCode ?? proc.signalCode}): ${out()}`);
    let all = true;
    for (const p of ports) if (!(await tcpOpen(p))) all = false;
    if (all) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} not listening on ${ports.join(', ')} after ${timeoutMs} ms: ${out()}`);
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export async function killProcess(proc: ChildProcess, graceMs = 3000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(t);
}

const live = new Set<ChildProcess>();
/** Last resort on exit/signal: SIGKILL every server still running. */
export function killServersNow(): void {
  for (const p of live) if (p.exitCode === null) p.kill('SIGKILL');
}

function launch(cmd: string, args: string[], cwd: string): { proc: ChildProcess; output: () => string } {
  const proc = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  let out = '';
  const keep = (b: Buffer): void => {
    out = (out + b.toString('utf8')).slice(-8000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  return { proc, output: () => out };
}

/**
 * How to run our node. `dist/cli/rts.js` when the project is built; otherwise the sources are
 * compiled once per run with tsc into a temporary directory (with a node_modules link), so the
 * server is measured without tsx's loader in its heap; `tsx` forces running from source.
 */
export async function ourNodeEntry(mode: 'auto' | 'tsx', log: (s: string) => void): Promise<string[]> {
  const dist = join(PROJECT_ROOT, 'dist', 'cli', 'rts.js');
  if (mode === 'auto' && existsSync(dist)) return [dist];
  const tsxEntry = ['--import', 'tsx', join(PROJECT_ROOT, 'cli', 'rts.ts')];
  if (mode === 'tsx') return tsxEntry;
  const out = join(tmpdir(), `rts-bench-dist-${process.pid}`);
  rmSync(out, { recursive: true, force: true });
  const tsc = join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = [
    tsc,
    '-p',
    join(PROJECT_ROOT, 'tsconfig.build.json'),
    '--outDir',
    out,
    '--incremental',
    'false',
    '--tsBuildInfoFile',
    'null',
    '--sourceMap',
    'false',
    '--declaration',
    'false',
  ];
  const proc = spawn(process.execPath, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout?.resume();
  proc.stderr?.resume();
  const timer = setTimeout(() => proc.kill('SIGKILL'), 120_000);
  await new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  clearTimeout(timer);
  const entry = join(out, 'cli', 'rts.js');
  if (!existsSync(entry)) {
    log('could not compile the node with tsc: running it through tsx');
    return tsxEntry;
  }
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(out, 'node_modules'), 'dir');
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  builtDirs.add(out);
  log(`compiled the node into ${out}`);
  return [entry];
}

const builtDirs = new Set<string>();
/** Removes the temporary builds made by ourNodeEntry. */
export function removeBuilds(): void {
  for (const d of builtDirs) rmSync(d, { recursive: true, force: true });
  builtDirs.clear();
}

export interface OurNodeOptions {
  /** From ourNodeEntry(). */
  entry: string[];
  workers: number;
  /** Extra config (JSON object) passed with --config, e.g. { players: { mergeWriteMs: 20 } }. */
  config?: Record<string, unknown>;
  cpus?: string;
  name?: string;
  /** Node options before the entry (default from RTS_BENCH_SERVER_NODE_ARGS, e.g. --cpu-prof). */
  nodeArgs?: string[];
}

/**
 * `dist/cli/rts.js`, built with `npm run build` first when missing: for benchmarks that need the
 * built player SDK as well (browser runs), unlike ourNodeEntry's temporary compile of the node.
 */
export function builtNodeEntry(): string[] {
  const dist = join(PROJECT_ROOT, 'dist', 'cli', 'rts.js');
  if (!existsSync(dist)) spawnSync('npm', ['run', 'build'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  return [dist];
}

/** Our node: `node dist/cli/rts.js serve` when built, else `node --import tsx cli/rts.ts serve`. */
export async function startOurNode(o: OurNodeOptions): Promise<ServerHandle> {
  const [rtmpPort, httpPort, rtcPort] = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'rts-bench-node-'));
  // e.g. RTS_BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the node.
  const nodeArgs = o.nodeArgs ?? (process.env.RTS_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const args = [
    ...nodeArgs,
    ...o.entry,
    'serve',
    '--host',
    '127.0.0.1',
    '--rtmp-port',
    String(rtmpPort),
    '--http-port',
    String(httpPort),
    '--rtc-port',
    String(rtcPort),
    '--workers',
    String(o.workers),
    '--log-level',
    'warn',
  ];
  if (o.config !== undefined) {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify(o.config));
    args.push('--config', file);
  }
  const { cmd, args: full } = pinnedCommand(o.cpus, args);
  const { proc, output } = launch(cmd, full, PROJECT_ROOT);
  const stop = async (): Promise<void> => {
    await killProcess(proc);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitListening(proc, [rtmpPort, httpPort], 30_000, 'rts serve', output);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    name: o.name ?? `rts-w${o.workers}`,
    pid: proc.pid ?? 0,
    rtmpUrl: (app, stream) => `rtmp://127.0.0.1:${rtmpPort}/${app}/${stream}`,
    flvUrl: (app, stream) => `http://127.0.0.1:${httpPort}/${app}/${stream}.flv`,
    output,
    stop,
    rtmpPort,
    httpPort,
  };
}

/** Node-Media-Server 4.4 from node_modules, with a config copy in a temporary directory (it rewrites its config). */
export async function startNodeMediaServer(cpus?: string): Promise<ServerHandle> {
  const { dir, args, rtmpPort, httpPort } = await nodeMediaServerSetup('rts-bench-nms-');
  const { cmd, args: full } = pinnedCommand(cpus, args);
  const { proc, output } = launch(cmd, full, dir);
  const stop = async (): Promise<void> => {
    await killProcess(proc);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitListening(proc, [rtmpPort, httpPort], 20_000, 'node-media-server', output);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    name: 'nms',
    pid: proc.pid ?? 0,
    rtmpUrl: (app, stream) => `rtmp://127.0.0.1:${rtmpPort}/${app}/${stream}`,
    flvUrl: (app, stream) => `http://127.0.0.1:${httpPort}/${app}/${stream}.flv`,
    output,
    stop,
  };
}

const NGINX_RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

function findNginx(): string | undefined {
  for (const p of ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx']) if (existsSync(p)) return p;
  return undefined;
}

export function nginxRtmpAvailable(): boolean {
  return findNginx() !== undefined && existsSync(NGINX_RTMP_MODULE);
}

/** nginx with the rtmp module, one process (no master), RTMP only; config under a temp dir. */
export async function startNginxRtmp(cpus?: string): Promise<ServerHandle> {
  const nginx = findNginx();
  if (nginx === undefined || !existsSync(NGINX_RTMP_MODULE))
    throw new Error('nginx-rtmp is not installed (apt-get install libnginx-mod-rtmp nginx-light)');
  const dir = mkdtempSync(join(tmpdir(), 'rts-bench-nginx-'));
  const rtmpPort = await freePort();
  const conf = `load_module ${NGINX_RTMP_MODULE};
daemon off;
master_process off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 8192; }
rtmp {
  server {
    listen 127.0.0.1:${rtmpPort};
    chunk_size 4096;
    application live {
      live on;
      record off;
      wait_key on;
    }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const { cmd, args } =
    cpus === undefined ? { cmd: nginx, args: [] as string[] } : { cmd: 'taskset', args: ['-c', cpus, nginx] };
  const { proc, output } = launch(cmd, [...args, '-p', dir, '-c', join(dir, 'nginx.conf')], dir);
  const out = (): string => {
    try {
      return `${output()}${readFileSync(join(dir, 'error.log'), 'utf8').slice(-4000)}`;
    } catch {
      return output();
    }
  };
  const stop = async (): Promise<void> => {
    await killProcess(proc);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitListening(proc, [rtmpPort], 10_000, 'nginx-rtmp', out);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    name: 'nginx-rtmp',
    pid: proc.pid ?? 0,
    rtmpUrl: (app, stream) => `rtmp://127.0.0.1:${rtmpPort}/${app}/${stream}`,
    flvUrl: () => undefined,
    output: out,
    stop,
  };
}
