/**
 * WhepService in a worker thread (the only thread of the process that loads node-datachannel),
 * the HTTP listener on the main thread forwarding over a MessagePort, viewers in a child process.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { forwardWhepToPort } from '../../../transports/webrtc/rtc-worker-host.js';
import { killChild, track } from '../../support/children.js';
import { freePort, freeUdpPorts } from '../../support/ports.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('WhepService in a worker thread', () => {
  it('serves WHEP viewers from a worker with the HTTP listener on the main thread', async () => {
    const [udpPort] = await freeUdpPorts(1);
    const { port1, port2 } = new MessageChannel();
    const entry = fileURLToPath(new URL('./support/whep-worker-entry.ts', import.meta.url));
    const worker = new Worker(
      `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(`file://${entry}`)}); })`,
      { eval: true, workerData: { udpPort, port: port2 }, transferList: [port2] },
    );
    cleanups.push(() => worker.terminate().then(() => undefined));
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    const forward = forwardWhepToPort(port1);
    cleanups.push(() => forward.close());
    const http = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void forward
          .handle({
            method: req.method ?? 'GET',
            path: (req.url ?? '/').replace(/^\/whep/, ''),
            query: {},
            headers: req.headers as Record<string, string>,
            body: Buffer.concat(chunks),
          })
          .then((r) => res.writeHead(r.status, r.headers).end(r.body));
      });
    });
    const httpPort = await freePort();
    await new Promise<void>((r) => http.listen(httpPort, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => http.close(() => r())));

    const client = fileURLToPath(new URL('../../../benchmarks/webrtc/whep-load-client.ts', import.meta.url));
    const args = JSON.stringify({
      url: `http://127.0.0.1:${httpPort}/whep/live/cam`,
      viewers: 3,
      seconds: 3,
      rampPerSec: 10,
    });
    const child = track(
      spawn(process.execPath, ['--import', 'tsx', client, args], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    cleanups.push(() => killChild(child));
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    await new Promise((r) => child.once('exit', r));
    const summary = JSON.parse(out.trim().split('\n').pop() ?? '{}');
    expect(summary.playing).toBe(3);
    expect(summary.videoPackets).toBeGreaterThan(3 * 150);
    expect(summary.audioPackets).toBeGreaterThan(3 * 100);

    worker.postMessage('stop');
    await new Promise<void>((r) => worker.once('message', () => r()));
  }, 60_000);
});
