import { RefusedError } from '../../engine/errors.js';
import { encodeAmf0 } from '../../media/amf0/amf0-encoder.js';
import type { Amf0Value } from '../../media/amf0/types.js';
import {
  CSID_AUDIO,
  CSID_DATA,
  CSID_VIDEO,
  MSG_ACKNOWLEDGEMENT,
  MSG_AGGREGATE,
  MSG_AUDIO,
  MSG_COMMAND_AMF0,
  MSG_COMMAND_AMF3,
  MSG_DATA_AMF0,
  MSG_DATA_AMF3,
  MSG_SET_PEER_BANDWIDTH,
  MSG_USER_CONTROL,
  MSG_VIDEO,
  MSG_WINDOW_ACK_SIZE,
  PEER_BW_DYNAMIC,
  UC_PING_REQUEST,
  UC_PING_RESPONSE,
  UC_STREAM_BEGIN,
  UC_STREAM_EOF,
} from './constants.js';
import { RtmpProtocolError } from './errors.js';
import { commandMessage, decodeCommand, type RtmpCommand } from './message/command-message.js';
import {
  acknowledgementMessage,
  decodeU32,
  setChunkSizeMessage,
  setPeerBandwidthMessage,
  windowAckSizeMessage,
} from './message/control-message.js';
import { dataMessage, decodeData } from './message/data-message.js';
import { onStatusMessage, STATUS } from './message/status.js';
import { decodeUserControl, userControlMessage } from './message/user-control.js';
import type { RtmpLimits, RtmpMessage } from './types.js';
import { splitQuery } from './url.js';

/** Most message streams (createStream) one connection may hold. */
export const MAX_STREAMS_PER_CONNECTION = 8;

/** What a client asked to publish or play, with everything auth and domain checks need. */
export interface RtmpStreamRequest {
  readonly kind: 'publish' | 'play';
  /** Application from connect, without query (e.g. `live`). */
  readonly app: string;
  /** Stream name without query (e.g. `cam1`). */
  readonly name: string;
  /** Query parameters of the stream name, over those of the app and tcUrl (`auth_key`, `domain`). */
  readonly query: Readonly<Record<string, string>>;
  /** Host named by the client's tcUrl (the domain, unless it is an IP or localhost). */
  readonly host: string;
  readonly tcUrl: string;
  /** Message stream id the client uses for it. */
  readonly streamId: number;
  /** publish: `live`, `record` or `append`. */
  readonly publishType?: string;
  /** The URI that `auth_key` signs: `/{app}/{name}`. */
  readonly uri: string;
}

/** A media or data message of a publisher, timestamps unwrapped past 32 bits. */
export interface RtmpMediaMessage {
  /** 8 audio, 9 video, 18 data (AMF0 script body, `@setDataFrame` removed). */
  readonly typeId: 8 | 9 | 18;
  /** Milliseconds on the publisher's timeline, unwrapped (may exceed 2^32). */
  readonly timestamp: number;
  /** The FLV tag body: a view, never rewritten by this stack. */
  readonly payload: Uint8Array;
  /** Data messages: the handler name (`onMetaData`, `onTextData`…). */
  readonly name?: string;
  /** Data messages: the decoded values after the name. */
  readonly values?: readonly Amf0Value[];
}

/** Where the session sends its decisions. The connection implements it; tests record it. */
export interface RtmpSessionOutput {
  /** Write a message (a Set Chunk Size among them changes the writer's chunk size after it). */
  send(msg: RtmpMessage): void;
  /** Ask to publish; answer with acceptPublish()/refuse(). */
  requestPublish(req: RtmpStreamRequest): void;
  /** Ask to play; answer with acceptPlay()/refuse(). */
  requestPlay(req: RtmpStreamRequest): void;
  /** Media of an accepted publish. */
  media(streamId: number, msg: RtmpMediaMessage): void;
  /** A publish or play ended by the client (deleteStream, closeStream, FCUnpublish). */
  stopped(streamId: number, kind: 'publish' | 'play', reason: string): void;
  /** The session wants the connection closed after what was sent (a refused request). */
  end(reason: string): void;
}

interface UsedStream {
  state: 'pending' | 'active';
  readonly kind: 'publish' | 'play';
  readonly req: RtmpStreamRequest;
  /** Timestamp unwrapping: 2^32 multiples passed, last 32-bit value. */
  epoch: number;
  last: number;
}

