import { createServer, type Server, type Socket } from 'node:net';
import { InvalidStateError } from '../../engine/errors.js';
import { type Logger, silentLogger } from '../../engine/logging/logger.js';
import { RtmpServerConnection, type RtmpServerHandler } from './connection.js';
import { DEFAULT_RTMP_LIMITS, type RtmpLimits } from './types.js';

export interface RtmpServerOptions {
  handler: RtmpServerHandler;
  logger?: Logger;
  limits?: Partial<RtmpLimits>;
}

/** Time given to connections to say goodbye in drain() before they are destroyed. */
const DRAIN_GRACE_MS = 3000;

/**
 * The RTMP listener. It lives on the main thread (Node 20 cannot share a TCP port between workers)
 * and owns its connections: `close()` destroys them, `drain()` says goodbye first.
 */
export class RtmpServer {
  readonly limits: Readonly<RtmpLimits>;
  readonly #server: Server;
  readonly #log: Logger;
  readonly #handler: RtmpServerHandler;
  readonly #connections = new Set<RtmpServerConnection>();
  #closed = false;
  #listening = false;
  #refusedConnections = 0;

  constructor(opts: RtmpServerOptions) {
    this.limits = Object.freeze({ ...DEFAULT_RTMP_LIMITS, ...opts.limits });
    this.#log = (opts.logger ?? silentLogger).child('rtmp');
    this.#handler = opts.handler;
    this.#server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
    this.#server.on('error', (err) => this.#log.error('listener error', { error: err.message }));
  }

  get closed(): boolean {
    return this.#closed;
  }

  get connections(): ReadonlySet<RtmpServerConnection> {
    return this.#connections;
  }

  /** Connections refused because `maxConnections` was reached. */
  get refusedConnections(): number {
    return this.#refusedConnections;
  }

  /** Starts listening; resolves with the bound port (pass port 0 for any free port). */
  listen(port: number, host = '0.0.0.0'): Promise<{ port: number; host: string }> {
    if (this.#closed) return Promise.reject(new InvalidStateError('RTMP server closed'));
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.#server.once('error', onError);
      this.#server.listen(port, host, () => {
        this.#server.off('error', onError);
        this.#listening = true;
        const addr = this.#server.address();
        const bound = typeof addr === 'object' && addr !== null ? addr.port : port;
        this.#log.debug('listening', { host, port: bound });
        resolve({ port: bound, host });
      });
    });
  }

  #accept(socket: Socket): void {
    if (this.#closed || this.#connections.size >= this.limits.maxConnections) {
      this.#refusedConnections++;
      socket.destroy();
      return;
    }
    const conn = new RtmpServerConnection(socket, {
      limits: this.limits,
      logger: this.#log,
      handler: this.#handler,
      onClose: (c) => this.#connections.delete(c),
    });
    this.#connections.add(conn);
  }

  /** Stops accepting, tells every peer the streams end, waits for them to go (bounded), then closes. */
  async drain(reason = 'server shutting down'): Promise<void> {
    if (this.#closed) return;
    this.#stopListening();
    const all = [...this.#connections];
    for (const c of all) c.shutdown(reason);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(all.map((c) => c.closedPromise())),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, DRAIN_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
    this.close();
  }

  /** Stops accepting and destroys every connection. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopListening();
    for (const c of [...this.#connections]) c.close();
  }

  #stopListening(): void {
    if (this.#listening) {
      this.#listening = false;
      this.#server.close();
    }
  }
}
