/**
 * Cluster nodes as child processes (`node --import tsx cli/rts.ts serve --nats …`), each on free
 * loopback ports read back from its "listening" line. Every child is tracked (children.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exited, killChild, track } from '../../support/children.js';
import { freeUdpPorts } from '../../support/ports.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface NodeProcess {
  readonly id: string;
  readonly proc: ChildProcess;
  readonly rtmpPort: number;
  readonly httpPort: number;
  readonly rtmp: string;
  readonly http: string;
  /** Last stderr lines (the node's log). */
  log(): string;
  /** SIGKILL, resolves when gone. */
  kill9(): Promise<void>;
  /** SIGTERM (ordered shutdown), then SIGKILL after a grace period. */
  stop(): Promise<void>;
  /** GET /api/v1/cluster on this node. */
  cluster(): Promise<ClusterView>;
}

export interface ClusterView {
  nodeId: string;
  connected: boolean;
  nodes: { id: string; alive: boolean; players: number; region?: string }[];
  streams: { key: string; origin?: string; players: Record<string, number>; totalPlayers: number }[];
  totalPlayers: number;
  relays: {
    origins: { key: string }[];
    edges: { key: string; origin: string; lost: number; resyncs: number }[];
  };
}

export interface SpawnNodeOptions {
  /** Omit for a standalone node (no cluster). */
  natsUrl?: string;
  id: string;
  region?: string;
  /** Extra fields of the `nats` config (ttlMs, relayIdleMs, cluster…), through a config file. */
  extraArgs?: string[];
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

export async function spawnNode(o: SpawnNodeOptions): Promise<NodeProcess> {
  // WebRTC needs a real UDP port per worker (port 0 is refused); one worker per node here.
  const [rtcPort] = await freeUdpPorts(1);
  const args = [
    '--import',
    'tsx',
    'cli/rts.ts',
    'serve',
    ...(o.natsUrl ? ['--nats', o.natsUrl, '--node-id', o.id] : []),
    '--host',
    '127.0.0.1',
    '--rtmp-port',
    '0',
    '--http-port',
    '0',
    '--rtc-port',
    String(rtcPort),
    '--workers',
    '1',
    '--log-level',
    'info',
    ...(o.region ? ['--region', o.region] : []),
    ...(o.extraArgs ?? []),
  ];
  const proc = track(
    spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...o.env },
    }),
  );
  let log = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (s: string) => {
    log = (log + s).slice(-20_000);
  });
  let out = '';
  proc.stdout?.setEncoding('utf8');
  const ports = await new Promise<{ rtmp: number; http: number }>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(`node ${o.id} did not start within ${o.startTimeoutMs ?? 20_000} ms: ${log.slice(-2000)}`),
      );
    }, o.startTimeoutMs ?? 20_000);
    proc.stdout?.on('data', (s: string) => {
      out += s;
      const m = /listening: rtmp:\/\/[^:]+:(\d+) http:\/\/[^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ rtmp: Number(m[1]), http: Number(m[2]) });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node ${o.id} exited with ${code} before listening: ${log.slice(-2000)}`));
    });
  }).catch(async (err: unknown) => {
    await killChild(proc, 500);
    throw err;
  });
  const http = `http://127.0.0.1:${ports.http}`;
  return {
    id: o.id,
    proc,
    rtmpPort: ports.rtmp,
    httpPort: ports.http,
    rtmp: `rtmp://127.0.0.1:${ports.rtmp}`,
    http,
    log: () => log,
    kill9: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = exited(proc);
      proc.kill('SIGKILL');
      await gone;
    },
    stop: () => killChild(proc, 5000),
    cluster: async () => {
      const res = await fetch(`${http}/api/v1/cluster`, { signal: AbortSignal.timeout(5000) });
      if (res.status !== 200)
        throw new Error(`GET /api/v1/cluster on ${o.id}: ${res.status} ${await res.text()}`);
      return (await res.json()) as ClusterView;
    },
  };
}