type StreamState = { state: 'idle' } | UsedStream;

/**
 * Server side of one RTMP connection after the handshake, socket-free (7.2):
 * connect → createStream → publish | play → deleteStream. Decoded messages go in through
 * `handle()`, decisions come out through `RtmpSessionOutput`. Hooks answer asynchronously
 * through acceptPublish/acceptPlay/refuse.
 *
 * @throws RtmpProtocolError (from handle) on malformed messages: the caller closes the connection.
 */
export class RtmpServerSession {
  readonly #out: RtmpSessionOutput;
  readonly #limits: Pick<RtmpLimits, 'outChunkSize' | 'windowAckSize'>;
  #connected = false;
  #app = '';
  #appQuery: Record<string, string> = {};
  #tcUrl = '';
  #host = '';
  #objectEncoding = 0;
  #nextStreamId = 1;
  readonly #streams = new Map<number, StreamState>();
  #peerWindow = 0;
  #lastAck = 0;
  /** Media messages of unknown or inactive streams: counted, not logged one by one. */
  droppedMessages = 0;

  constructor(out: RtmpSessionOutput, limits: Pick<RtmpLimits, 'outChunkSize' | 'windowAckSize'>) {
    this.#out = out;
    this.#limits = limits;
  }

  get app(): string {
    return this.#app;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Active or pending publish/play requests, by message stream id. */
  activeStreams(): Array<{
    streamId: number;
    kind: 'publish' | 'play';
    req: RtmpStreamRequest;
    active: boolean;
  }> {
    const list: Array<{
      streamId: number;
      kind: 'publish' | 'play';
      req: RtmpStreamRequest;
      active: boolean;
    }> = [];
    for (const [streamId, st] of this.#streams) {
      if (st.state !== 'idle')
        list.push({ streamId, kind: st.kind, req: st.req, active: st.state === 'active' });
    }
    return list;
  }

  /** Called by the connection after each read with the reader's byte count: sends Acknowledgements (5.4.3). */
  bytesReceived(total: number): void {
    if (this.#peerWindow > 0 && total - this.#lastAck >= this.#peerWindow) {
      this.#lastAck = total;
      this.#out.send(acknowledgementMessage(total));
    }
  }

  handle(msg: RtmpMessage): void {
    switch (msg.typeId) {
      case MSG_AUDIO:
      case MSG_VIDEO: {
        this.#media(msg.streamId, msg.typeId, msg.timestamp, msg.payload);
        return;
      }
      case MSG_DATA_AMF0:
      case MSG_DATA_AMF3: {
        this.#data(msg);
        return;
      }
      case MSG_COMMAND_AMF0:
      case MSG_COMMAND_AMF3: {
        this.#command(msg.streamId, decodeCommand(msg));
        return;
      }
      case MSG_AGGREGATE: {
        this.#aggregate(msg);
        return;
      }
      case MSG_USER_CONTROL: {
        const uc = decodeUserControl(msg.payload);
        if (uc.event === UC_PING_REQUEST) this.#out.send(userControlMessage(UC_PING_RESPONSE, uc.value));
        return;
      }
      case MSG_WINDOW_ACK_SIZE: {
        this.#peerWindow = decodeU32(msg.payload, 'Window Acknowledgement Size');
        return;
      }
      case MSG_ACKNOWLEDGEMENT:
      case MSG_SET_PEER_BANDWIDTH: {
        return;
      }
      default: {
        // Set Chunk Size and Abort were applied by the reader; shared objects are not supported.
        return;
      }
    }
  }

  #activeStream(streamId: number, kind: 'publish' | 'play'): UsedStream | undefined {
    const st = this.#streams.get(streamId);
    return st !== undefined && st.state === 'active' && st.kind === kind ? st : undefined;
  }

