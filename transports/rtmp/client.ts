import { EventEmitter } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { InvalidStateError, TimeoutError } from '../../engine/errors.js';
import { type Logger, silentLogger } from '../../engine/logging/logger.js';
import type { Amf0Object, Amf0Value } from '../../media/amf0/types.js';
import { ChunkReader } from './chunk/chunk-reader.js';
import { encodeChunks } from './chunk/chunk-writer.js';
import {
  CSID_AUDIO,
  CSID_VIDEO,
  MSG_AUDIO,
  MSG_COMMAND_AMF0,
  MSG_COMMAND_AMF3,
  MSG_DATA_AMF0,
  MSG_DATA_AMF3,
  MSG_SET_CHUNK_SIZE,
  MSG_SET_PEER_BANDWIDTH,
  MSG_USER_CONTROL,
  MSG_VIDEO,
  MSG_WINDOW_ACK_SIZE,
  UC_PING_REQUEST,
  UC_PING_RESPONSE,
  UC_SET_BUFFER_LENGTH,
  UC_STREAM_EOF,
} from './constants.js';
import { RtmpProtocolError, RtmpStatusError } from './errors.js';
import { RtmpClientHandshake } from './handshake/client-handshake.js';
import { commandMessage, decodeCommand } from './message/command-message.js';
import {
  acknowledgementMessage,
  decodeU32,
  setChunkSizeMessage,
  windowAckSizeMessage,
} from './message/control-message.js';
import { decodeData, setDataFrameMessage } from './message/data-message.js';
import { decodeUserControl, userControlMessage } from './message/user-control.js';
import type { RtmpMediaMessage } from './session.js';
import { DEFAULT_RTMP_LIMITS, type RtmpLimits, type RtmpMessage } from './types.js';
import { parseRtmpUrl, type RtmpUrl } from './url.js';

export interface RtmpClientOptions {
  /** Bound on connect + handshake + NetConnection.connect, and on publish()/play() answers (ms). */
  timeoutMs?: number;
  /** Sign C1 (the digest handshake) as Flash Player and ffmpeg do. */
  digest?: boolean;
  /** Chunk size the client writes with. */
  chunkSize?: number;
  logger?: Logger;
  limits?: Partial<RtmpLimits>;
}

export interface RtmpStatus {
  readonly level: string;
  readonly code: string;
  readonly description: string;
}

export type RtmpClientEvents = {
  /** A media or data message of the stream being played (timestamps unwrapped). */
  media: [RtmpMediaMessage];
  /** Every onStatus the server sends. */
  status: [RtmpStatus];
  /** The played stream ended (Stream EOF or Play.UnpublishNotify). */
  eof: [];
  /** Once, when the connection is gone; with the error that closed it, if any. */
  close: [Error | undefined];
};

interface Pending {
  resolve: (values: Amf0Value[]) => void;
  reject: (err: Error) => void;
}

/**
 * RTMP client for publishing and playing (tests, `rts bench`, relays). Plain handshake by default,
 * AMF0 commands, acknowledgements as the server's window asks.
 *
 *   const c = await RtmpClient.connect('rtmp://127.0.0.1:1935/live/cam1');
 *   await c.publish();            // or: c.on('media', …); await c.play();
 *   c.writeMedia(9, ts, flvVideoBody);
 *   c.close();
 */
export class RtmpClient extends EventEmitter<RtmpClientEvents> {
  readonly url: RtmpUrl;
  readonly #socket: Socket;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #reader: ChunkReader;
  readonly #handshake: RtmpClientHandshake;
  readonly #pending = new Map<number, Pending>();
  #statusWaiter: ((s: RtmpStatus) => boolean) | undefined;
  #nextTxn = 1;
  #outChunkSize = 128;
  #streamId = 0;
  #peerWindow = 0;
  #lastAck = 0;
  #closed = false;
  #epoch = 0;
  #lastTs = 0;
  readonly #closedPromise: Promise<Error | undefined>;
  #resolveClosed!: (err: Error | undefined) => void;

