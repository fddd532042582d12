import { RefusedError } from '../../../engine/errors.js';
import {
  encodeMediaChunks,
  type RtmpMediaMessage,
  type RtmpPlayer,
  type RtmpPlayHandle,
  type RtmpPublishHandle,
  type RtmpServerConnection,
  type RtmpServerHandler,
  type RtmpStreamRequest,
} from '../../../transports/rtmp/index.js';

/** A stored message with its chunks, built once and shared by every player (same stream id + chunk size). */
interface Stored {
  msg: RtmpMediaMessage;
  chunks?: { key: string; parts: Uint8Array[] };
}

interface RelayStream {
  players: Set<RtmpPlayer>;
  metadata?: Stored;
  videoConfig?: Stored;
  audioConfig?: Stored;
  gop: Stored[];
  publisher: RtmpServerConnection;
}

function chunksOf(s: Stored, player: RtmpPlayer): Uint8Array[] {
  const key = `${player.streamId}/${player.chunkSize}`;
  if (s.chunks?.key !== key) {
    s.chunks = {
      key,
      parts: encodeMediaChunks(
        s.msg.typeId,
        s.msg.timestamp,
        s.msg.payload,
        player.streamId,
        player.chunkSize,
      ),
    };
  }
  return s.chunks.parts;
}

/**
 * The smallest stream registry that lets RTMP tests run a real publish → play path without the
 * engine's actors: GOP cache, codec headers first, one chunk encoding per message shared by players.
 */
export class MiniRelay implements RtmpServerHandler {
  readonly streams = new Map<string, RelayStream>();
  readonly requests: RtmpStreamRequest[] = [];
  /** Set to refuse requests (auth tests). */
  refuse?: (req: RtmpStreamRequest) => Error | undefined;

  onPublish(req: RtmpStreamRequest, conn: RtmpServerConnection): RtmpPublishHandle {
    this.requests.push(req);
    const refusal = this.refuse?.(req);
    if (refusal !== undefined) throw refusal;
    const key = `${req.app}/${req.name}`;
    if (this.streams.has(key))
      throw new RefusedError('RTS_ERR_STREAM_BUSY', `${key} is already published`, 409);
    const s: RelayStream = { players: new Set(), gop: [], publisher: conn };
    this.streams.set(key, s);
    return {
      media: (msg) => {
        const stored: Stored = { msg };
        const p = msg.payload;
        if (msg.typeId === 18) {
          if (msg.name === 'onMetaData') s.metadata = stored;
        } else if (msg.typeId === 9 && p.length >= 2 && (p[0] & 0x0f) === 7 && p[1] === 0) {
          s.videoConfig = stored;
          return this.#fanout(s, stored);
        } else if (msg.typeId === 8 && p.length >= 2 && p[0] >> 4 === 10 && p[1] === 0) {
          s.audioConfig = stored;
          return this.#fanout(s, stored);
        } else {
          if (msg.typeId === 9 && p[0] >> 4 === 1) s.gop = [];
          s.gop.push(stored);
        }
        this.#fanout(s, stored);
      },
      stop: () => {
        this.streams.delete(key);
        for (const player of s.players) player.end();
      },
    };
  }

  #fanout(s: RelayStream, stored: Stored): void {
    for (const player of s.players) player.sendChunks(chunksOf(stored, player));
  }

  onPlay(req: RtmpStreamRequest, player: RtmpPlayer): RtmpPlayHandle {
    this.requests.push(req);
    const refusal = this.refuse?.(req);
    if (refusal !== undefined) throw refusal;
    const key = `${req.app}/${req.name}`;
    const s = this.streams.get(key);
    if (s === undefined) throw new RefusedError('RTS_ERR_NOT_FOUND', `${key} is not published`, 404);
    return {
      start: () => {
        for (const st of [s.metadata, s.videoConfig, s.audioConfig, ...s.gop]) {
          if (st !== undefined) player.sendChunks(chunksOf(st, player));
        }
        s.players.add(player);
      },
      stop: () => {
        s.players.delete(player);
      },
    };
  }
}
