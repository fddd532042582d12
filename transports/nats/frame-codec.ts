/**
 * Compact binary media frames for relaying a stream between nodes over NATS (no JSON, no base64).
 *
 * Wire format, version 1, big-endian. Every part (message) starts with the same 38-byte header,
 * followed by a fragment of the FLV tag body (`MediaFrame.body`):
 *
 * ```
 *  0       1       2       3       4                               12              16
 * +-------+-------+-------+-------+-------------------------------+---------------+
 * |version| kind  | codec | flags | dts: float64, ms              | pts-dts: f32  |
 * +-------+-------+-------+-------+-------------------------------+---------------+
 *  16              20                              28              32      34      36      38
 * +---------------+-------------------------------+---------------+-------+-------+-------+
 * | seq: u32      | ingestTime: float64, ms epoch | body length   | frag  | frag  |payload|
 * |               |                               | u32           | index | count |offset |
 * +---------------+-------------------------------+---------------+-------+-------+-------+
 *  38: body bytes [fragment]
 * ```
 *
 * - kind: 0 video, 1 audio, 2 data. codec: see CODEC_IDS. flags: bit 0 key, bit 1 config.
 * - pts is carried as an offset from dts in float32: exact for whole milliseconds up to 2^24
 *   (RTMP composition times are whole ms), about 1e-4 ms off for fractional offsets.
 * - seq is the relay's per-stream counter modulo 2^32: gaps mean loss.
 * - A body that does not fit `maxPayload - 38` bytes is split: all fragments but the last carry
 *   the same number of bytes, so a receiver places any fragment without knowing the others.
 * - payload offset: where the codec payload (`MediaFrame.payload`) starts inside the body; the
 *   payload runs to the end of the body.
 */
import { ProtocolError } from '../../engine/errors.js';
import type { AudioCodec, Codec, MediaFrame, TrackKind, VideoCodec } from '../../media/frame/media-frame.js';

export const FRAME_FORMAT_VERSION = 1;
export const FRAME_HEADER_SIZE = 38;
/** Largest FLV tag body accepted: a 4K keyframe is a few MB; past this it is garbage or abuse. */
export const MAX_FRAME_BODY_SIZE = 64 * 1024 * 1024;
/** The fragment index and count are u16. */
export const MAX_FRAGMENTS = 0xffff;
/** The payload offset is u16 (FLV/enhanced-RTMP headers are a few bytes). */
export const MAX_PAYLOAD_OFFSET = 0xffff;

const FLAG_KEY = 1;
const FLAG_CONFIG = 2;

const KINDS: readonly TrackKind[] = ['video', 'audio', 'data'];
/** Stable wire ids: never renumber. */
export const CODEC_IDS: Readonly<Record<Codec, number>> = {
  h264: 1,
  h265: 2,
  av1: 3,
  vp9: 4,
  aac: 16,
  opus: 17,
  mp3: 18,
  amf: 32,
};
const CODEC_BY_ID = new Map<number, Codec>(Object.entries(CODEC_IDS).map(([c, id]) => [id, c as Codec]));

/** A frame header as carried by every part. */
export interface FrameHeader {
  readonly kind: TrackKind;
  readonly codec: Codec;
  readonly key: boolean;
  readonly config: boolean;
  readonly dts: number;
  readonly pts: number;
  readonly seq: number;
  readonly ingestTime: number;
  readonly bodyLength: number;
  readonly fragmentIndex: number;
  readonly fragmentCount: number;
  readonly payloadOffset: number;
}

/** A reassembled frame: `body` and `payload` are views (into the part for one-part frames). */
export type DecodedFrame = MediaFrame & { readonly codec: VideoCodec | AudioCodec | 'amf' };

/** Malformed or inconsistent frame bytes; only the offending frame is dropped. */
export class FrameCodecError extends ProtocolError {
  constructor(message: string) {
    super('RTS_ERR_NATS_FRAME', message);
  }
}

