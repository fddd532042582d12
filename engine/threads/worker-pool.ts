import { cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { StreamInfo } from '../../actors/stream/stream-host.js';
import type { Logger } from '../logging/logger.js';
import type { PacketRingBuffers } from '../memory/packet-ring.js';
import { RtcProcesses } from './rtc-processes.js';
import type { StreamWorkerData } from './stream-worker.js';
import {
  decodeWire,
  encodeWire,
  type FromWorker,
  type HttpLikeRequest,
  type HttpLikeResponse,
  type ToWorker,
  type Wire,
} from './worker-messages.js';
import { restartDelayMs, WorkerReplies } from './worker-replies.js';

interface Placed {
  key: string;
  app: string;
  stream: string;
  domain: string;
  gen: number;
  ring: PacketRingBuffers;
}

/**
 * Starts a worker running `./{name}.js` next to this file, or, when the engine runs from its
 * TypeScript sources (tests), the `.ts` file through tsx's loader registered inside the worker.
 */
export function startWorker(name: string, workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL(`./${name}.js`, import.meta.url), { workerData });
  const url = new URL(`./${name}.ts`, import.meta.url).href;
  const boot = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(url)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

class WorkerSlot {
  worker!: Worker;
  ready!: Promise<void>;
  readonly streams = new Map<string, Placed>();
  restarts = 0;
  constructor(
    readonly index: number,
    readonly role: 'streams',
  ) {}
}

/**
 * The stream workers, seen from the main thread: placement of streams on workers (fewest streams
 * first), the message protocol (worker-messages.ts), asks with timeouts, and supervision: a worker
 * that dies is started again and gets its streams back (their rings live on the main thread).
 */
export class StreamWorkerPool {
  private readonly slots: WorkerSlot[] = [];
  private readonly replies: WorkerReplies;
  private closing = false;

  /** The WebRTC egress processes (started on the first RTS viewer). */
  readonly rtc: RtcProcesses;

  private constructor(
    private readonly data: Omit<StreamWorkerData, 'index' | 'role'>,
    readonly logger: Logger,
    onEvent?: (key: string, name: string, data?: Record<string, unknown>) => void,
    rtc?: { processes: number; ringBytes: number },
  ) {
    this.replies = new WorkerReplies(logger, onEvent);
    const n = rtc && rtc.processes > 0 ? rtc.processes : Math.max(1, cpus().length);
    this.rtc = new RtcProcesses(
      n,
      { logLevel: data.logLevel, config: data.config, ringBytes: rtc?.ringBytes ?? 8 * 1024 * 1024 },
      logger,
      onEvent,
    );
  }

  static async start(
    count: number,
    data: Omit<StreamWorkerData, 'index' | 'role'>,
    logger: Logger,
    onEvent?: (key: string, name: string, data?: Record<string, unknown>) => void,
    rtc?: { processes: number; ringBytes: number },
  ): Promise<StreamWorkerPool> {
    const pool = new StreamWorkerPool(data, logger, onEvent, rtc);
    for (let i = 0; i < count; i++) pool.slots.push(new WorkerSlot(i, 'streams'));
    await Promise.all(pool.slots.map((s) => pool.spawn(s)));
    return pool;
  }

  /** Stream workers. */
  get size(): number {
    return this.slots.length;
  }

  /** Thread ids of the workers (for per-thread CPU in /proc/self/task). */
  get threadIds(): number[] {
    return this.slots.map((s) => s.worker.threadId);
  }

  private spawn(slot: WorkerSlot): Promise<void> {
    const worker = startWorker('stream-worker', { ...this.data, index: slot.index, role: slot.role });
    slot.worker = worker;
    slot.ready = readyOf(worker);
    worker.on('message', (w: Wire) => this.replies.onMessage(w, 'worker error'));
    worker.on('error', (err) =>
      this.logger.error('stream worker failed', { worker: slot.index, error: err.message }),
    );
    worker.on('exit', (code) => {
      if (this.closing || slot.worker !== worker) return;
      slot.restarts++;
      this.logger.error('stream worker exited; starting it again', {
        worker: slot.index,
        code,
        restarts: slot.restarts,
      });
      setTimeout(() => {
        if (this.closing) return;
        this.spawn(slot)
          .then(() => {
            for (const p of slot.streams.values())
              this.post(slot, { t: 'attach', ...omitRing(p) }, { ring: p.ring });
          })
          .catch((err) => this.logger.error('stream worker restart failed', { error: String(err) }));
      }, restartDelayMs(slot.restarts)).unref();
    });
    return slot.ready;
  }

  private post(slot: WorkerSlot, msg: ToWorker, extra?: Omit<Wire, 'm'>): void {
    slot.worker.postMessage(encodeWire(msg, extra));
  }

  /** The worker with the fewest streams. */
  place(): number {
    let best = this.slots[0];
    for (const s of this.slots) if (s.role === 'streams' && s.streams.size < best.streams.size) best = s;
    return best.index;
  }

  attach(index: number, p: Placed): void {
    const slot = this.slots[index];
    slot.streams.set(p.key, p);
    this.post(slot, { t: 'attach', ...omitRing(p) }, { ring: p.ring });
  }

  detach(index: number, key: string, gen: number, reason: string): void {
    const slot = this.slots[index];
    const placed = slot.streams.get(key);
    if (placed && placed.gen === gen) slot.streams.delete(key);
    this.post(slot, { t: 'detach', key, gen, reason });
  }

  private request<T>(
    index: number,
    build: (id: number) => ToWorker,
    timeoutMs: number,
    body?: Uint8Array,
  ): Promise<T> {
    const worker = this.slots[index].worker;
    return this.replies.request(
      `stream worker ${index}`,
      (w) => worker.postMessage(w),
      build,
      timeoutMs,
      body,
    );
  }

  async info(index: number, key: string): Promise<StreamInfo> {
    const r = await this.request<{ value: StreamInfo }>(
      index,
      (id) => ({ t: 'ask', id, key, q: 'info' }),
      2000,
    );
    return r.value;
  }

  http(
    index: number,
    kind: 'hls' | 'whep',
    key: string,
    req: HttpLikeRequest,
    body?: Uint8Array,
    timeoutMs = 30_000,
  ): Promise<{ res: HttpLikeResponse; body?: Uint8Array }> {
    return this.request(index, (id) => ({ t: 'http', id, kind, key, req }), timeoutMs, body);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.replies.rejectAll('node shutting down');
    await this.rtc.close();
    await Promise.all(
      this.slots.map(async (s) => {
        const exited = new Promise<void>((resolve) => s.worker.once('exit', () => resolve()));
        this.post(s, { t: 'shutdown' });
        const timer = setTimeout(() => void s.worker.terminate(), 2000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

function readyOf(worker: Worker): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onReady = (w: Wire) => {
      if (decodeWire<FromWorker>(w).t === 'ready') {
        worker.off('message', onReady);
        resolve();
      }
    };
    worker.on('message', onReady);
    worker.once('error', reject);
  });
}

function omitRing(p: Placed): Omit<Placed, 'ring'> {
  const { ring: _ring, ...rest } = p;
  return rest;
}
