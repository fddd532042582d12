import { DEFAULT_CHUNK_SIZE, MSG_ABORT, MSG_SET_CHUNK_SIZE } from '../constants.js';
import { RtmpProtocolError } from '../errors.js';
import type { RtmpLimits, RtmpMessage } from '../types.js';

/** Largest chunk header: 3-byte basic header + 11-byte type 0 header + 4-byte extended timestamp. */
export const MAX_CHUNK_HEADER_SIZE = 18;

interface ChunkStream {
  readonly csid: number;
  /** A type 0/1/2 header has been seen (type 3 needs one). */
  hasHeader: boolean;
  /** Absolute timestamp of the current/last message. */
  timestamp: number;
  /** Last timestamp field: absolute after type 0, delta after type 1/2; what a new type 3 message adds. */
  timestampField: number;
  /** The last type 0/1/2 header carried an extended timestamp: type 3 chunks repeat it (5.3.1.3). */
  extended: boolean;
  length: number;
  typeId: number;
  streamId: number;
  /** Message being assembled across chunks, or undefined. */
  message: Uint8Array | undefined;
  filled: number;
}

export type ChunkReaderLimits = Pick<
  RtmpLimits,
  'maxMessageSize' | 'maxChunkSize' | 'maxChunkStreams' | 'maxPendingBytes'
>;

/**
 * Push-based RTMP chunk stream parser (5.3).
 *
 *   basic header (1-3) | message header (11, 7, 3 or 0) | [extended timestamp (4)] | chunk data
 *    fmt(2) csid(6)      type 0: timestamp(3) length(3) type(1) stream id(4, LE)
 *                        type 1: delta(3) length(3) type(1)   type 2: delta(3)   type 3: none
 *
 * `push()` consumes what it can. A message wholly inside one chunk of one read is handed out as a
 * view of that read; a message spanning chunks or reads is assembled into one buffer allocated at
 * its first chunk (its length is known there), so each byte is copied at most once. Only an
 * incomplete chunk header (< 18 bytes) is carried between reads. Set Chunk Size and Abort are
 * applied here, before the next chunk is parsed, and still handed out.
 *
 * @throws RtmpProtocolError (from push) on any limit or framing violation: the caller closes the connection.
 */
export class ChunkReader {
  #chunkSize = DEFAULT_CHUNK_SIZE;
  readonly #streams = new Map<number, ChunkStream>();
  readonly #limits: ChunkReaderLimits;
  readonly #onMessage: (msg: RtmpMessage) => void;
  #remainder: Uint8Array | undefined;
  /** Stream whose chunk data is being read, and bytes left in that chunk. */
  #current: ChunkStream | undefined;
  #currentLeft = 0;
  #pendingBytes = 0;
  #stopped = false;
  #bytesReceived = 0;

  // Header fields of the last parsed chunk header (no per-chunk allocation).
  #hFmt = 0;
  #hCsid = 0;
  #hTimestamp = 0;
  #hLength = 0;
  #hTypeId = 0;
  #hStreamId = 0;
  #hExtended = false;

  constructor(onMessage: (msg: RtmpMessage) => void, limits: ChunkReaderLimits) {
    this.#onMessage = onMessage;
    this.#limits = limits;
  }

  get chunkSize(): number {
    return this.#chunkSize;
  }

  /** Total bytes pushed (for Acknowledgement, 5.4.3). */
  get bytesReceived(): number {
    return this.#bytesReceived;
  }

  /** Bytes held in partially received messages. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Stops parsing (the connection is closing); later pushes are ignored. */
  stop(): void {
    this.#stopped = true;
    this.#streams.clear();
    this.#current = undefined;
    this.#remainder = undefined;
    this.#pendingBytes = 0;
  }