export function sizeOfFrameHeader(): number {
  return FRAME_HEADER_SIZE;
}

/** Writes a header at `offset`; returns the bytes written. Throws RangeError on a short buffer. */
export function writeFrameHeader(h: FrameHeader, out: Uint8Array, offset: number): number {
  if (offset < 0 || offset + FRAME_HEADER_SIZE > out.length) {
    throw new RangeError(
      `frame header needs ${FRAME_HEADER_SIZE} bytes at ${offset}, buffer has ${out.length}`,
    );
  }
  const v = new DataView(out.buffer, out.byteOffset + offset, FRAME_HEADER_SIZE);
  v.setUint8(0, FRAME_FORMAT_VERSION);
  v.setUint8(1, KINDS.indexOf(h.kind));
  v.setUint8(2, CODEC_IDS[h.codec]);
  v.setUint8(3, (h.key ? FLAG_KEY : 0) | (h.config ? FLAG_CONFIG : 0));
  v.setFloat64(4, h.dts);
  v.setFloat32(12, h.pts - h.dts);
  v.setUint32(16, h.seq >>> 0);
  v.setFloat64(20, h.ingestTime);
  v.setUint32(28, h.bodyLength);
  v.setUint16(32, h.fragmentIndex);
  v.setUint16(34, h.fragmentCount);
  v.setUint16(36, h.payloadOffset);
  return FRAME_HEADER_SIZE;
}

/** Decodes and validates a header at `offset`. Throws FrameCodecError. */
export function decodeFrameHeader(
  buf: Uint8Array,
  offset: number,
): { value: FrameHeader; bytesRead: number } {
  if (offset < 0 || offset + FRAME_HEADER_SIZE > buf.length) {
    throw new FrameCodecError(`frame part of ${buf.length - offset} bytes is shorter than its header`);
  }
  const v = new DataView(buf.buffer, buf.byteOffset + offset, FRAME_HEADER_SIZE);
  const version = v.getUint8(0);
  if (version !== FRAME_FORMAT_VERSION) throw new FrameCodecError(`unknown frame format version ${version}`);
  const kind = KINDS[v.getUint8(1)];
  if (kind === undefined) throw new FrameCodecError(`unknown track kind ${v.getUint8(1)}`);
  const codec = CODEC_BY_ID.get(v.getUint8(2));
  if (codec === undefined) throw new FrameCodecError(`unknown codec id ${v.getUint8(2)}`);
  const flags = v.getUint8(3);
  const dts = v.getFloat64(4);
  const pts = dts + v.getFloat32(12);
  const bodyLength = v.getUint32(28);
  const fragmentIndex = v.getUint16(32);
  const fragmentCount = v.getUint16(34);
  const payloadOffset = v.getUint16(36);
  if (!Number.isFinite(dts) || !Number.isFinite(pts)) throw new FrameCodecError('non-finite timestamp');
  if (bodyLength > MAX_FRAME_BODY_SIZE)
    throw new FrameCodecError(`frame body of ${bodyLength} bytes is too large`);
  if (fragmentCount === 0 || fragmentIndex >= fragmentCount) {
    throw new FrameCodecError(`fragment ${fragmentIndex} of ${fragmentCount}`);
  }
  if (payloadOffset > bodyLength) throw new FrameCodecError(`payload offset ${payloadOffset} past body end`);
  return {
    value: {
      kind,
      codec,
      key: (flags & FLAG_KEY) !== 0,
      config: (flags & FLAG_CONFIG) !== 0,
      dts,
      pts,
      seq: v.getUint32(16),
      ingestTime: v.getFloat64(20),
      bodyLength,
      fragmentIndex,
      fragmentCount,
      payloadOffset,
    },
    bytesRead: FRAME_HEADER_SIZE,
  };
}

