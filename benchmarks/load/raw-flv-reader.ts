/**
 * HTTP-FLV player on a raw TCP socket for load tests: one `GET` (HTTP/1.1), the status line and
 * headers parsed by hand, chunked transfer-encoding undone by a small state machine, the body fed
 * to FlvTagScanner. Reads land in one buffer shared by every reader of the process (`onread`), so
 * a read allocates nothing; nothing is retained across reads but a few header bytes.
 */
import { connect, type Socket } from 'node:net';
import { type FlvTagCallback, FlvTagScanner } from './flv-tag-scanner.js';

const MAX_HEADER_BYTES = 16 * 1024;
const SHARED_READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

export class HttpResponseError extends Error {
  override name = 'HttpResponseError';
}

enum Phase {
  Headers = 0,
  Identity = 1,
  ChunkSize = 2,
  ChunkData = 3,
  ChunkCrlf = 4,
  Done = 5,
}

/**
 * Push-based HTTP/1.1 response body extractor: headers, then identity or chunked body handed to
 * `onBody` as views. Pure (no socket), so it is testable with bytes alone.
 */
export class HttpBodyDecoder {
  readonly #onBody: (data: Uint8Array) => void;
  readonly #onHeaders: (status: number, headers: Map<string, string>) => void;
  #phase: Phase = Phase.Headers;
  #head = '';
  #sizeLine = '';
  #left = 0;

  constructor(
    onHeaders: (status: number, headers: Map<string, string>) => void,
    onBody: (data: Uint8Array) => void,
  ) {
    this.#onHeaders = onHeaders;
    this.#onBody = onBody;
  }

  get done(): boolean {
    return this.#phase === Phase.Done;
  }

  push(data: Uint8Array): void {
    let p = 0;
    const end = data.length;
    while (p < end) {
      switch (this.#phase) {
        case Phase.Headers: {
          // Header bytes are few: decode latin1 and look for the blank line.
          const take = Math.min(end - p, MAX_HEADER_BYTES - this.#head.length + 4);
          const text = this.#head + Buffer.from(data.buffer, data.byteOffset + p, take).toString('latin1');
          const blank = text.indexOf('\r\n\r\n');
          if (blank < 0) {
            if (text.length >= MAX_HEADER_BYTES)
              throw new HttpResponseError('HTTP response headers too large');
            this.#head = text;
            p += take;
            break;
          }
          p += blank + 4 - this.#head.length;
          this.#head = '';
          const lines = text.slice(0, blank).split('\r\n');
          const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
          if (!m) throw new HttpResponseError(`bad HTTP status line: ${lines[0].slice(0, 80)}`);
          const headers = new Map<string, string>();
          for (let i = 1; i < lines.length; i++) {
            const c = lines[i].indexOf(':');
            if (c > 0) headers.set(lines[i].slice(0, c).trim().toLowerCase(), lines[i].slice(c + 1).trim());
          }
          const status = Number(m[1]);
          this.#onHeaders(status, headers);
          this.#phase = /chunked/i.test(headers.get('transfer-encoding') ?? '')
            ? Phase.ChunkSize
            : Phase.Identity;
          break;
        }
        case Phase.Identity: {
          this.#onBody(p === 0 ? data : data.subarray(p));
          p = end;
          break;
        }
        case Phase.ChunkSize: {
          const nl = data.indexOf(0x0a, p);
          const stop = nl < 0 ? end : nl + 1;
          this.#sizeLine += Buffer.from(data.buffer, data.byteOffset + p, stop - p).toString('latin1');
          p = stop;
          if (this.#sizeLine.length > 1024) throw new HttpResponseError('chunk size line too long');
          if (nl < 0) break;
          const hex = this.#sizeLine.split(';')[0].trim();
          this.#sizeLine = '';
          if (!/^[0-9a-fA-F]{1,8}$/.test(hex))
            throw new HttpResponseError(`bad chunk size ${JSON.stringify(hex)}`);
          this.#left = Number.parseInt(hex, 16);
          this.#phase = this.#left === 0 ? Phase.Done : Phase.ChunkData;
          break;
        }
        case Phase.ChunkData: {
          const n = Math.min(this.#left, end - p);
          this.#onBody(data.subarray(p, p + n));
          p += n;
          this.#left -= n;
          if (this.#left === 0) {
            this.#phase = Phase.ChunkCrlf;
            this.#left = 2;
          }
          break;
        }
        case Phase.ChunkCrlf: {
          const n = Math.min(this.#left, end - p);
          p += n;
          this.#left -= n;
          if (this.#left === 0) this.#phase = Phase.ChunkSize;
          break;
        }
        case Phase.Done: {
          return;
        }
      }
    }
  }
}

export class RawHttpFlvReader {
  readonly scanner: FlvTagScanner;
  readonly #socket: Socket;
  readonly #decoder: HttpBodyDecoder;
  #closed = false;
  #onClose: ((err?: Error) => void) | undefined;
  /** Bytes received on the socket. */
  bytes = 0;

  private constructor(url: URL, onTag: FlvTagCallback, onHeaders: (status: number) => void) {
    this.scanner = new FlvTagScanner(onTag);
    this.#decoder = new HttpBodyDecoder(
      (status) => onHeaders(status),
      (body) => this.scanner.push(body),
    );
    this.#socket = connect({
      host: url.hostname,
      port: Number(url.port || 80),
      noDelay: true,
      onread: {
        buffer: SHARED_READ_BUFFER,
        callback: (n: number, buf: Uint8Array): boolean => {
          this.bytes += n;
          try {
            this.#decoder.push(buf.subarray(0, n));
          } catch (err) {
            this.close(err instanceof Error ? err : new Error(String(err)));
          }
          return true;
        },
      },
    });
  }

  /** Connects and resolves once the response status is 200; rejects on anything else or a timeout. */
  static open(
    url: string,
    onTag: FlvTagCallback,
    timeoutMs: number,
    onClose: (err?: Error) => void,
  ): Promise<RawHttpFlvReader> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (err?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          r.close(err);
          reject(err);
        } else {
          resolve(r);
        }
      };
      const r: RawHttpFlvReader = new RawHttpFlvReader(u, onTag, (status) => {
        settle(status === 200 ? undefined : new HttpResponseError(`HTTP ${status} for ${url}`));
      });
      r.#onClose = (err) => {
        settle(err ?? new Error('connection closed before the response'));
        onClose(err);
      };
      const timer = setTimeout(() => settle(new Error(`no response in ${timeoutMs} ms`)), timeoutMs);
      const s = r.#socket;
      s.once('connect', () => {
        s.write(
          `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: rts-bench\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n`,
        );
      });
      s.on('error', (err) => r.close(err));
      s.on('end', () => r.close(new Error('server closed the response')));
      s.on('close', () => r.close());
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
    const cb = this.#onClose;
    this.#onClose = undefined;
    cb?.(err);
  }
}
