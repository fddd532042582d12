/**
 * Node-Media-Server 4.4 as a peer server for interop tests (RTMP ingest, HTTP-FLV playback at
 * `http://127.0.0.1:{httpPort}/{app}/{stream}.flv`). Runs from a temporary directory with its
 * own config copy: NMS rewrites its config file on first start, and must never touch the one in
 * node_modules.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { nodeMediaServerSetup } from '../../benchmarks/load/nms-setup.js';
import { exited, killChild, track } from './children.js';
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
  const { dir, args, rtmpPort, httpPort } = await nodeMediaServerSetup('rts-nms-');
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
