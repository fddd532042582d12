import { flvTagTypeOf, type MediaFrame } from '../../media/frame/media-frame.js';
import { encodeMediaChunks } from '../rtmp/connection.js';

/**
 * The bytes every TCP egress format puts around a frame's body, built once per frame per stream
 * (lazily, on the first player that needs them) and shared by every player:
 *
 * ```
 * FLV tag   : [type:8][dataSize:24][ts:24][tsExt:8][streamId:24=0] body [prevTagSize:32]   (FLV spec E.4.1)
 * WS-FLV    : [FIN|binary][len…] + the FLV tag above                                        (RFC 6455 5.2)
 * RTMP      : fmt 0 chunk header [fmt|csid][ts:24][len:24][type:8][msid:32LE][extTs:32] body  (RTMP 5.3.1)
 * ```
 * RTMP messages go out as one chunk (the node announces a chunk size above the largest message).
 *
 * What a player writes is one contiguous buffer per format, built here once per frame per stream
 * (header bytes + one copy of the body + trailer) and written by every player of that format:
 * measured on this machine, one `write()` of a shared buffer per player costs less CPU than a
 * corked `writev` of [header, ring view, trailer] per player (Node's writev path allocates per
 * chunk and per player), and the per-stream copy is paid once, not per player. See BENCHMARKS.md.
 */
export interface WireUnit {
  flvHttpBytes(): Buffer;
  wsFlvBytes(): Buffer;
  rtmpBytes(streamId: number, chunkSize: number): Buffer;
}

export class FrameWire implements WireUnit {
  private flv?: Buffer;
  private ws?: Buffer;
  private rtmp?: Uint8Array[];
  private rtmpKey = -1;
  private chunkPrefix?: Buffer;
  private chunkSuffix?: Buffer;
  private flvHttp?: Buffer;
  private wsFlv?: Buffer;
  private rtmpAll?: Buffer;
  private rtmpAllKey = -1;
  constructor(readonly frame: MediaFrame) {}

  /** The whole HTTP chunk of this frame's FLV tag. */
  flvHttpBytes(): Buffer {
    this.flvHttp ??= Buffer.concat([this.httpChunkPrefix(), this.frame.body, this.httpChunkSuffix()]);
    return this.flvHttp;
  }

  /** The whole WebSocket message of this frame's FLV tag. */
  wsFlvBytes(): Buffer {
    if (!this.wsFlv) {
      const h = this.flvHeaderAndTrailer();
      this.wsFlv = Buffer.concat([this.wsHeader(), h.subarray(0, 11), this.frame.body, h.subarray(11)]);
    }
    return this.wsFlv;
  }

  /** All RTMP chunks of this frame, contiguous. */
  rtmpBytes(streamId: number, chunkSize: number): Buffer {
    const key = streamId * 0x1000000 + chunkSize;
    if (!this.rtmpAll || this.rtmpAllKey !== key) {
      this.rtmpAll = Buffer.concat(this.rtmpChunks(streamId, chunkSize));
      this.rtmpAllKey = key;
    }
    return this.rtmpAll;
  }

  /** 11-byte FLV tag header followed by the 4-byte PreviousTagSize (subarray(0, 11) / subarray(11)). */
  flvHeaderAndTrailer(): Buffer {
    if (this.flv) return this.flv;
    const f = this.frame;
    const size = f.body.length;
    const ts = Math.floor(f.dts) >>> 0;
    const b = Buffer.allocUnsafe(15);
    b[0] = flvTagTypeOf(f.kind);
    b.writeUIntBE(size, 1, 3);
    b.writeUIntBE(ts & 0xffffff, 4, 3);
    b[7] = (ts >>> 24) & 0xff;
    b[8] = 0;
    b[9] = 0;
    b[10] = 0;
    b.writeUInt32BE(size + 11, 11);
    this.flv = b;
    return b;
  }