  push(data: Uint8Array): void {
    if (this.#stopped) return;
    this.#bytesReceived += data.length;
    const end = data.length;
    let p = 0;
    if (this.#remainder !== undefined) {
      const rem = this.#remainder;
      const tmp = new Uint8Array(rem.length + Math.min(end, MAX_CHUNK_HEADER_SIZE));
      tmp.set(rem, 0);
      tmp.set(data.subarray(0, tmp.length - rem.length), rem.length);
      const h = this.#parseHeader(tmp, 0, tmp.length);
      if (h < 0) {
        this.#remainder = tmp;
        return;
      }
      this.#remainder = undefined;
      p = h - rem.length;
      p = this.#startChunk(data, p, end);
    }
    while (!this.#stopped) {
      const st = this.#current;
      if (st !== undefined) {
        const n = Math.min(this.#currentLeft, end - p);
        const msg = st.message!;
        msg.set(n === end - p && p === 0 ? data : data.subarray(p, p + n), st.filled);
        st.filled += n;
        this.#currentLeft -= n;
        p += n;
        if (this.#currentLeft > 0) return;
        this.#current = undefined;
        if (st.filled === st.length) {
          st.message = undefined;
          this.#pendingBytes -= st.length;
          this.#deliver(st, msg);
          continue;
        }
      }
      if (p >= end) return;
      const h = this.#parseHeader(data, p, end);
      if (h < 0) {
        this.#remainder = Uint8Array.prototype.slice.call(data, p, end);
        return;
      }
      p = this.#startChunk(data, p + h, end);
    }
  }

  /** Parses a chunk header at `p`; returns its size, or -1 if `buf` ends before it does. */
  #parseHeader(buf: Uint8Array, p: number, end: number): number {
    const start = p;
    if (p >= end) return -1;
    const b0 = buf[p++];
    const fmt = b0 >>> 6;
    let csid = b0 & 0x3f;
    if (csid === 0) {
      if (p + 1 > end) return -1;
      csid = 64 + buf[p++];
    } else if (csid === 1) {
      if (p + 2 > end) return -1;
      csid = 64 + buf[p] + (buf[p + 1] << 8);
      p += 2;
    }
    let tsField = 0;
    if (fmt <= 2) {
      if (p + 3 > end) return -1;
      tsField = (buf[p] << 16) | (buf[p + 1] << 8) | buf[p + 2];
      p += 3;
      if (fmt <= 1) {
        if (p + 4 > end) return -1;
        this.#hLength = (buf[p] << 16) | (buf[p + 1] << 8) | buf[p + 2];
        this.#hTypeId = buf[p + 3];
        p += 4;
        if (fmt === 0) {
          if (p + 4 > end) return -1;
          this.#hStreamId = (buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24)) >>> 0;
          p += 4;
        }
      }
    }
    let extended: boolean;
    if (fmt <= 2) {
      extended = tsField === 0xffffff;
    } else {
      const st = this.#streams.get(csid);
      extended = st?.extended === true;
    }
    if (extended) {
      if (p + 4 > end) return -1;
      tsField = ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
      p += 4;
    }
    this.#hFmt = fmt;
    this.#hCsid = csid;
    this.#hTimestamp = tsField;
    this.#hExtended = extended;
    return p - start;
  }

  #stream(csid: number): ChunkStream {
    let st = this.#streams.get(csid);
    if (st === undefined) {
      if (this.#streams.size >= this.#limits.maxChunkStreams) {
        throw new RtmpProtocolError(
          'RTS_ERR_RTMP_TOO_MANY_CHUNK_STREAMS',
          `more than ${this.#limits.maxChunkStreams} chunk streams`,
        );
      }
      st = {
        csid,
        hasHeader: false,
        timestamp: 0,
        timestampField: 0,
        extended: false,
        length: 0,
        typeId: 0,
        streamId: 0,
        message: undefined,
        filled: 0,
      };
      this.#streams.set(csid, st);
    }
    return st;
  }

  /** Applies the parsed header; delivers or starts assembling the chunk data at `p`. Returns the new offset. */
  #startChunk(data: Uint8Array, p: number, end: number): number {
    const fmt = this.#hFmt;
    const st = this.#stream(this.#hCsid);
    if (fmt === 3) {
      if (!st.hasHeader) {
        throw new RtmpProtocolError(
          'RTS_ERR_RTMP_CHUNK',
          `type 3 chunk on chunk stream ${st.csid} without a header`,
        );
      }
      if (st.message === undefined) {
        // A new message with the previous header (5.3.1.2.4): the last timestamp field is added again.
        st.timestamp = (st.timestamp + st.timestampField) >>> 0;
      }
    } else {
      if (st.message !== undefined) {
        // A new header before the last message was complete: the sender gave up on it.
        this.#pendingBytes -= st.length;
        st.message = undefined;
      }
      st.extended = this.#hExtended;
      st.timestampField = this.#hTimestamp;
      if (fmt === 0) {
        st.timestamp = this.#hTimestamp;
        st.streamId = this.#hStreamId;
      } else {
        if (!st.hasHeader && fmt === 2) {
          throw new RtmpProtocolError(
            'RTS_ERR_RTMP_CHUNK',
            `type 2 chunk on chunk stream ${st.csid} without a header`,
          );
        }
        st.timestamp = (st.timestamp + this.#hTimestamp) >>> 0;
      }
      if (fmt <= 1) {
        if (this.#hLength > this.#limits.maxMessageSize) {
          throw new RtmpProtocolError(
            'RTS_ERR_RTMP_MESSAGE_TOO_LARGE',
            `message of ${this.#hLength} bytes over the limit of ${this.#limits.maxMessageSize}`,
          );
        }
        st.length = this.#hLength;
        st.typeId = this.#hTypeId;
      }
      st.hasHeader = true;
    }
    if (st.message === undefined) {
      st.filled = 0;
      if (st.length <= this.#chunkSize && end - p >= st.length) {
        // The whole message is in this chunk and this read: hand out a view.
        this.#deliver(st, data.subarray(p, p + st.length));
        return p + st.length;
      }
      if (this.#pendingBytes + st.length > this.#limits.maxPendingBytes) {
        throw new RtmpProtocolError(
          'RTS_ERR_RTMP_MESSAGE_TOO_LARGE',
          `partial messages over the limit of ${this.#limits.maxPendingBytes} bytes`,
        );
      }
      st.message = Buffer.allocUnsafe(st.length);
      this.#pendingBytes += st.length;
    }
    this.#current = st;
    this.#currentLeft = Math.min(this.#chunkSize, st.length - st.filled);
    return p;
  }

  #deliver(st: ChunkStream, payload: Uint8Array): void {
    const typeId = st.typeId;
    if (st.streamId === 0 && typeId === MSG_SET_CHUNK_SIZE) this.#applySetChunkSize(payload);
    else if (st.streamId === 0 && typeId === MSG_ABORT) this.#applyAbort(payload);
    this.#onMessage({ typeId, streamId: st.streamId, timestamp: st.timestamp, payload, csid: st.csid });
  }

