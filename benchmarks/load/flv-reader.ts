/**
 * Minimal streaming HTTP-FLV reader for load tests: one GET, the body fed to FlvTagScanner, no
 * copies of media. Keeps the socket out of any agent pool.
 */
import { type ClientRequest, request } from 'node:http';
import { type FlvTagCallback, FlvTagScanner } from './flv-tag-scanner.js';

export class HttpFlvReader {
  readonly #req: ClientRequest;
  readonly scanner: FlvTagScanner;
  #closed = false;
  #onClose: ((err?: Error) => void) | undefined;

  private constructor(req: ClientRequest, onTag: FlvTagCallback) {
    this.#req = req;
    this.scanner = new FlvTagScanner(onTag);
  }

  /** Resolves once the response headers say 200; rejects on any other status, error or timeout. */
  static open(
    url: string,
    onTag: FlvTagCallback,
    timeoutMs: number,
    onClose: (err?: Error) => void,
  ): Promise<HttpFlvReader> {
    return new Promise((resolve, reject) => {
      const req = request(url, { agent: false, headers: { Accept: '*/*' } });
      const r = new HttpFlvReader(req, onTag);
      r.#onClose = onClose;
      const timer = setTimeout(() => {
        req.destroy(new Error(`no response in ${timeoutMs} ms`));
      }, timeoutMs);
      req.once('error', (err) => {
        clearTimeout(timer);
        if (r.#closed) return;
        r.#finish(err);
        reject(err);
      });
      req.once('response', (res) => {
        clearTimeout(timer);
        if (res.statusCode !== 200) {
          res.resume();
          const err = new Error(`HTTP ${res.statusCode} for ${url}`);
          r.#finish(err);
          req.destroy();
          reject(err);
          return;
        }
        res.socket.setNoDelay(true);
        res.on('data', (chunk: Buffer) => {
          try {
            r.scanner.push(chunk);
          } catch (err) {
            r.close(err instanceof Error ? err : new Error(String(err)));
          }
        });
        res.once('end', () => r.#finish(new Error('response ended')));
        res.once('error', (err) => r.#finish(err));
        resolve(r);
      });
      req.end();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  #finish(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    const cb = this.#onClose;
    this.#onClose = undefined;
    cb?.(err);
  }

  close(err?: Error): void {
    if (this.#closed) return;
    this.#finish(err);
    this.#req.destroy();
  }
}
