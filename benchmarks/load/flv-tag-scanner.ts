/**
 * Push-based scanner for an FLV byte stream (an HTTP-FLV response body) that reads only the tag
 * headers and never copies a body: the load tool's players need each tag's type, timestamp and
 * whether it is a keyframe, and the time its last byte arrived.
 *
 * ```
 * header : 'F' 'L' 'V' | version:8 | flags:8 | dataOffset:32 | PreviousTagSize0:32   (FLV spec E.2)
 * tag    : reserved:2 filter:1 type:5 | dataSize:24 | timestamp:24 | timestampExt:8 | streamId:24
 *          | body (dataSize) | PreviousTagSize:32                                     (FLV spec E.4.1)
 * ```
 * Only the 11-byte tag header (and the 9-byte file header) is carried across pushes, in a fixed
 * scratch buffer; bodies are skipped by count.
 */
export type FlvTagCallback = (
  type: number,
  timestamp: number,
  dataSize: number,
  firstBodyByte: number,
  secondBodyByte: number,
) => void;

export class FlvScanError extends Error {
  override name = 'FlvScanError';
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

const FILE_HEADER = 9;
const TAG_HEADER = 11;

enum State {
  FileHeader = 0,
  SkipHeaderRest = 1,
  TagHeader = 2,
  Body = 3,
  Trailer = 4,
}

export class FlvTagScanner {
  readonly #onTag: FlvTagCallback;
  readonly #scratch = new Uint8Array(TAG_HEADER);
  #have = 0;
  #state: State = State.FileHeader;
  #skip = 0;
  #type = 0;
  #timestamp = 0;
  #size = 0;
  #bodySeen = 0;
  #b0 = -1;
  #b1 = -1;
  /** Tags completed. */
  tags = 0;
  /** Bytes pushed. */
  bytes = 0;

  constructor(onTag: FlvTagCallback) {
    this.#onTag = onTag;
  }

  /** Consumes `data` (any split of the stream). Throws FlvScanError on a malformed stream. */
  push(data: Uint8Array): void {
    const end = data.length;
    this.bytes += end;
    let p = 0;
    while (p < end) {
      switch (this.#state) {
        case State.FileHeader: {
          const n = Math.min(FILE_HEADER - this.#have, end - p);
          this.#scratch.set(data.subarray(p, p + n), this.#have);
          this.#have += n;
          p += n;
          if (this.#have < FILE_HEADER) break;
          const s = this.#scratch;
          if (s[0] !== 0x46 || s[1] !== 0x4c || s[2] !== 0x56)
            throw new FlvScanError('RTS_ERR_FLV_SIGNATURE', 'not an FLV stream');
          const dataOffset = ((s[5] << 24) | (s[6] << 16) | (s[7] << 8) | s[8]) >>> 0;
          if (dataOffset < FILE_HEADER || dataOffset > 1024)
            throw new FlvScanError('RTS_ERR_FLV_HEADER', `bad FLV data offset ${dataOffset}`);
          this.#skip = dataOffset - FILE_HEADER + 4;
          this.#have = 0;
          this.#state = State.SkipHeaderRest;
          break;
        }
        case State.SkipHeaderRest:
        case State.Trailer: {
          const n = Math.min(this.#skip, end - p);
          this.#skip -= n;
          p += n;
          if (this.#skip === 0) this.#state = State.TagHeader;
          break;
        }
        case State.TagHeader: {
          let s: Uint8Array;
          let o: number;
          if (this.#have === 0 && end - p >= TAG_HEADER) {
            s = data;
            o = p;
            p += TAG_HEADER;
          } else {
            const n = Math.min(TAG_HEADER - this.#have, end - p);
            this.#scratch.set(data.subarray(p, p + n), this.#have);
            this.#have += n;
            p += n;
            if (this.#have < TAG_HEADER) break;
            s = this.#scratch;
            o = 0;
            this.#have = 0;
          }
          const type = s[o] & 0x1f;
          if (type !== 8 && type !== 9 && type !== 18)
            throw new FlvScanError('RTS_ERR_FLV_TAG_TYPE', `unexpected FLV tag type ${type}`);
          this.#type = type;
          this.#size = (s[o + 1] << 16) | (s[o + 2] << 8) | s[o + 3];
          this.#timestamp = ((s[o + 7] << 24) | (s[o + 4] << 16) | (s[o + 5] << 8) | s[o + 6]) >>> 0;
          this.#bodySeen = 0;
          this.#b0 = -1;
          this.#b1 = -1;
          this.#state = State.Body;
          if (this.#size === 0) this.#finishTag();
          break;
        }
        case State.Body: {
          const n = Math.min(this.#size - this.#bodySeen, end - p);
          if (this.#bodySeen === 0 && n > 0) this.#b0 = data[p];
          if (this.#bodySeen <= 1 && this.#bodySeen + n > 1) this.#b1 = data[p + 1 - this.#bodySeen];
          this.#bodySeen += n;
          p += n;
          if (this.#bodySeen === this.#size) this.#finishTag();
          break;
        }
      }
    }
  }

  #finishTag(): void {
    this.#state = State.Trailer;
    this.#skip = 4;
    this.tags++;
    this.#onTag(this.#type, this.#timestamp, this.#size, this.#b0, this.#b1);
  }
}

/** True when an FLV video body's first bytes say keyframe (frame type 1), legacy or enhanced. */
export function isVideoKeyframe(firstBodyByte: number): boolean {
  return ((firstBodyByte >> 4) & 0x7) === 1;
}