  #applySetChunkSize(payload: Uint8Array): void {
    if (payload.length < 4)
      throw new RtmpProtocolError('RTS_ERR_RTMP_MESSAGE', 'Set Chunk Size shorter than 4 bytes');
    const size = ((payload[0] << 24) | (payload[1] << 16) | (payload[2] << 8) | payload[3]) >>> 0;
    if (size < 1 || size > 0x7fffffff) {
      throw new RtmpProtocolError('RTS_ERR_RTMP_CHUNK', `invalid chunk size ${size}`);
    }
    if (size > this.#limits.maxChunkSize) {
      throw new RtmpProtocolError(
        'RTS_ERR_RTMP_CHUNK_TOO_LARGE',
        `chunk size ${size} over the limit of ${this.#limits.maxChunkSize}`,
      );
    }
    this.#chunkSize = size;
  }

  #applyAbort(payload: Uint8Array): void {
    if (payload.length < 4) throw new RtmpProtocolError('RTS_ERR_RTMP_MESSAGE', 'Abort shorter than 4 bytes');
    const csid = ((payload[0] << 24) | (payload[1] << 16) | (payload[2] << 8) | payload[3]) >>> 0;
    const st = this.#streams.get(csid);
    if (st?.message !== undefined) {
      this.#pendingBytes -= st.length;
      st.message = undefined;
      if (this.#current === st) this.#current = undefined;
    }
  }
}
