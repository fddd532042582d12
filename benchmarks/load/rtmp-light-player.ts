/**
 * A light RTMP player for load tests, built from our RTMP pieces (client handshake, command and
 * control message codecs, chunk writer) on a raw socket whose reads land in one buffer shared by
 * the process (`onread`), with RtmpChunkScanner so media payloads are never assembled or copied.
 * It does what a player must: connect, createStream, play, acknowledge the server's window,
 * answer pings. Use RtmpClient (transports/rtmp/client.ts) for anything that needs the payloads.
 */
import { connect, type Socket } from 'node:net';
import type { Amf0Object } from '../../media/amf0/types.js';
import { encodeChunksFlat } from '../../transports/rtmp/chunk/chunk-writer.js';
import { UC_PING_REQUEST, UC_PING_RESPONSE, UC_SET_BUFFER_LENGTH } from '../../transports/rtmp/constants.js';
import { RtmpClientHandshake } from '../../transports/rtmp/handshake/client-handshake.js';
import { commandMessage, decodeCommand } from '../../transports/rtmp/message/command-message.js';
import {
  acknowledgementMessage,
  decodeU32,
  windowAckSizeMessage,
} from '../../transports/rtmp/message/control-message.js';
import { decodeUserControl, userControlMessage } from '../../transports/rtmp/message/user-control.js';
import type { RtmpMessage } from '../../transports/rtmp/types.js';
import { parseRtmpUrl } from '../../transports/rtmp/url.js';
import { type MediaCallback, RtmpChunkScanner } from './rtmp-chunk-scanner.js';

const SHARED_READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
const OUT_CHUNK_SIZE = 128;

export class LightRtmpPlayer {
  readonly #socket: Socket;
  readonly #handshake = new RtmpClientHandshake();
  readonly #scanner: RtmpChunkScanner;
  readonly #url: ReturnType<typeof parseRtmpUrl>;
  #closed = false;
  #onClose: ((err?: Error) => void) | undefined;
  #step: 'handshake' | 'connect' | 'createStream' | 'play' | 'playing' = 'handshake';
  #streamId = 0;
  #window = 0;
  #lastAck = 0;
  #ready: { resolve: () => void; reject: (err: Error) => void } | undefined;

  private constructor(url: string, onMedia: MediaCallback) {
    this.#url = parseRtmpUrl(url);
    this.#scanner = new RtmpChunkScanner(onMedia, (m) => this.#onMessage(m));
    this.#socket = connect({
      host: this.#url.host,
      port: this.#url.port,
      noDelay: true,
      onread: {
        buffer: SHARED_READ_BUFFER,
        callback: (n: number, buf: Uint8Array): boolean => {
          try {
            this.#onData(buf.subarray(0, n));
          } catch (err) {
            this.close(err instanceof Error ? err : new Error(String(err)));
          }
          return true;
        },
      },
    });
  }

  /** Connects, plays, and resolves on NetStream.Play.Start. */
  static open(
    url: string,
    onMedia: MediaCallback,
    timeoutMs: number,
    onClose: (err?: Error) => void,
  ): Promise<LightRtmpPlayer> {
    const p = new LightRtmpPlayer(url, onMedia);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => p.close(new Error(`RTMP play not started after ${timeoutMs} ms (at ${p.#step})`)),
        timeoutMs,
      );
      p.#ready = {
        resolve: () => {
          clearTimeout(timer);
          resolve(p);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      p.#onClose = onClose;
      const s = p.#socket;
      s.once('connect', () => s.write(p.#handshake.start()));
      s.on('error', (err) => p.close(err));
      s.on('end', () => p.close(new Error('server closed the connection')));
      s.on('close', () => p.close());
    });
  }

  /** Message stream id from createStream (0 before). */
  get streamId(): number {
    return this.#streamId;
  }

  get bytesReceived(): number {
    return this.#scanner.bytesReceived;
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
    const ready = this.#ready;
    this.#ready = undefined;
    ready?.reject(err ?? new Error(`closed at ${this.#step}`));
    const cb = this.#onClose;
    this.#onClose = undefined;
    cb?.(err);
  }

  #send(msg: RtmpMessage): void {
    if (!this.#closed) this.#socket.write(encodeChunksFlat(msg, OUT_CHUNK_SIZE));
  }

  #onData(data: Uint8Array): void {
    if (this.#step === 'handshake') {
      const step = this.#handshake.push(data);
      if (!step.done) return;
      if (step.output !== undefined) this.#socket.write(step.output);
      this.#step = 'connect';
      const u = this.#url;
      const obj: Amf0Object = {
        app: u.app,
        type: 'nonprivate',
        flashVer: 'LNX 9,0,124,2',
        tcUrl: u.tcUrl,
        fpad: false,
        capabilities: 15,
        audioCodecs: 3191,
        videoCodecs: 252,
        videoFunction: 1,
      };
      this.#send(commandMessage(0, 'connect', 1, obj));
      if (step.rest !== undefined && step.rest.length > 0) this.#scanner.push(step.rest);
    } else {
      this.#scanner.push(data);
    }
    const total = this.#scanner.bytesReceived;
    if (this.#window > 0 && total - this.#lastAck >= this.#window) {
      this.#lastAck = total;
      this.#send(acknowledgementMessage(total % 0x100000000));
    }
  }

  #onMessage(m: RtmpMessage): void {
    switch (m.typeId) {
      case 5: {
        this.#window = decodeU32(m.payload, 'Window Acknowledgement Size');
        return;
      }
      case 4: {
        const uc = decodeUserControl(m.payload);
        if (uc.event === UC_PING_REQUEST) this.#send(userControlMessage(UC_PING_RESPONSE, uc.value));
        return;
      }
      case 20: {
        this.#onCommand(m);
        return;
      }
      default: {
        return;
      }
    }
  }

  #onCommand(m: RtmpMessage): void {
    const cmd = decodeCommand(m);
    if (cmd.name === '_result' && this.#step === 'connect' && cmd.transactionId === 1) {
      this.#send(windowAckSizeMessage(2_500_000));
      this.#step = 'createStream';
      this.#send(commandMessage(0, 'createStream', 2, null));
    } else if (cmd.name === '_result' && this.#step === 'createStream' && cmd.transactionId === 2) {
      const id = cmd.args[0];
      if (typeof id !== 'number') throw new Error('createStream answered without a stream id');
      this.#streamId = id;
      this.#step = 'play';
      this.#send(commandMessage(id, 'play', 0, null, this.#url.streamName, -2));
      this.#send(userControlMessage(UC_SET_BUFFER_LENGTH, id, 3000));
    } else if (cmd.name === '_error') {
      const info = cmd.args[0] as Amf0Object | undefined;
      throw new Error(
        `${this.#step} refused: ${String(info?.code ?? '')} ${String(info?.description ?? '')}`,
      );
    } else if (cmd.name === 'onStatus') {
      const info = (cmd.args[0] ?? {}) as Amf0Object;
      const code = String(info.code ?? '');
      if (code === 'NetStream.Play.Start' && this.#step === 'play') {
        this.#step = 'playing';
        const ready = this.#ready;
        this.#ready = undefined;
        ready?.resolve();
      } else if (info.level === 'error' || code === 'NetStream.Play.StreamNotFound') {
        throw new Error(`play failed: ${code} ${String(info.description ?? '')}`);
      }
    }
  }
}
