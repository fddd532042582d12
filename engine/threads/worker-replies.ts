import { TimeoutError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import {
  decodeWire,
  encodeWire,
  type FromWorker,
  type HttpLikeResponse,
  type ToWorker,
  type Wire,
} from './worker-messages.js';

/** What an ask or an HTTP request to a worker resolves with. */
export interface WorkerAnswer {
  value?: unknown;
  res?: HttpLikeResponse;
  body?: Uint8Array;
}

interface Pending {
  resolve: (v: WorkerAnswer) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Restart delay after a worker's `restarts`-th unexpected exit: 100 ms doubling, at most 5 s. */
export function restartDelayMs(restarts: number): number {
  return Math.min(5000, 100 * 2 ** Math.min(restarts, 6));
}

/**
 * The node's side of the worker protocol (worker-messages.ts), shared by the stream worker threads
 * and the RTC processes: requests numbered and timed out, replies matched to them, and a worker's
 * logs and events passed on. `send` is the transport (a MessagePort or an IPC channel).
 */
export class WorkerReplies {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(
    private readonly logger: Logger,
    private readonly onEvent?: (key: string, name: string, data?: Record<string, unknown>) => void,
  ) {}

  /**
   * Sends the message `build(id)` with `send` and resolves with the worker's answer; rejects with a
   * TimeoutError naming `who` after `timeoutMs`.
   */
  request<T>(
    who: string,
    send: (w: Wire) => void,
    build: (id: number) => ToWorker,
    timeoutMs: number,
    body?: Uint8Array,
  ): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new TimeoutError(`${who} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as Pending['resolve'], reject, timer });
      send(encodeWire(build(id), body ? { body } : undefined));
    });
  }

  /** A message from a worker: a reply, an HTTP answer, a log line or an event. */
  onMessage(w: Wire, errorText: string): void {
    const msg = decodeWire<FromWorker>(w);
    switch (msg.t) {
      case 'log': {
        this.logger[msg.level](`${msg.ns}: ${msg.msg}`, msg.fields);
        return;
      }
      case 'reply': {
        const p = this.take(msg.id);
        if (!p) return;
        if (msg.ok) p.resolve({ value: msg.value });
        else p.reject(new Error(msg.error ?? errorText));
        return;
      }
      case 'http': {
        this.take(msg.id)?.resolve({ res: msg.res, body: w.body });
        return;
      }
      case 'event': {
        this.onEvent?.(msg.key, msg.name, msg.data);
        return;
      }
      default:
        return;
    }
  }

  /** Rejects every request still waiting (the node is closing). */
  rejectAll(reason: string): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(reason));
    }
    this.pending.clear();
  }

  private take(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (p) {
      this.pending.delete(id);
      clearTimeout(p.timer);
    }
    return p;
  }
}
