/**
 * Node-Media-Server 4.4 as a peer server for interop tests (RTMP ingest, HTTP-FLV playback at
 * `http://127.0.0.1:{httpPort}/{app}/{stream}.flv`). Runs from a temporary directory with its
 * own config copy: NMS rewrites its config file on first start, and must never touch the one in
 * node_modules.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { exited, killChild, track } from './children.js';
import { freePort } from './ports.js';
import { waitFor } from './wait-for.js';

export interface NodeMediaServer {
  rtmpPort: number;
  httpPort: number;
  rtmpUrl(app: string, stream: string): string;
  flvUrl(app: string, stream: string): string;
  /** Last output lines, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.setTimeout(500, () => {
      s.destroy();
      resolve(false);
    });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startNodeMediaServer(opts: { timeoutMs?: number } = {}): Promise<NodeMediaServer> {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('node-media-server/package.json'));
  const dir = mkdtempSync(join(tmpdir(), 'rts-nms-'));
  const config = JSON.parse(readFileSync(join(pkgDir, 'bin', 'config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  config.webadmin = { enable: false };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 4));
  copyFileSync(join(pkgDir, 'bin', 'key.pem'), join(dir, 'key.pem'));
  copyFileSync(join(pkgDir, 'bin', 'cert.pem'), join(dir, 'cert.pem'));
  mkdirSync(join(dir, 'data'));
  const [rtmpPort, httpPort, rtmpsPort, httpsPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const args = [
    join(pkgDir, 'bin', 'app.js'),
    '-c',
    join(dir, 'config.json'),
    '--bind',
    '127.0.0.1',
    '--rtmp-port',
    String(rtmpPort),
    '--http-port',
    String(httpPort),
    '--rtmps-port',
    String(rtmpsPort),
    '--https-port',
    String(httpsPort),
    '--data-path',
    join(dir, 'data'),
    '--record-path',
    join(dir, 'record'),
    '--no-admin',
  ];
  const proc = track(spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  const keep = (b: Buffer): void => {
    out = (out + b.toString('utf8')).slice(-8000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const gone = exited(proc);
  const stop = async (): Promise<void> => {
    await killChild(proc);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`node-media-server exited ${proc.exitCode}: ${out}`);
        return (await tcpOpen(rtmpPort)) && (await tcpOpen(httpPort));
      },
      { timeoutMs: opts.timeoutMs ?? 15_000, what: `node-media-server listening on ${rtmpPort}/${httpPort}` },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  void gone;
  return {
    rtmpPort,
    httpPort,
    rtmpUrl: (app, stream) => `rtmp://127.0.0.1:${rtmpPort}/${app}/${stream}`,
    flvUrl: (app, stream) => `http://127.0.0.1:${httpPort}/${app}/${stream}.flv`,
    output: () => out,
    stop,
  };
}
