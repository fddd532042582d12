import type { MessagePort } from 'node:worker_threads';
import type { WhepRequest, WhepResponse } from './types.js';
import type { WhepService } from './whep-service.js';

/**
 * WHEP requests carried between the thread that owns the HTTP listener (main) and the thread
 * that runs the WhepService. node-datachannel can be loaded in ONE thread per process only (see
 * docs/decisions/webrtc-stack.md), so that thread is either the main thread or one dedicated
 * worker; bodies are copied (SDP is a few KB, once per viewer).
 */
export type WhepPortMessage =
  | { type: 'whep-request'; id: number; req: WhepRequest }
  | { type: 'whep-response'; id: number; res: WhepResponse };

/** In the service's thread: answers requests arriving on `port`. Returns a stop function. */
export function serveWhepOnPort(service: WhepService, port: MessagePort): () => void {
  const onMessage = (msg: WhepPortMessage): void => {
    if (msg.type !== 'whep-request') return;
    void service
      .handle(msg.req)
      .then((res) => port.postMessage({ type: 'whep-response', id: msg.id, res } satisfies WhepPortMessage));
  };
  port.on('message', onMessage);
  return () => port.off('message', onMessage);
}

/** In the HTTP thread: a `handle()` that forwards to the service's thread, with a timeout. */
export function forwardWhepToPort(
  port: MessagePort,
  timeoutMs = 10_000,
): {
  handle(req: WhepRequest): Promise<WhepResponse>;
  close(): void;
} {
  let next = 1;
  const pending = new Map<number, { resolve: (r: WhepResponse) => void; timer: NodeJS.Timeout }>();
  const onMessage = (msg: WhepPortMessage): void => {
    if (msg.type !== 'whep-response') return;
    const p = pending.get(msg.id);
    if (!p) return; // timed out already
    pending.delete(msg.id);
    clearTimeout(p.timer);
    p.resolve(msg.res);
  };
  port.on('message', onMessage);
  return {
    handle(req) {
      const id = next++;
      return new Promise<WhepResponse>((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          resolve({
            status: 504,
            headers: { 'content-type': 'text/plain' },
            body: 'WebRTC worker did not answer\n',
          });
        }, timeoutMs);
        pending.set(id, { resolve, timer });
        port.postMessage({
          type: 'whep-request',
          id,
          req: { ...req, body: Uint8Array.from(req.body) },
        } satisfies WhepPortMessage);
      });
    },
    close() {
      port.off('message', onMessage);
      for (const p of pending.values()) clearTimeout(p.timer);
      pending.clear();
    },
  };
}