/** Where `frame.payload` starts inside `frame.body`. */
export function payloadOffsetOf(frame: Pick<MediaFrame, 'body' | 'payload'>): number {
  const { body, payload } = frame;
  if (payload.buffer === body.buffer) {
    const off = payload.byteOffset - body.byteOffset;
    if (off >= 0 && off <= body.length) return off;
  }
  return Math.max(0, body.length - payload.length);
}

/** Number of parts a body of `bodyLength` bytes needs under `maxPayload`. */
export function fragmentCountFor(bodyLength: number, maxPayload: number): number {
  const chunk = maxPayload - FRAME_HEADER_SIZE;
  if (!(chunk >= 1))
    throw new RangeError(`maxPayload ${maxPayload} leaves no room past the ${FRAME_HEADER_SIZE}-byte header`);
  return Math.max(1, Math.ceil(bodyLength / chunk));
}

/**
 * Encodes a frame as one or more parts of at most `maxPayload` bytes each. All parts are views
 * into ONE allocation (header + body once for a one-part frame). `seq` overrides `frame.seq`.
 */
export function encodeFrameParts(
  frame: MediaFrame,
  maxPayload: number,
  seq: number = frame.seq,
): Uint8Array[] {
  const body = frame.body;
  if (body.length > MAX_FRAME_BODY_SIZE) {
    throw new RangeError(`frame body of ${body.length} bytes exceeds MAX_FRAME_BODY_SIZE`);
  }
  if (!Number.isFinite(frame.dts) || !Number.isFinite(frame.pts))
    throw new RangeError('non-finite timestamp');
  const payloadOffset = payloadOffsetOf(frame);
  if (payloadOffset > MAX_PAYLOAD_OFFSET) throw new RangeError(`payload offset ${payloadOffset} exceeds u16`);
  if (CODEC_IDS[frame.codec] === undefined)
    throw new RangeError(`codec ${String(frame.codec)} has no wire id`);
  const count = fragmentCountFor(body.length, maxPayload);
  if (count > MAX_FRAGMENTS) throw new RangeError(`frame needs ${count} fragments (max ${MAX_FRAGMENTS})`);
  const chunk = maxPayload - FRAME_HEADER_SIZE;
  const out = new Uint8Array(count * FRAME_HEADER_SIZE + body.length);
  const parts: Uint8Array[] = new Array(count);
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const start = i * chunk;
    const end = Math.min(body.length, start + chunk);
    const partStart = pos;
    pos += writeFrameHeader(
      {
        kind: frame.kind,
        codec: frame.codec,
        key: frame.key,
        config: frame.config,
        dts: frame.dts,
        pts: frame.pts,
        seq,
        ingestTime: frame.ingestTime,
        bodyLength: body.length,
        fragmentIndex: i,
        fragmentCount: count,
        payloadOffset,
      },
      out,
      pos,
    );
    out.set(body.subarray(start, end), pos);
    pos += end - start;
    parts[i] = out.subarray(partStart, pos);
  }
  return parts;
}

function frameFrom(h: FrameHeader, body: Uint8Array): DecodedFrame {
  return {
    kind: h.kind,
    codec: h.codec,
    dts: h.dts,
    pts: h.pts,
    key: h.key,
    config: h.config,
    body,
    payload: body.subarray(h.payloadOffset),
    seq: h.seq,
    ingestTime: h.ingestTime,
  };
}

/** Decodes a one-part frame (no reassembly); throws FrameCodecError for a fragment. */
export function decodeFrame(part: Uint8Array): DecodedFrame {
  const { value: h } = decodeFrameHeader(part, 0);
  if (h.fragmentCount !== 1) throw new FrameCodecError('part is a fragment; use FrameReassembler');
  if (part.length !== FRAME_HEADER_SIZE + h.bodyLength) {
    throw new FrameCodecError(
      `part of ${part.length} bytes, header says ${FRAME_HEADER_SIZE + h.bodyLength}`,
    );
  }
  return frameFrom(h, part.subarray(FRAME_HEADER_SIZE));
}

