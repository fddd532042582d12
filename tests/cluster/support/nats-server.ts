/**
 * Finds or starts a NATS server with JetStream for tests.
 *
 * `ensureNatsServer()` uses NATS_URL (default nats://127.0.0.1:4222) when it answers, otherwise
 * starts `nats-server` on a free port with a temporary store directory. `startNatsServer()`
 * always starts a private one (fault tests that restart or stop it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface NatsServerHandle {
  readonly url: string;
  /** True when this process started the server (then `restart` and `stop` act on it). */
  readonly owned: boolean;
  /** Stops a server we started (no-op for an external one); idempotent. */
  stop(): Promise<void>;
  /** Stops and starts again on the same port and store directory; only for a server we started. */
  restart(opts?: { downMs?: number }): Promise<void>;
}

const DEFAULT_URL = 'nats://127.0.0.1:4222';
const INSTALL_HINT =
  'install it with `apt-get install nats-server` (Debian/Ubuntu) or from https://github.com/nats-io/nats-server/releases';

export async function ensureNatsServer(): Promise<NatsServerHandle> {
  const url = process.env.NATS_URL ?? DEFAULT_URL;
  if (await isReachable(url)) {
    return { url, owned: false, stop: async () => {}, restart: () => Promise.reject(notOwned()) };
  }
  if (findNatsServerBinary() === undefined) {
    throw new Error(`NATS is not reachable at ${url} and nats-server is not on PATH: ${INSTALL_HINT}`);
  }
  return startNatsServer();
}

/**
 * Starts a private nats-server (`-js`) on a free loopback port; with `monitor`, also its HTTP
 * monitoring endpoint (`-m`, /varz, /connz) on another free port (`monitorUrl`).
 */
export async function startNatsServer(
  opts: { monitor?: boolean } = {},
): Promise<NatsServerHandle & { monitorUrl?: string }> {
  const bin = findNatsServerBinary();
  if (bin === undefined) throw new Error(`nats-server is not on PATH: ${INSTALL_HINT}`);
  const port = await freePort();
  const monitorPort = opts.monitor ? await freePort() : undefined;
  const storeDir = await mkdtemp(join(tmpdir(), 'rts-nats-'));
  const url = `nats://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let stopped = false;

  const launch = async (): Promise<void> => {
    const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir];
    if (monitorPort !== undefined) args.push('-m', String(monitorPort));
    const c = spawn(bin, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    c.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    child = c;
    const deadline = Date.now() + 10_000;
    while (!(await isReachable(url))) {
      if (c.exitCode !== null) throw new Error(`nats-server exited with ${c.exitCode}: ${stderr.trim()}`);
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        throw new Error(`nats-server did not listen on ${url} within 10 s: ${stderr.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const kill = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  await launch();
  return {
    url,
    ...(monitorPort !== undefined ? { monitorUrl: `http://127.0.0.1:${monitorPort}` } : {}),
    owned: true,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await kill();
      await rm(storeDir, { recursive: true, force: true });
    },
    restart: async (opts) => {
      if (stopped) throw new Error('nats-server was stopped');
      await kill();
      if (opts?.downMs !== undefined) await new Promise((r) => setTimeout(r, opts.downMs));
      await launch();
    },
  };
}

export function findNatsServerBinary(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/bin', '/usr/bin'];
  for (const d of dirs) {
    if (d === '') continue;
    const p = join(d, 'nats-server');
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** True when a NATS server answers with its INFO line at `url` within 1 s. */
export function isReachable(url: string): Promise<boolean> {
  const u = new URL(url.includes('://') ? url : `nats://${url}`);
  const port = Number(u.port || 4222);
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('error', () => done(false));
    s.once('data', (d: Buffer) => done(d.toString().startsWith('INFO')));
    s.connect(port, u.hostname);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function notOwned(): Error {
  return new Error('cannot restart a NATS server this process did not start; use startNatsServer()');
}
