import type { Socket } from 'node:net';
import { InvalidStateError } from '../../engine/errors.js';
import type { Logger } from '../../engine/logging/logger.js';
import { ChunkReader } from './chunk/chunk-reader.js';
import { encodeChunks } from './chunk/chunk-writer.js';
import { DEFAULT_CHUNK_SIZE, MSG_SET_CHUNK_SIZE } from './constants.js';
import { RtmpProtocolError } from './errors.js';
import { RtmpServerHandshake } from './handshake/server-handshake.js';
import { onStatusMessage, STATUS } from './message/status.js';
import {
  csidForType,
  type RtmpMediaMessage,
  RtmpServerSession,
  type RtmpSessionOutput,
  type RtmpStreamRequest,
} from './session.js';
import type { RtmpLimits, RtmpMessage } from './types.js';

/** What the engine gives back for an accepted publish. */
export interface RtmpPublishHandle {
  /** Each audio/video/data message of the publisher, in order. Runs on the socket's read path: no await. */
  media(msg: RtmpMediaMessage): void;
  /** The publish ended (unpublish, disconnect, error). Called once. */
  stop(reason: string): void;
}

/** What the engine gives back for an accepted play. */
export interface RtmpPlayHandle {
  /** Statuses are out: write codec headers, metadata and the GOP now. */
  start?(): void;
  /** The player left (closeStream, deleteStream, disconnect, error). Called once. */
  stop(reason: string): void;
}

/**
 * The engine side of an RTMP server: decides on publish and play. Throw (or reject) to refuse:
 * RefusedError with status 409 answers NetStream.Publish.BadName, 404 NetStream.Play.StreamNotFound,
 * anything else Publish.Denied / Play.Failed; an error with an `rtmpStatus` string sends that code.
 * The connection is closed after a refusal.
 */
export interface RtmpServerHandler {
  onPublish(
    req: RtmpStreamRequest,
    conn: RtmpServerConnection,
  ): RtmpPublishHandle | Promise<RtmpPublishHandle>;
  onPlay(req: RtmpStreamRequest, player: RtmpPlayer): RtmpPlayHandle | Promise<RtmpPlayHandle>;
}

/** Grace for a refused client to read its error status before the socket is destroyed. */
const END_GRACE_MS = 2000;

let nextConnectionId = 1;

/**
 * One accepted RTMP socket: handshake, chunk reader, session and the write path.
 * Owns the socket and its timers; any protocol error closes this connection only.
 */
export class RtmpServerConnection {
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly #socket: Socket;
  readonly #limits: RtmpLimits;
  readonly #log: Logger;
  readonly #handler: RtmpServerHandler;
  readonly #handshake = new RtmpServerHandshake();
  readonly #reader: ChunkReader;
  readonly #session: RtmpServerSession;
  readonly #publishes = new Map<number, RtmpPublishHandle>();
  readonly #plays = new Map<number, { player: RtmpPlayer; handle?: RtmpPlayHandle }>();
  readonly #onClose: (conn: RtmpServerConnection) => void;
  #outChunkSize = DEFAULT_CHUNK_SIZE;
  #handshakeTimer: NodeJS.Timeout | undefined;
  #endTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #closeReason: Error | undefined;
  readonly #closedPromise: Promise<Error | undefined>;
  #resolveClosed!: (err: Error | undefined) => void;
  #handshakeBytes = 0;

