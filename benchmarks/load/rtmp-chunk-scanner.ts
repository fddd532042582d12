/**
 * RTMP chunk stream scanner for load-test players (5.3): media messages (audio 8, video 9) are
 * never assembled: only their first payload byte is kept and they are reported when their last
 * byte arrived. Every other message (commands, control) is small and is assembled and handed out
 * whole. Set Chunk Size is applied here.
 *
 *   basic header (1-3) | message header (11, 7, 3 or 0) | [extended timestamp (4)] | chunk data
 *
 * Only a chunk header cut by a read (< 18 bytes) is carried across pushes.
 */
import type { RtmpMessage } from '../../transports/rtmp/types.js';

export type MediaCallback = (typeId: number, timestamp: number, length: number, firstByte: number) => void;

export class RtmpScanError extends Error {
  override name = 'RtmpScanError';
}

/** Largest non-media message assembled (commands and control are far smaller). */
export const MAX_CONTROL_MESSAGE = 1024 * 1024;
const MAX_HEADER = 18;
const MAX_STREAMS = 64;

interface Stream {
  csid: number;
  timestamp: number;
  /** Absolute after type 0, delta after type 1/2: what a new type 3 message adds. */
  timestampField: number;
  extended: boolean;
  hasHeader: boolean;
  length: number;
  typeId: number;
  streamId: number;
  filled: number;
  firstByte: number;
  payload: Uint8Array | undefined;
}

export class RtmpChunkScanner {
  readonly #onMedia: MediaCallback;
  readonly #onMessage: (msg: RtmpMessage) => void;
  readonly #streams = new Map<number, Stream>();
  readonly #hdr = new Uint8Array(MAX_HEADER * 2);
  #hdrLen = 0;
  #chunkSize = 128;
  #current: Stream | undefined;
  #left = 0;
  bytesReceived = 0;

  constructor(onMedia: MediaCallback, onMessage: (msg: RtmpMessage) => void) {
    this.#onMedia = onMedia;
    this.#onMessage = onMessage;
  }

  get chunkSize(): number {
    return this.#chunkSize;
  }

  push(data: Uint8Array): void {
    const end = data.length;
    this.bytesReceived += end;
    let p = 0;
    while (p < end) {
      if (this.#current === undefined) {
        if (this.#hdrLen === 0) {
          const used = this.#parseHeader(data, p, end);
          if (used < 0) {
            this.#hdr.set(data.subarray(p, end), 0);
            this.#hdrLen = end - p;
            return;
          }
          p += used;
        } else {
          const old = this.#hdrLen;
          const add = Math.min(MAX_HEADER, end - p);
          this.#hdr.set(data.subarray(p, p + add), old);
          const used = this.#parseHeader(this.#hdr, 0, old + add);
          if (used < 0) {
            this.#hdrLen = old + add;
            return;
          }
          this.#hdrLen = 0;
          p += used - old;
        }
        continue;
      }
      const st = this.#current;
      const n = Math.min(this.#left, end - p);
      if (n > 0) {
        if (st.payload !== undefined) st.payload.set(data.subarray(p, p + n), st.filled);
        else if (st.filled === 0) st.firstByte = data[p];
        st.filled += n;
        this.#left -= n;
        p += n;
      }
      if (st.filled === st.length) this.#complete(st);
      if (this.#left === 0) this.#current = undefined;
    }
  }

  /** Parses one chunk header at `o`; returns the bytes it used, or -1 when `buf` ends first. */
  #parseHeader(buf: Uint8Array, o: number, end: number): number {
    const start = o;
    if (o >= end) return -1;
    const fmt = buf[o] >> 6;
    let csid = buf[o] & 0x3f;
    o++;
    if (csid === 0) {
      if (o + 1 > end) return -1;
      csid = buf[o] + 64;
      o++;
    } else if (csid === 1) {
      if (o + 2 > end) return -1;
      csid = buf[o + 1] * 256 + buf[o] + 64;
      o += 2;
    }
    const mh = fmt === 0 ? 11 : fmt === 1 ? 7 : fmt === 2 ? 3 : 0;
    if (o + mh > end) return -1;
    let st = this.#streams.get(csid);
    let tsField = 0;
    if (fmt <= 2) tsField = (buf[o] << 16) | (buf[o + 1] << 8) | buf[o + 2];
    const extended = fmt <= 2 ? tsField === 0xffffff : st?.extended === true;
    if (extended) {
      if (o + mh + 4 > end) return -1;
      const x = o + mh;
      tsField = ((buf[x] << 24) | (buf[x + 1] << 16) | (buf[x + 2] << 8) | buf[x + 3]) >>> 0;
    }
    if (st === undefined) {
      if (this.#streams.size >= MAX_STREAMS) throw new RtmpScanError('too many chunk streams');
      st = {
        csid,
        timestamp: 0,
        timestampField: 0,
        extended: false,
        hasHeader: false,
        length: 0,
        typeId: 0,
        streamId: 0,
        filled: 0,
        firstByte: -1,
        payload: undefined,
      };
      this.#streams.set(csid, st);
    }
    const inProgress = st.hasHeader && st.filled < st.length && st.filled > 0;
    if (fmt === 3) {
      if (!st.hasHeader) throw new RtmpScanError(`type 3 chunk on chunk stream ${csid} without a header`);
      if (!inProgress) this.#begin(st, st.timestamp + (extended ? tsField : st.timestampField));
    } else {
      if (inProgress)
        throw new RtmpScanError(`new message on chunk stream ${csid} before the last one ended`);
      if (fmt <= 1) {
        st.length = (buf[o + 3] << 16) | (buf[o + 4] << 8) | buf[o + 5];
        st.typeId = buf[o + 6];
      }
      if (fmt === 0)
        st.streamId = (buf[o + 7] | (buf[o + 8] << 8) | (buf[o + 9] << 16) | (buf[o + 10] << 24)) >>> 0;
      st.extended = extended;
      st.timestampField = tsField;
      st.hasHeader = true;
      this.#begin(st, fmt === 0 ? tsField : st.timestamp + tsField);
    }
    this.#current = st;
    this.#left = Math.min(this.#chunkSize, st.length - st.filled);
    const used = o + mh + (extended ? 4 : 0) - start;
    if (st.length === 0) {
      this.#complete(st);
      this.#current = undefined;
    }
    return used;
  }

  #begin(st: Stream, timestamp: number): void {
    st.timestamp = timestamp >>> 0;
    st.filled = 0;
    st.firstByte = -1;
    const media = st.typeId === 8 || st.typeId === 9;
    if (media) {
      st.payload = undefined;
    } else {
      if (st.length > MAX_CONTROL_MESSAGE)
        throw new RtmpScanError(`message type ${st.typeId} of ${st.length} bytes`);
      st.payload = new Uint8Array(st.length);
    }
  }

  #complete(st: Stream): void {
    const payload = st.payload;
    st.payload = undefined;
    const filled = st.filled;
    st.filled = 0;
    if (payload === undefined) {
      this.#onMedia(st.typeId, st.timestamp, filled, st.firstByte);
      return;
    }
    if (st.typeId === 1 && payload.length >= 4) {
      const size = ((payload[0] << 24) | (payload[1] << 16) | (payload[2] << 8) | payload[3]) & 0x7fffffff;
      if (size < 1) throw new RtmpScanError(`bad chunk size ${size}`);
      this.#chunkSize = size;
    }
    this.#onMessage({
      typeId: st.typeId,
      streamId: st.streamId,
      timestamp: st.timestamp,
      payload,
      csid: st.csid,
    });
  }
}