export interface FrameReassemblerOptions {
  /** Frames being reassembled at once; the oldest is discarded past it. */
  maxPendingFrames?: number;
  /** Bytes held by frames being reassembled; the oldest are discarded past it. */
  maxBufferedBytes?: number;
  /** Called with the number of frames missing before the frame about to be returned. */
  onLoss?: (lost: number, nextSeq: number) => void;
  /** Called when seq jumps too far to be loss or reordering (the publisher restarted). */
  onDiscontinuity?: (seq: number) => void;
}

/** Parts this far behind the expected seq are late duplicates; further back means a restart. */
export const REORDER_WINDOW = 64;
/** A forward jump larger than this is a restart, not loss. */
export const MAX_LOSS_GAP = 4096;

interface PartialFrame {
  readonly header: FrameHeader;
  readonly body: Uint8Array;
  readonly got: Uint8Array;
  received: number;
  chunk: number;
}

/**
 * Push-based reassembly of frame parts from one publisher (STYLE rule 3): one-part frames come
 * back as views into the part, fragments are copied once into a body allocated at first sight.
 * Frames come back in seq order; missing seqs are counted in `lost` and reported to `onLoss`,
 * incomplete frames overtaken by a later complete one are discarded, late parts are ignored.
 */
export class FrameReassembler {
  /** Frames never delivered because their seq was skipped (loss or incomplete). */
  lost = 0;
  /** Incomplete frames thrown away (overtaken or evicted by the memory bounds). */
  incomplete = 0;
  /** Parts ignored because their frame was already delivered or skipped. */
  stale = 0;
  /** Parts rejected as malformed or inconsistent. */
  malformed = 0;
  /** Restarts detected (seq jumped out of any plausible window). */
  discontinuities = 0;
  readonly #maxPendingFrames: number;
  readonly #maxBufferedBytes: number;
  readonly #onLoss: ((lost: number, nextSeq: number) => void) | undefined;
  readonly #onDiscontinuity: ((seq: number) => void) | undefined;
  #expected: number | undefined;
  #partials = new Map<number, PartialFrame>();
  #bufferedBytes = 0;

  constructor(opts: FrameReassemblerOptions = {}) {
    this.#maxPendingFrames = opts.maxPendingFrames ?? 4;
    this.#maxBufferedBytes = opts.maxBufferedBytes ?? 32 * 1024 * 1024;
    this.#onLoss = opts.onLoss;
    this.#onDiscontinuity = opts.onDiscontinuity;
  }

  /** The seq the next frame should carry, if known. */
  get expectedSeq(): number | undefined {
    return this.#expected;
  }