  constructor(
    socket: Socket,
    opts: {
      limits: RtmpLimits;
      logger: Logger;
      handler: RtmpServerHandler;
      onClose: (c: RtmpServerConnection) => void;
    },
  ) {
    this.id = nextConnectionId++;
    this.#socket = socket;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.#limits = opts.limits;
    this.#handler = opts.handler;
    this.#onClose = opts.onClose;
    this.#log = opts.logger.child(`conn[${this.remoteAddress}:${this.remotePort}]`);
    this.#closedPromise = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#reader = new ChunkReader((msg) => this.#session.handle(msg), opts.limits);
    this.#session = new RtmpServerSession(this.#output(), opts.limits);
    socket.setNoDelay(true);
    socket.setTimeout(opts.limits.idleTimeoutMs);
    this.#handshakeTimer = setTimeout(() => {
      this.close(new RtmpProtocolError('RTS_ERR_RTMP_HANDSHAKE', 'handshake timeout'));
    }, opts.limits.handshakeTimeoutMs);
    socket.on('data', (data: Buffer) => this.#onData(data));
    socket.on('timeout', () => this.close(new RtmpProtocolError('RTS_ERR_RTMP_MESSAGE', 'idle timeout')));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A peer that hangs up while we write is an ordinary end, not a fault.
      this.close(err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : err);
    });
    socket.on('close', () => this.close());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves when the connection is closed, with the reason if it was an error. Never rejects. */
  closedPromise(): Promise<Error | undefined> {
    return this.#closedPromise;
  }

  /**
   * The socket, for egress code that writes frames itself (cork/writev, backpressure). Writes
   * must be whole chunks built for this connection's `outChunkSize`; reading is this class's.
   */
  get socket(): Socket {
    return this.#socket;
  }

  /** Whether the client signed its C1 (digest handshake: Flash, ffmpeg, OBS). */
  get digestHandshake(): boolean {
    return this.#handshake.digest;
  }

  get app(): string {
    return this.#session.app;
  }

  /** Chunk size this connection writes with (pre-encoded chunks must use it). */
  get outChunkSize(): number {
    return this.#outChunkSize;
  }

  get bytesIn(): number {
    return this.#handshakeBytes + this.#reader.bytesReceived;
  }

  get bytesOut(): number {
    return this.#socket.bytesWritten;
  }

  /** Bytes queued in user space for this peer. */
  get writableLength(): number {
    return this.#socket.writableLength;
  }

  /** Media messages received on streams that were not publishing. */
  get droppedMessages(): number {
    return this.#session.droppedMessages;
  }

  /** Writes one message, encoded for this connection (payload kept as a view). */
  writeMessage(msg: RtmpMessage): void {
    this.writeChunks(encodeChunks(msg, this.#outChunkSize));
    if (msg.typeId === MSG_SET_CHUNK_SIZE && msg.streamId === 0) {
      this.#outChunkSize =
        ((msg.payload[0] << 24) | (msg.payload[1] << 16) | (msg.payload[2] << 8) | msg.payload[3]) &
        0x7fffffff;
    }
  }

  /**
   * Writes pre-encoded chunks (header bytes and payload views) in one writev. They must have been
   * built with this connection's `outChunkSize`. Closes the connection when its queue passes
   * `maxWriteBuffer`: the stream should have dropped frames for it long before.
   */
  writeChunks(parts: readonly Uint8Array[]): void {
    const socket = this.#socket;
    if (this.#closed || socket.writableEnded) return;
    if (parts.length === 1) {
      socket.write(parts[0]);
    } else {
      socket.cork();
      for (let i = 0; i < parts.length; i++) socket.write(parts[i]);
      socket.uncork();
    }
    if (socket.writableLength > this.#limits.maxWriteBuffer) {
      this.close(
        new RtmpProtocolError(
          'RTS_ERR_RTMP_WRITE_BUFFER',
          `peer too slow: ${socket.writableLength} bytes queued (limit ${this.#limits.maxWriteBuffer})`,
        ),
      );
    }
  }

  /** Ordered goodbye: players get UnpublishNotify + Stream EOF, publishers Unpublish.Success, then the socket ends. */
  shutdown(reason = 'server shutting down'): void {
    if (this.#closed) return;
    for (const [streamId] of this.#plays) this.#session.playEnded(streamId, reason);
    for (const [streamId] of this.#publishes) {
      this.writeMessage(onStatusMessage(streamId, 'status', STATUS.unpublishSuccess, reason));
    }
    this.#end(reason);
  }

  /** Closes now (idempotent). Stops every publish and play of this connection. */
  close(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = err;
    clearTimeout(this.#handshakeTimer);
    clearTimeout(this.#endTimer);
    this.#reader.stop();
    this.#socket.destroy();
    const reason = err?.message ?? 'connection closed';
    if (err !== undefined) {
      this.#log.warn('closed', { reason, code: (err as { code?: string }).code, bytesIn: this.bytesIn });
    } else {
      this.#log.debug('closed');
    }
    for (const handle of this.#publishes.values()) this.#safeStop(handle, reason);
    this.#publishes.clear();
    for (const { player, handle } of this.#plays.values()) {
      player.markClosed();
      if (handle !== undefined) this.#safeStop(handle, reason);
    }
    this.#plays.clear();
    this.#onClose(this);
    this.#resolveClosed(this.#closeReason);
  }

  /** Sends the end of a played stream to the player on `streamId` (its publisher left). */
  playEnded(streamId: number, reason?: string): void {
    if (!this.#closed) this.#session.playEnded(streamId, reason);
  }

  #safeStop(handle: { stop(reason: string): void }, reason: string): void {
    try {
      handle.stop(reason);
    } catch (err) {
      this.#log.error('stop hook threw', { error: String(err) });
    }
  }

  #end(reason: string): void {
    if (this.#closed || this.#endTimer !== undefined) return;
    this.#log.info('ending', { reason });
    this.#socket.end();
    this.#endTimer = setTimeout(() => this.close(), END_GRACE_MS);
  }

  #onData(data: Buffer): void {
    if (this.#closed) return;
    try {
      if (!this.#handshake.done) {
        this.#handshakeBytes += data.length;
        const step = this.#handshake.push(data);
        if (step.output !== undefined) this.#socket.write(step.output);
        if (!step.done) return;
        clearTimeout(this.#handshakeTimer);
        this.#handshakeTimer = undefined;
        if (step.rest === undefined) return;
        this.#handshakeBytes -= step.rest.length;
        this.#reader.push(step.rest);
      } else {
        this.#reader.push(data);
      }
      this.#session.bytesReceived(this.#reader.bytesReceived);
    } catch (err) {
      this.close(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #output(): RtmpSessionOutput {
    return {
      send: (msg) => this.writeMessage(msg),
      requestPublish: (req) => this.#requestPublish(req),
      requestPlay: (req) => this.#requestPlay(req),
      media: (streamId, msg) => this.#publishes.get(streamId)?.media(msg),
      stopped: (streamId, kind, reason) => {
        if (kind === 'publish') {
          const h = this.#publishes.get(streamId);
          this.#publishes.delete(streamId);
          if (h !== undefined) this.#safeStop(h, reason);
        } else {
          const p = this.#plays.get(streamId);
          this.#plays.delete(streamId);
          p?.player.markClosed();
          if (p?.handle !== undefined) this.#safeStop(p.handle, reason);
        }
      },
      end: (reason) => this.#end(reason),
    };
  }

  async #requestPublish(req: RtmpStreamRequest): Promise<void> {
    this.#log.info('publish', { app: req.app, name: req.name, streamId: req.streamId });
    let handle: RtmpPublishHandle;
    try {
      handle = await this.#handler.onPublish(req, this);
    } catch (err) {
      this.#log.info('publish refused', { app: req.app, name: req.name, reason: String(err) });
      if (!this.#closed) this.#session.refuse(req.streamId, err);
      return;
    }
    if (this.#closed) {
      this.#safeStop(handle, 'connection closed');
      return;
    }
    this.#publishes.set(req.streamId, handle);
    this.#session.acceptPublish(req.streamId);
  }

  async #requestPlay(req: RtmpStreamRequest): Promise<void> {
    this.#log.info('play', { app: req.app, name: req.name, streamId: req.streamId });
    const player = new RtmpPlayer(this, req);
    const entry: { player: RtmpPlayer; handle?: RtmpPlayHandle } = { player };
    this.#plays.set(req.streamId, entry);
    let handle: RtmpPlayHandle;
    try {
      handle = await this.#handler.onPlay(req, player);
    } catch (err) {
      this.#plays.delete(req.streamId);
      player.markClosed();
      this.#log.info('play refused', { app: req.app, name: req.name, reason: String(err) });
      if (!this.#closed) this.#session.refuse(req.streamId, err);
      return;
    }
    if (this.#closed || this.#plays.get(req.streamId) !== entry) {
      this.#safeStop(handle, 'connection closed');
      return;
    }
    entry.handle = handle;
    this.#session.acceptPlay(req.streamId);
    try {
      handle.start?.();
    } catch (err) {
      this.close(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

/**
 * One play of one connection: what the engine writes media to. `sendChunks` takes chunks built
 * once per stream with `encodeMediaChunks(…, player.streamId, player.chunkSize)`; players that share
 * (streamId, chunkSize), which is all of them with this server, share those bytes.
 */
export class RtmpPlayer {
  readonly connection: RtmpServerConnection;
  readonly request: RtmpStreamRequest;
  #closed = false;

  constructor(connection: RtmpServerConnection, request: RtmpStreamRequest) {
    this.connection = connection;
    this.request = request;
  }

  get streamId(): number {
    return this.request.streamId;
  }

  get chunkSize(): number {
    return this.connection.outChunkSize;
  }

  get closed(): boolean {
    return this.#closed || this.connection.closed;
  }

  /** Bytes queued for this player's socket: the stream's slow-consumer policy reads it. */
  get writableLength(): number {
    return this.connection.writableLength;
  }

  /** Encodes and writes one media message (per-player encoding; prefer sendChunks for fan-out). */
  send(typeId: 8 | 9 | 18, timestamp: number, payload: Uint8Array): void {
    if (this.closed) throw new InvalidStateError('player closed');
    this.connection.writeChunks(
      encodeMediaChunks(typeId, timestamp, payload, this.request.streamId, this.connection.outChunkSize),
    );
  }

  /** Writes chunks pre-encoded for (this.streamId, this.chunkSize). */
  sendChunks(parts: readonly Uint8Array[]): void {
    if (this.closed) return;
    this.connection.writeChunks(parts);
  }

  /** The stream ended (its publisher left): NetStream.Play.UnpublishNotify and Stream EOF. */
  end(reason?: string): void {
    if (!this.closed) this.connection.playEnded(this.request.streamId, reason);
  }

  /** Drops this player by closing its connection. */
  close(err?: Error): void {
    this.connection.close(err);
  }

  /** @internal */
  markClosed(): void {
    this.#closed = true;
  }
}

/**
 * Chunks of one media message for players on message stream `streamId` writing with `chunkSize`:
 * a type 0 header (absolute timestamp, so the bytes do not depend on what a player got before),
 * type 3 headers between pieces, payload views. Build it once per frame and stream; share it.
 */
export function encodeMediaChunks(
  typeId: number,
  timestamp: number,
  payload: Uint8Array,
  streamId: number,
  chunkSize: number,
): Uint8Array[] {
  return encodeChunks({ csid: csidForType(typeId), typeId, streamId, timestamp, payload }, chunkSize);
}