  /** HTTP/1.1 chunked encoding around one FLV tag: `{size hex}\r\n` + tag header, body, PreviousTagSize + `\r\n`. */
  httpChunkPrefix(): Buffer {
    if (this.chunkPrefix) return this.chunkPrefix;
    const hdr = this.flvHeaderAndTrailer();
    const line = Buffer.from(`${(this.frame.body.length + 15).toString(16)}\r\n`, 'latin1');
    this.chunkPrefix = Buffer.concat([line, hdr.subarray(0, 11)]);
    return this.chunkPrefix;
  }

  httpChunkSuffix(): Buffer {
    if (this.chunkSuffix) return this.chunkSuffix;
    const hdr = this.flvHeaderAndTrailer();
    this.chunkSuffix = Buffer.concat([hdr.subarray(11), CRLF]);
    return this.chunkSuffix;
  }

  /** WebSocket binary frame header for one FLV tag (server frames are not masked). */
  wsHeader(): Buffer {
    if (this.ws) return this.ws;
    const len = this.frame.body.length + 15;
    let b: Buffer;
    if (len < 126) {
      b = Buffer.from([0x82, len]);
    } else if (len < 65536) {
      b = Buffer.allocUnsafe(4);
      b[0] = 0x82;
      b[1] = 126;
      b.writeUInt16BE(len, 2);
    } else {
      b = Buffer.allocUnsafe(10);
      b[0] = 0x82;
      b[1] = 127;
      b.writeUInt32BE(0, 2);
      b.writeUInt32BE(len, 6);
    }
    this.ws = b;
    return b;
  }

  /**
   * The RTMP chunks of this frame for players on message stream `streamId` writing with
   * `chunkSize`: header bytes and views of the body. With the node's default chunk size a media
   * message is one chunk, i.e. [header, body].
   */
  rtmpChunks(streamId: number, chunkSize: number): Uint8Array[] {
    const key = streamId * 0x1000000 + chunkSize;
    if (this.rtmp && this.rtmpKey === key) return this.rtmp;
    const f = this.frame;
    this.rtmp = encodeMediaChunks(flvTagTypeOf(f.kind), Math.floor(f.dts) >>> 0, f.body, streamId, chunkSize);
    this.rtmpKey = key;
    return this.rtmp;
  }
}

const CRLF = Buffer.from('\r\n', 'latin1');

/** `FLV` header (audio+video flags) + PreviousTagSize0. */
export function flvFileHeader(hasAudio: boolean, hasVideo: boolean): Buffer {
  const b = Buffer.from([0x46, 0x4c, 0x56, 1, 0, 0, 0, 0, 9, 0, 0, 0, 0]);
  b[4] = (hasAudio ? 4 : 0) | (hasVideo ? 1 : 0);
  return b;
}

/**
 * The frames of one fan-out (the frames of one socket read, or of a merged-write window), with
 * each format's bytes concatenated once per stream: a player in step writes the batch in one call.
 */
export class FrameBatch implements WireUnit {
  private flvHttp?: Buffer;
  private wsFlv?: Buffer;
  private rtmpAll?: Buffer;
  private rtmpAllKey = -1;
  readonly hasVideo: boolean;
  constructor(readonly frames: readonly FrameWire[]) {
    this.hasVideo = frames.some((w) => w.frame.kind === 'video');
  }

  flvHttpBytes(): Buffer {
    this.flvHttp ??= Buffer.concat(this.frames.map((w) => w.flvHttpBytes()));
    return this.flvHttp;
  }

  wsFlvBytes(): Buffer {
    this.wsFlv ??= Buffer.concat(this.frames.map((w) => w.wsFlvBytes()));
    return this.wsFlv;
  }

  rtmpBytes(streamId: number, chunkSize: number): Buffer {
    const key = streamId * 0x1000000 + chunkSize;
    if (!this.rtmpAll || this.rtmpAllKey !== key) {
      this.rtmpAll = Buffer.concat(this.frames.map((w) => w.rtmpBytes(streamId, chunkSize)));
      this.rtmpAllKey = key;
    }
    return this.rtmpAll;
  }
}
