import { parentPort, workerData } from 'node:worker_threads';
import { newStreamSystem, StreamActorHost, type WorkerEgress } from '../../actors/stream/stream-host.js';
import { createLogger, type LogLevel } from '../logging/logger.js';
import { PacketRingView } from '../memory/packet-ring.js';
import { loadWorkerEgresses, type WorkerRole } from './worker-egresses.js';
import { decodeWire, encodeWire, type FromWorker, type ToWorker, type Wire } from './worker-messages.js';

/**
 * A stream worker: hosts the stream actors the main thread places on it, and this worker's
 * egresses (HLS muxing, WebRTC over its own UDP port). Logs go to the main thread.
 */
export interface StreamWorkerData {
  index: number;
  role: WorkerRole;
  logLevel: LogLevel;
  /** Serialisable config for the egresses. */
  config: Record<string, unknown>;
}

/** Where a stream worker's messages come from and go to: its thread's parentPort, or an RTC process's IPC (rtc-process.ts). */
export interface WorkerPort {
  postMessage(w: Wire, transfer?: ArrayBuffer[]): void;
  on(event: 'message', listener: (w: Wire) => void): unknown;
  close(): void;
}

export async function runStreamWorker(port: WorkerPort, data: StreamWorkerData): Promise<void> {
  function send(msg: FromWorker, extra?: Omit<Wire, 'm'>, transfer?: ArrayBuffer[]): void {
    port.postMessage(encodeWire(msg, extra), transfer ?? []);
  }

  const logger = createLogger(
    (level, ns, msg, fields) => send({ t: 'log', level, ns, msg, fields }),
    data.logLevel,
    data.role === 'rtc' ? 'rts:rtc-worker' : `rts:worker[${data.index}]`,
  );
  const system = newStreamSystem(logger);
  const streams = new Map<string, StreamActorHost>();
  let egresses: WorkerEgress[] = [];

  /** Egress (re)loading in progress: messages after an 'init' wait for it, in order. */
  let egressesReady: Promise<void> = Promise.resolve();

  async function onMessage(w: Wire): Promise<void> {
    const msg = decodeWire<ToWorker>(w);
    if (msg.t === 'init') {
      // the process-wide RTC worker, adopted by a node: its egress with that node's config
      const previous = egressesReady;
      egressesReady = (async () => {
        await previous;
        for (const e of egresses) e.close();
        egresses = await loadWorkerEgresses(data.role, msg.config, logger);
        for (const host of streams.values()) for (const e of egresses) e.streamAttached(host.key, host.feed);
      })();
      return;
    }
    await egressesReady;
    switch (msg.t) {
      case 'attach': {
        if (!w.ring) return;
        streams.get(msg.key)?.actor.tell({ type: 'end', reason: 'replaced' });
        const host = new StreamActorHost(
          system,
          msg.key,
          { app: msg.app, stream: msg.stream, domain: msg.domain, gen: msg.gen, worker: data.index },
          new PacketRingView(w.ring),
          egresses,
          logger,
        );
        streams.set(msg.key, host);
        return;
      }
      case 'detach': {
        const host = streams.get(msg.key);
        if (host && host.meta.gen === msg.gen) {
          host.actor.tell({ type: 'end', reason: msg.reason });
          streams.delete(msg.key);
        }
        return;
      }
      case 'players': {
        return;
      }
      case 'cleanup': {
        // the process is about to exit: stop node-datachannel's native threads first (it aborts the
        // process if they are still running at exit); the thread itself stays until the process ends
        for (const e of egresses) e.close();
        egresses = [];
        if (data.role === 'rtc') {
          const { shutdownWebrtcRuntime } = await import('../../transports/webrtc/runtime.js');
          await shutdownWebrtcRuntime();
        }
        send({ t: 'reset' });
        return;
      }
      case 'stats': {
        const value: Record<string, unknown> = {};
        for (const e of egresses) {
          const s = e.stats?.();
          if (s) value[e.kind] = s;
        }
        send({ t: 'reply', id: msg.id, ok: true, value });
        return;
      }
      case 'ask': {
        const host = streams.get(msg.key);
        if (!host) {
          send({ t: 'reply', id: msg.id, ok: false, error: 'no such stream' });
          return;
        }
        send({ t: 'reply', id: msg.id, ok: true, value: host.info() });
        return;
      }
      case 'http': {
        const egress = egresses.find((e) => e.kind === msg.kind);
        if (!egress) {
          send({
            t: 'http',
            id: msg.id,
            res: { status: 404, headers: {}, body: `${msg.kind} is not served by this node\n` },
          });
          return;
        }
        try {
          const res = await egress.handle(msg.key, msg.req, w.body);
          if (res.body instanceof Uint8Array) {
            send(
              { t: 'http', id: msg.id, res: { status: res.status, headers: res.headers } },
              { body: res.body },
            );
          } else {
            send({
              t: 'http',
              id: msg.id,
              res: { status: res.status, headers: res.headers, body: res.body },
            });
          }
        } catch (err) {
          logger.warn('egress request failed', { kind: msg.kind, error: String(err) });
          send({ t: 'http', id: msg.id, res: { status: 500, headers: {}, body: 'internal error\n' } });
        }
        return;
      }
      case 'shutdown': {
        for (const host of streams.values()) host.actor.tell({ type: 'end', reason: 'node shutting down' });
        streams.clear();
        for (const e of egresses) e.close();
        egresses = [];
        await system.stopAll();
        if (data.role === 'rtc') {
          // node-datachannel's thread must outlive its node: reset, and wait for the next one
          send({ t: 'reset' });
          return;
        }
        port.close();
        return;
      }
    }
  }

  if (data.role !== 'rtc') egresses = await loadWorkerEgresses(data.role, data.config, logger);
  port.on('message', (w: Wire) => {
    onMessage(w).catch((err) => logger.error('worker message failed', { error: String(err) }));
  });
  send({ t: 'ready', index: data.index });
}

if (parentPort) await runStreamWorker(parentPort, workerData as StreamWorkerData);