  #media(streamId: number, typeId: 8 | 9, timestamp: number, payload: Uint8Array): void {
    const st = this.#activeStream(streamId, 'publish');
    if (st === undefined) {
      this.droppedMessages++;
      return;
    }
    this.#out.media(streamId, { typeId, timestamp: unwrap(st, timestamp), payload });
  }

  #data(msg: RtmpMessage): void {
    const st = this.#activeStream(msg.streamId, 'publish');
    if (st === undefined) {
      this.droppedMessages++;
      return;
    }
    const data = decodeData(msg);
    if (data.name === '@clearDataFrame') return;
    this.#out.media(msg.streamId, {
      typeId: 18,
      timestamp: unwrap(st, msg.timestamp),
      payload: data.body,
      name: data.name,
      values: data.values,
    });
  }

  /**
   * Aggregate message (7.1.6): FLV tags back to back, each followed by its 4-byte back pointer.
   *   | type(1) | size(3) | timestamp(3) | ts ext(1) | stream id(3) | body(size) | back pointer(4) |
   * Sub-message timestamps are rebased on the aggregate's own timestamp.
   */
  #aggregate(msg: RtmpMessage): void {
    const buf = msg.payload;
    let p = 0;
    let base: number | undefined;
    while (p + 11 <= buf.length) {
      const type = buf[p];
      const size = (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3];
      const ts = ((buf[p + 7] << 24) | (buf[p + 4] << 16) | (buf[p + 5] << 8) | buf[p + 6]) >>> 0;
      if (p + 11 + size > buf.length)
        throw new RtmpProtocolError('RTS_ERR_RTMP_MESSAGE', 'aggregate tag overruns');
      base ??= ts;
      const body = buf.subarray(p + 11, p + 11 + size);
      const timestamp = (msg.timestamp + (ts - base)) >>> 0;
      if (type === MSG_AUDIO || type === MSG_VIDEO) this.#media(msg.streamId, type, timestamp, body);
      else if (type === MSG_DATA_AMF0)
        this.#data({ ...msg, typeId: MSG_DATA_AMF0, timestamp, payload: body });
      p += 11 + size + 4;
    }
  }

  #command(streamId: number, cmd: RtmpCommand): void {
    if (!this.#connected && cmd.name !== 'connect') {
      throw new RtmpProtocolError('RTS_ERR_RTMP_COMMAND', `${cmd.name} before connect`);
    }
    switch (cmd.name) {
      case 'connect': {
        this.#connect(cmd);
        return;
      }
      case 'createStream': {
        if (this.#streams.size >= MAX_STREAMS_PER_CONNECTION) {
          this.#out.send(this.#error(cmd, STATUS.callFailed, 'too many streams on this connection'));
          return;
        }
        const id = this.#nextStreamId++;
        this.#streams.set(id, { state: 'idle' });
        this.#out.send(commandMessage(0, '_result', cmd.transactionId, null, id));
        return;
      }
      case 'publish': {
        this.#publishOrPlay(streamId, cmd, 'publish');
        return;
      }
      case 'play': {
        this.#publishOrPlay(streamId, cmd, 'play');
        return;
      }
      case 'deleteStream': {
        const id = typeof cmd.args[0] === 'number' ? cmd.args[0] : streamId;
        this.#stop(id, 'deleteStream');
        this.#streams.delete(id);
        return;
      }
      case 'closeStream': {
        this.#stop(streamId, 'closeStream');
        return;
      }
      case 'FCUnpublish': {
        const name = typeof cmd.args[0] === 'string' ? splitQuery(cmd.args[0]).path : undefined;
        for (const [id, st] of this.#streams) {
          if (st.state !== 'idle' && st.kind === 'publish' && (name === undefined || st.req.name === name)) {
            this.#stop(id, 'FCUnpublish');
          }
        }
        if (cmd.transactionId > 0) this.#out.send(commandMessage(0, '_result', cmd.transactionId, null));
        return;
      }
      case 'releaseStream':
      case 'FCPublish':
      case 'FCSubscribe':
      case '_checkbw': {
        if (cmd.transactionId > 0) this.#out.send(commandMessage(0, '_result', cmd.transactionId, null));
        return;
      }
      case 'getStreamLength': {
        // Live streams have no length; ffmpeg asks before play and accepts 0.
        this.#out.send(commandMessage(0, '_result', cmd.transactionId, null, 0));
        return;
      }
      case 'pause':
      case 'receiveAudio':
      case 'receiveVideo':
      case 'seek':
      case '_result':
      case '_error':
      case 'onBWDone':
      case 'onStatus': {
        return;
      }
      default: {
        if (cmd.transactionId > 0) {
          this.#out.send(this.#error(cmd, STATUS.callFailed, `unknown command ${cmd.name}`));
        }
        return;
      }
    }
  }

  #error(cmd: RtmpCommand, code: string, description: string): RtmpMessage {
    return commandMessage(0, '_error', cmd.transactionId, null, { level: 'error', code, description });
  }

  #connect(cmd: RtmpCommand): void {
    if (this.#connected) throw new RtmpProtocolError('RTS_ERR_RTMP_COMMAND', 'second connect');
    const obj = cmd.commandObject ?? {};
    const app = typeof obj.app === 'string' ? obj.app : '';
    const tcUrl = typeof obj.tcUrl === 'string' ? obj.tcUrl : '';
    const appParts = splitQuery(app.replace(/^\/+|\/+$/g, ''));
    this.#app = appParts.path;
    let tcQuery: Record<string, string> = {};
    let host = '';
    try {
      const u = new URL(tcUrl);
      host = u.hostname.replace(/^\[|\]$/g, '');
      tcQuery = splitQuery(u.search).query;
    } catch {
      // A missing or odd tcUrl: the host stays empty and the domain comes from `domain=` or the default.
    }
    this.#appQuery = { ...tcQuery, ...appParts.query };
    this.#tcUrl = tcUrl;
    this.#host = host;
    this.#objectEncoding = typeof obj.objectEncoding === 'number' ? obj.objectEncoding : 0;
    this.#connected = true;
    const out = this.#out;
    out.send(windowAckSizeMessage(this.#limits.windowAckSize));
    out.send(setPeerBandwidthMessage(this.#limits.windowAckSize, PEER_BW_DYNAMIC));
    out.send(setChunkSizeMessage(this.#limits.outChunkSize));
    out.send(
      commandMessage(
        0,
        '_result',
        cmd.transactionId,
        { fmsVer: 'FMS/3,0,1,123', capabilities: 31 },
        {
          level: 'status',
          code: STATUS.connectSuccess,
          description: 'Connection succeeded.',
          objectEncoding: this.#objectEncoding,
        },
      ),
    );
  }

  #publishOrPlay(streamId: number, cmd: RtmpCommand, kind: 'publish' | 'play'): void {
    const rawName = cmd.args[0];
    if (typeof rawName !== 'string' || rawName === '') {
      this.#out.send(
        onStatusMessage(
          streamId,
          'error',
          kind === 'publish' ? STATUS.publishBadName : STATUS.playStreamNotFound,
          'missing stream name',
        ),
      );
      this.#out.end(`${kind} without a stream name`);
      return;
    }
    let st = this.#streams.get(streamId);
    if (st === undefined) {
      // Some clients publish on a stream id they never created; accept it within the bound.
      if (streamId === 0 || this.#streams.size >= MAX_STREAMS_PER_CONNECTION) {
        throw new RtmpProtocolError('RTS_ERR_RTMP_COMMAND', `${kind} on unknown message stream ${streamId}`);
      }
      st = { state: 'idle' };
      this.#streams.set(streamId, st);
    }
    if (st.state !== 'idle') {
      throw new RtmpProtocolError(
        'RTS_ERR_RTMP_COMMAND',
        `${kind} on message stream ${streamId} already in use`,
      );
    }
    const { path, query } = splitQuery(rawName);
    const req: RtmpStreamRequest = {
      kind,
      app: this.#app,
      name: path,
      query: { ...this.#appQuery, ...query },
      host: this.#host,
      tcUrl: this.#tcUrl,
      streamId,
      publishType: kind === 'publish' && typeof cmd.args[1] === 'string' ? cmd.args[1] : undefined,
      uri: `/${this.#app}/${path}`,
    };
    this.#streams.set(streamId, { state: 'pending', kind, req, epoch: 0, last: 0 });
    if (kind === 'publish') this.#out.requestPublish(req);
    else this.#out.requestPlay(req);
  }

  /** The publish hook agreed: Stream Begin, then NetStream.Publish.Start. */
  acceptPublish(streamId: number): void {
    const st = this.#pending(streamId, 'publish');
    if (st === undefined) return;
    st.state = 'active';
    this.#out.send(userControlMessage(UC_STREAM_BEGIN, streamId));
    this.#out.send(
      onStatusMessage(streamId, 'status', STATUS.publishStart, `${st.req.name} is now published.`),
    );
  }

  /**
   * The play hook agreed: Stream Begin, Play.Reset, Play.Start, |RtmpSampleAccess. (No Data.Start:
   * ffmpeg would turn that data message into an extra, undecodable stream.)
   * Media may be written right after this returns.
   */
  acceptPlay(streamId: number): void {
    const st = this.#pending(streamId, 'play');
    if (st === undefined) return;
    st.state = 'active';
    const name = st.req.name;
    const out = this.#out;
    out.send(userControlMessage(UC_STREAM_BEGIN, streamId));
    out.send(onStatusMessage(streamId, 'status', STATUS.playReset, `Playing and resetting ${name}.`));
    out.send(onStatusMessage(streamId, 'status', STATUS.playStart, `Started playing ${name}.`));
    out.send(dataMessage(streamId, encodeAmf0('|RtmpSampleAccess', true, true)));
  }

  /**
   * A hook refused: the error status the client expects, then the connection ends.
   * RefusedError status 409 → Publish.BadName, 404 → Play.StreamNotFound; other errors →
   * Publish.Denied / Play.Failed (Play.StreamNotFound for 404).
   */
  refuse(streamId: number, err: unknown): void {
    const st = this.#streams.get(streamId);
    if (st === undefined || st.state !== 'pending') return;
    this.#streams.set(streamId, { state: 'idle' });
    const { code, description } = rtmpStatusForError(st.kind, err);
    this.#out.send(onStatusMessage(streamId, 'error', code, description));
    this.#out.end(`${st.kind} ${st.req.app}/${st.req.name} refused: ${description}`);
  }

  /** The stream being played ended (its publisher left): UnpublishNotify, Stream EOF. */
  playEnded(streamId: number, reason = 'stream unpublished'): void {
    const st = this.#activeStream(streamId, 'play');
    if (st === undefined) return;
    this.#out.send(onStatusMessage(streamId, 'status', STATUS.playUnpublishNotify, reason));
    this.#out.send(userControlMessage(UC_STREAM_EOF, streamId));
  }

  #pending(
    streamId: number,
    kind: 'publish' | 'play',
  ): (StreamState & { state: 'pending' | 'active' }) | undefined {
    const st = this.#streams.get(streamId);
    return st !== undefined && st.state === 'pending' && st.kind === kind ? st : undefined;
  }

  #stop(streamId: number, reason: string): void {
    const st = this.#streams.get(streamId);
    if (st === undefined || st.state === 'idle') return;
    const wasActive = st.state === 'active';
    this.#streams.set(streamId, { state: 'idle' });
    if (st.kind === 'publish' && wasActive) {
      this.#out.send(
        onStatusMessage(streamId, 'status', STATUS.unpublishSuccess, `${st.req.name} is now unpublished.`),
      );
    }
    this.#out.stopped(streamId, st.kind, reason);
  }
}