  /** Bytes held by incomplete frames. */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /** Sets the next expected seq (e.g. after a snapshot); older parts become stale. */
  expect(seq: number): void {
    this.#expected = seq >>> 0;
    for (const s of [...this.#partials.keys()]) if (!this.#isAhead(s)) this.#drop(s, false);
  }

  /** Forgets everything (a new publisher). */
  reset(): void {
    this.#expected = undefined;
    this.#partials.clear();
    this.#bufferedBytes = 0;
  }

  /** Consumes one part; returns the frame it completes, if any. Never throws on bad input. */
  push(part: Uint8Array): DecodedFrame | undefined {
    let h: FrameHeader;
    try {
      h = decodeFrameHeader(part, 0).value;
    } catch {
      this.malformed++;
      return undefined;
    }
    const fragLen = part.length - FRAME_HEADER_SIZE;
    if (this.#expected !== undefined) {
      const ahead = (h.seq - this.#expected) >>> 0;
      const behind = (this.#expected - h.seq) >>> 0;
      if (ahead > MAX_LOSS_GAP && behind > REORDER_WINDOW) {
        this.discontinuities++;
        this.reset();
        this.#onDiscontinuity?.(h.seq);
      } else if (ahead > MAX_LOSS_GAP) {
        this.stale++;
        return undefined;
      }
    }
    if (h.fragmentCount === 1) {
      if (fragLen !== h.bodyLength) {
        this.malformed++;
        return undefined;
      }
      return this.#complete(h, part.subarray(FRAME_HEADER_SIZE));
    }
    return this.#pushFragment(h, part.subarray(FRAME_HEADER_SIZE));
  }

  #pushFragment(h: FrameHeader, frag: Uint8Array): DecodedFrame | undefined {
    let p = this.#partials.get(h.seq);
    if (
      p !== undefined &&
      (p.header.bodyLength !== h.bodyLength || p.header.fragmentCount !== h.fragmentCount)
    ) {
      this.malformed++;
      this.#drop(h.seq, true);
      return undefined;
    }
    if (p === undefined) {
      if (h.bodyLength < h.fragmentCount) {
        this.malformed++;
        return undefined;
      }
      p = {
        header: h,
        body: new Uint8Array(h.bodyLength),
        got: new Uint8Array(h.fragmentCount),
        received: 0,
        chunk: 0,
      };
      this.#partials.set(h.seq, p);
      this.#bufferedBytes += h.bodyLength;
      this.#enforceBounds(h.seq);
      if (!this.#partials.has(h.seq)) return undefined;
    }
    const last = h.fragmentIndex === h.fragmentCount - 1;
    let offset: number;
    if (last) {
      offset = h.bodyLength - frag.length;
      if (
        offset < 0 ||
        (p.chunk > 0 && (frag.length > p.chunk || offset !== (h.fragmentCount - 1) * p.chunk))
      ) {
        this.malformed++;
        this.#drop(h.seq, true);
        return undefined;
      }
    } else {
      if (p.chunk === 0) p.chunk = frag.length;
      offset = h.fragmentIndex * p.chunk;
      const tooShort = (h.fragmentCount - 1) * p.chunk >= h.bodyLength;
      const tooLong = h.fragmentCount * p.chunk < h.bodyLength;
      if (frag.length !== p.chunk || frag.length === 0 || tooShort || tooLong) {
        this.malformed++;
        this.#drop(h.seq, true);
        return undefined;
      }
    }
    if (p.got[h.fragmentIndex] === 1) {
      this.stale++;
      return undefined;
    }
    p.got[h.fragmentIndex] = 1;
    p.body.set(frag, offset);
    p.received++;
    if (p.received < h.fragmentCount) return undefined;
    this.#partials.delete(h.seq);
    this.#bufferedBytes -= h.bodyLength;
    return this.#complete(p.header, p.body);
  }

  #complete(h: FrameHeader, body: Uint8Array): DecodedFrame | undefined {
    if (this.#expected !== undefined) {
      const gap = (h.seq - this.#expected) >>> 0;
      if (gap > MAX_LOSS_GAP) {
        this.stale++;
        return undefined;
      }
      // Incomplete frames older than this one will never be delivered.
      for (const s of [...this.#partials.keys()]) if (!this.#isAhead(s, h.seq)) this.#drop(s, true);
      if (gap > 0) {
        this.lost += gap;
        this.#onLoss?.(gap, h.seq);
      }
    }
    this.#expected = (h.seq + 1) >>> 0;
    return frameFrom(h, body);
  }

  /** True when `seq` is at or after `from` (default: the expected seq) within the loss window. */
  #isAhead(seq: number, from: number | undefined = this.#expected): boolean {
    if (from === undefined) return true;
    return (seq - from) >>> 0 <= MAX_LOSS_GAP;
  }

  #enforceBounds(keep: number): void {
    while (this.#partials.size > this.#maxPendingFrames || this.#bufferedBytes > this.#maxBufferedBytes) {
      const oldest = this.#partials.keys().next().value as number;
      this.#drop(oldest, true);
      if (oldest === keep) return;
    }
  }

  #drop(seq: number, countIncomplete: boolean): void {
    const p = this.#partials.get(seq);
    if (p === undefined) return;
    this.#partials.delete(seq);
    this.#bufferedBytes -= p.header.bodyLength;
    if (countIncomplete) this.incomplete++;
  }
}