  private constructor(url: RtmpUrl, socket: Socket, opts: RtmpClientOptions) {
    super();
    this.url = url;
    this.#socket = socket;
    this.#timeoutMs = opts.timeoutMs ?? 5000;
    this.#log = (opts.logger ?? silentLogger).child(`rtmp:client[${url.host}:${url.port}]`);
    const limits = { ...DEFAULT_RTMP_LIMITS, ...opts.limits };
    this.#reader = new ChunkReader((m) => this.#onMessage(m), limits);
    this.#handshake = new RtmpClientHandshake({ digest: opts.digest });
    this.#closedPromise = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /** Connects, handshakes and sends NetConnection.connect for `url`'s app. */
  static async connect(url: string, opts: RtmpClientOptions = {}): Promise<RtmpClient> {
    const parsed = parseRtmpUrl(url);
    const socket = netConnect({ host: parsed.host, port: parsed.port, noDelay: true });
    const client = new RtmpClient(parsed, socket, opts);
    await client.#start(opts.chunkSize ?? 4096);
    return client;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Message stream id from createStream (0 before). */
  get streamId(): number {
    return this.#streamId;
  }

  get bytesReceived(): number {
    return this.#reader.bytesReceived;
  }

  get writableLength(): number {
    return this.#socket.writableLength;
  }

  /** Never rejects: resolves with the error that closed the client, if any. */
  closedPromise(): Promise<Error | undefined> {
    return this.#closedPromise;
  }

  async #start(chunkSize: number): Promise<void> {
    const socket = this.#socket;
    const handshakeDone = new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => reject(err);
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.write(this.#handshake.start());
      });
      socket.on('data', (data: Buffer) => {
        try {
          if (!this.#handshake.done) {
            const step = this.#handshake.push(data);
            if (!step.done) return;
            if (step.output !== undefined) socket.write(step.output);
            socket.off('error', fail);
            resolve();
            if (step.rest !== undefined) this.#reader.push(step.rest);
          } else {
            this.#reader.push(data);
          }
          this.#maybeAck();
        } catch (err) {
          this.close(err instanceof Error ? err : new Error(String(err)));
        }
      });
      socket.on('close', () => {
        reject(new RtmpProtocolError('RTS_ERR_RTMP_HANDSHAKE', 'connection closed during handshake'));
        this.close();
      });
    });
    socket.on('error', (err) => this.close(err));
    try {
      await this.#withTimeout(handshakeDone, 'RTMP handshake');
      this.#send(setChunkSizeMessage(chunkSize));
      const u = this.url;
      await this.#call('connect', {
        app: u.app,
        type: 'nonprivate',
        flashVer: 'FMLE/3.0 (compatible; rts-engine)',
        tcUrl: u.tcUrl,
        fpad: false,
        capabilities: 15,
        audioCodecs: 3191,
        videoCodecs: 252,
        videoFunction: 1,
        objectEncoding: 0,
      });
      this.#send(windowAckSizeMessage(DEFAULT_RTMP_LIMITS.windowAckSize));
    } catch (err) {
      this.close(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
  }

  /** releaseStream, FCPublish, createStream, publish; resolves on NetStream.Publish.Start. */
  async publish(streamName = this.url.streamName, type = 'live'): Promise<void> {
    this.#assertOpen();
    this.#send(commandMessage(0, 'releaseStream', this.#nextTxn++, null, streamName));
    this.#send(commandMessage(0, 'FCPublish', this.#nextTxn++, null, streamName));
    await this.#createStream();
    const status = this.#waitStatus((s) => s.code.startsWith('NetStream.Publish.'));
    this.#send(commandMessage(this.#streamId, 'publish', 0, null, streamName, type));
    const s = await status;
    if (s.code !== 'NetStream.Publish.Start') throw new RtmpStatusError(s.code, s.description);
  }

  /** createStream, play; resolves on NetStream.Play.Start, rejects on StreamNotFound/Failed. */
  async play(streamName = this.url.streamName): Promise<void> {
    this.#assertOpen();
    await this.#createStream();
    const status = this.#waitStatus(
      (s) =>
        s.code === 'NetStream.Play.Start' ||
        s.level === 'error' ||
        s.code === 'NetStream.Play.StreamNotFound',
    );
    this.#send(commandMessage(this.#streamId, 'play', 0, null, streamName, -2));
    this.#send(userControlMessage(UC_SET_BUFFER_LENGTH, this.#streamId, 3000));
    const s = await status;
    if (s.code !== 'NetStream.Play.Start') throw new RtmpStatusError(s.code, s.description);
  }

  /** Writes an audio (8), video (9) or data (18) message on the publishing stream. Payload is a view. */
  writeMedia(typeId: 8 | 9 | 18, timestamp: number, payload: Uint8Array): void {
    if (this.#closed) return;
    const csid = typeId === MSG_AUDIO ? CSID_AUDIO : typeId === MSG_VIDEO ? CSID_VIDEO : 5;
    this.#writeParts(
      encodeChunks({ csid, typeId, streamId: this.#streamId, timestamp, payload }, this.#outChunkSize),
    );
  }

  /** `@setDataFrame("onMetaData", metadata)`. */
  writeMetadata(metadata: Amf0Object): void {
    if (!this.#closed) this.#send(setDataFrameMessage(this.#streamId, metadata));
  }

  /** FCUnpublish + deleteStream (publisher) or deleteStream (player), then close. */
  async stop(): Promise<void> {
    if (this.#closed) return;
    if (this.#streamId !== 0) {
      this.#send(commandMessage(0, 'FCUnpublish', this.#nextTxn++, null, this.url.streamName));
      this.#send(commandMessage(0, 'deleteStream', this.#nextTxn++, null, this.#streamId));
    }
    await new Promise<void>((resolve) => this.#socket.end(resolve));
    this.close();
  }

  /** Destroys the socket now. Idempotent. */
  close(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reader.stop();
    this.#socket.destroy();
    const reason = err ?? new RtmpProtocolError('RTS_ERR_RTMP_MESSAGE', 'connection closed');
    for (const p of this.#pending.values()) p.reject(reason);
    this.#pending.clear();
    if (err !== undefined) this.#log.debug('closed', { error: err.message });
    this.emit('close', err);
    this.#resolveClosed(err);
  }

  #assertOpen(): void {
    if (this.#closed) throw new InvalidStateError('RTMP client closed');
  }

  async #createStream(): Promise<void> {
    const [, id] = await this.#call('createStream', null);
    if (typeof id !== 'number')
      throw new RtmpProtocolError('RTS_ERR_RTMP_COMMAND', 'createStream without an id');
    this.#streamId = id;
  }

  #call(name: string, obj: Amf0Object | null, ...args: Amf0Value[]): Promise<Amf0Value[]> {
    const txn = this.#nextTxn++;
    const p = new Promise<Amf0Value[]>((resolve, reject) => this.#pending.set(txn, { resolve, reject }));
    this.#send(commandMessage(0, name, txn, obj, ...args));
    return this.#withTimeout(p, name).finally(() => this.#pending.delete(txn));
  }

  #waitStatus(match: (s: RtmpStatus) => boolean): Promise<RtmpStatus> {
    const p = new Promise<RtmpStatus>((resolve, reject) => {
      this.#statusWaiter = (s) => {
        if (!match(s)) return false;
        resolve(s);
        return true;
      };
      this.#closedPromise.then((err) =>
        reject(err ?? new RtmpProtocolError('RTS_ERR_RTMP_MESSAGE', 'closed')),
      );
    });
    return this.#withTimeout(p, 'status').finally(() => {
      this.#statusWaiter = undefined;
    });
  }

  #withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TimeoutError(`${what} timed out after ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
    });
    return Promise.race([p, t]).finally(() => clearTimeout(timer));
  }

  #send(msg: RtmpMessage): void {
    if (this.#closed) return;
    this.#writeParts(encodeChunks(msg, this.#outChunkSize));
    if (msg.typeId === MSG_SET_CHUNK_SIZE) this.#outChunkSize = decodeU32(msg.payload, 'Set Chunk Size');
  }

  #writeParts(parts: Uint8Array[]): void {
    const socket = this.#socket;
    socket.cork();
    for (const p of parts) socket.write(p);
    socket.uncork();
  }

  #maybeAck(): void {
    const total = this.#reader.bytesReceived;
    if (this.#peerWindow > 0 && total - this.#lastAck >= this.#peerWindow) {
      this.#lastAck = total;
      this.#send(acknowledgementMessage(total));
    }
  }

  #unwrap(ts: number): number {
    if (ts < this.#lastTs && this.#lastTs - ts > 0x80000000) this.#epoch += 0x100000000;
    this.#lastTs = ts;
    return this.#epoch + ts;
  }

  #onMessage(msg: RtmpMessage): void {
    switch (msg.typeId) {
      case MSG_AUDIO:
      case MSG_VIDEO: {
        this.emit('media', {
          typeId: msg.typeId,
          timestamp: this.#unwrap(msg.timestamp),
          payload: msg.payload,
        });
        return;
      }
      case MSG_DATA_AMF0:
      case MSG_DATA_AMF3: {
        const data = decodeData(msg);
        if (data.name === '|RtmpSampleAccess') return;
        if (data.name === 'onStatus') return;
        this.emit('media', {
          typeId: 18,
          timestamp: this.#unwrap(msg.timestamp),
          payload: data.body,
          name: data.name,
          values: data.values,
        });
        return;
      }
      case MSG_COMMAND_AMF0:
      case MSG_COMMAND_AMF3: {
        this.#onCommand(msg);
        return;
      }
      case MSG_USER_CONTROL: {
        const uc = decodeUserControl(msg.payload);
        if (uc.event === UC_PING_REQUEST) this.#send(userControlMessage(UC_PING_RESPONSE, uc.value));
        else if (uc.event === UC_STREAM_EOF && uc.value === this.#streamId && this.#streamId !== 0)
          this.emit('eof');
        return;
      }
      case MSG_WINDOW_ACK_SIZE: {
        this.#peerWindow = decodeU32(msg.payload, 'Window Acknowledgement Size');
        return;
      }
      case MSG_SET_PEER_BANDWIDTH: {
        return;
      }
      default: {
        return;
      }
    }
  }

  #onCommand(msg: RtmpMessage): void {
    const cmd = decodeCommand(msg);
    switch (cmd.name) {
      case '_result':
      case '_error': {
        const p = this.#pending.get(cmd.transactionId);
        if (p === undefined) return;
        this.#pending.delete(cmd.transactionId);
        if (cmd.name === '_result') {
          p.resolve([cmd.commandObject, ...cmd.args]);
        } else {
          const info = cmd.args[0] as Amf0Object | undefined;
          p.reject(new RtmpStatusError(String(info?.code ?? '_error'), String(info?.description ?? '')));
        }
        return;
      }
      case 'onStatus': {
        const info = (cmd.args[0] ?? {}) as Amf0Object;
        const status: RtmpStatus = {
          level: String(info.level ?? ''),
          code: String(info.code ?? ''),
          description: String(info.description ?? ''),
        };
        this.emit('status', status);
        if (status.code === 'NetStream.Play.UnpublishNotify') this.emit('eof');
        this.#statusWaiter?.(status);
        return;
      }
      case 'onBWDone': {
        this.#send(commandMessage(0, '_checkbw', this.#nextTxn++, null));
        return;
      }
      default: {
        return;
      }
    }
  }
}