/** Unwraps a 32-bit RTMP timestamp on a stream's timeline (tolerates small backward steps). */
function unwrap(st: { epoch: number; last: number }, ts: number): number {
  if (ts < st.last && st.last - ts > 0x80000000) st.epoch += 0x100000000;
  else if (ts > st.last && ts - st.last > 0x80000000 && st.epoch > 0) return st.epoch - 0x100000000 + ts;
  st.last = ts;
  return st.epoch + ts;
}

/** The onStatus code and description for a refused publish/play. */
export function rtmpStatusForError(
  kind: 'publish' | 'play',
  err: unknown,
): { code: string; description: string } {
  const description = err instanceof Error ? err.message : String(err);
  const explicit = (err as { rtmpStatus?: unknown } | null)?.rtmpStatus;
  if (typeof explicit === 'string') return { code: explicit, description };
  const status = err instanceof RefusedError ? err.status : undefined;
  if (kind === 'publish') {
    return { code: status === 409 ? STATUS.publishBadName : STATUS.publishDenied, description };
  }
  if (status === 404) return { code: STATUS.playStreamNotFound, description };
  return { code: STATUS.playFailed, description };
}

/** Chunk stream used for a media message type when writing to players. */
export function csidForType(typeId: number): number {
  return typeId === MSG_AUDIO ? CSID_AUDIO : typeId === MSG_VIDEO ? CSID_VIDEO : CSID_DATA;
}
