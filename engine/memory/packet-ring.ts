import type { Codec, MediaFrame, TrackKind } from '../../media/frame/media-frame.js';

/**
 * A stream's media in shared memory: written once at ingest, read as views by every consumer on
 * any thread.
 *
 * ```
 *  meta  SAB  Int32[SIGNAL, STATE, ACTIVE_CFG x3]     (Atomics: notify target, live/ended, config slots)
 *        SAB  Float64[writeSeq, writePos, lastKeySeq, lastKeyPos, gen]
 *  index SAB  Float64[capacity][RECORD_FIELDS]        one record per frame, slot = seq % capacity
 *  data  SAB  Uint8[ringBytes]                         frame bodies back to back; a body never straddles the end
 *  cfg   SAB  Uint8[3 kinds][2 slots][MAX_CONFIG]      current sequence headers, double-buffered
 * ```
 *
 * Positions are absolute byte counts (float64, exact to 2^53). A frame at absolute position p is
 * intact while the writer has not wrapped onto it: `writePos <= p + ringBytes`. Readers on other threads check that after using a
 * view (seqlock style) and resync on the latest keyframe when they were overrun.
 */
export const RECORD_FIELDS = 10;
const R_SEQ = 0;
const R_POS = 1;
const R_LEN = 2;
const R_DTS = 3;
const R_PTS = 4;
const R_TIME = 5;
const R_FLAGS = 6;
const R_POFF = 7;
const R_PLEN = 8;

const I_SIGNAL = 0;
const I_STATE = 1;
const I_CFG = 2; // 3 ints: active slot per config kind (-1 = none)
const I_FIELDS = 8;

const F_WSEQ = 0;
const F_WPOS = 1;
const F_KEYSEQ = 2;
const F_KEYPOS = 3;
const F_GEN = 4;
const F_FIELDS = 8;

/** Largest sequence header kept for late joiners (SPS/PPS/VPS records, ASC, onMetaData). */
export const MAX_CONFIG_BYTES = 64 * 1024;
const CFG_SLOT_META = 6; // len, dts, flags, poff, plen, seq

export const STATE_LIVE = 0;
export const STATE_ENDED = 1;

const CODECS: readonly Codec[] = ['h264', 'h265', 'av1', 'vp9', 'aac', 'opus', 'mp3', 'amf'];
const KINDS: readonly TrackKind[] = ['video', 'audio', 'data'];

function encodeFlags(kind: TrackKind, codec: Codec, key: boolean, config: boolean): number {
  return KINDS.indexOf(kind) | (CODECS.indexOf(codec) << 2) | (key ? 1 << 8 : 0) | (config ? 1 << 9 : 0);
}

/** The shared buffers of one ring: what crosses to another thread (structured clone shares SABs). */
export interface PacketRingBuffers {
  readonly meta: SharedArrayBuffer;
  readonly metaF: SharedArrayBuffer;
  readonly index: SharedArrayBuffer;
  readonly data: SharedArrayBuffer;
  readonly cfg: SharedArrayBuffer;
  readonly cfgMeta: SharedArrayBuffer;
}

export interface PacketRingOptions {
  /** Bytes of frame bodies kept; must hold more than the longest GOP. Default 8 MiB. */
  ringBytes?: number;
  /** Frame records kept; default 8192 (about 110 s of 30 fps video + 44 kHz AAC). */
  capacity?: number;
}

export interface FrameInput {
  kind: TrackKind;
  codec: Codec;
  dts: number;
  pts: number;
  key: boolean;
  config: boolean;
  body: Uint8Array;
  payloadOffset: number;
  payloadLength: number;
  ingestTime: number;
}

/** Read access shared by the writer and every reader. */
export class PacketRingView {
  readonly buffers: PacketRingBuffers;
  readonly ringBytes: number;
  readonly capacity: number;
  protected readonly meta: Int32Array;
  protected readonly metaF: Float64Array;
  protected readonly index: Float64Array;
  readonly data: Uint8Array;
  protected readonly cfg: Uint8Array;
  protected readonly cfgMeta: Float64Array;

  constructor(buffers: PacketRingBuffers) {
    this.buffers = buffers;
    this.meta = new Int32Array(buffers.meta);
    this.metaF = new Float64Array(buffers.metaF);
    this.index = new Float64Array(buffers.index);
    this.data = new Uint8Array(buffers.data);
    this.cfg = new Uint8Array(buffers.cfg);
    this.cfgMeta = new Float64Array(buffers.cfgMeta);
    this.ringBytes = this.data.length;
    this.capacity = this.index.length / RECORD_FIELDS;
  }

  /** Sequence number the next frame will get (= number of frames written). */
  get writeSeq(): number {
    return this.metaF[F_WSEQ];
  }
  get writePos(): number {
    return this.metaF[F_WPOS];
  }
  /** Sequence of the latest keyframe still intact in the ring, or -1. */
  get lastKeySeq(): number {
    const seq = this.metaF[F_KEYSEQ];
    if (seq < 0) return -1;
    return this.isIntact(seq) ? seq : -1;
  }
  get ended(): boolean {
    return Atomics.load(this.meta, I_STATE) === STATE_ENDED;
  }
  get signal(): number {
    return Atomics.load(this.meta, I_SIGNAL);
  }
  /** The Int32Array and index to `Atomics.waitAsync` on for new frames. */
  get signalArray(): Int32Array {
    return this.meta;
  }

  /** True while frame `seq` has not been overwritten (index and data). */
  isIntact(seq: number): boolean {
    const wseq = this.metaF[F_WSEQ];
    if (seq < 0 || seq >= wseq || seq < wseq - this.capacity) return false;
    const base = (seq % this.capacity) * RECORD_FIELDS;
    if (this.index[base + R_SEQ] !== seq) return false;
    return this.metaF[F_WPOS] <= this.index[base + R_POS] + this.ringBytes;
  }

  /** Absolute byte position of frame `seq` (meaningful while it is intact). */
  positionOf(seq: number): number {
    return this.index[(seq % this.capacity) * RECORD_FIELDS + R_POS];
  }

  /** The frame `seq` as views into shared memory, or undefined if it is gone or not yet written. */
  frame(seq: number): MediaFrame | undefined {
    if (!this.isIntact(seq)) return undefined;
    const base = (seq % this.capacity) * RECORD_FIELDS;
    const ix = this.index;
    const pos = ix[base + R_POS] % this.ringBytes;
    const len = ix[base + R_LEN];
    const body = this.data.subarray(pos, pos + len);
    const flags = ix[base + R_FLAGS];
    const poff = ix[base + R_POFF];
    return {
      kind: KINDS[flags & 3],
      codec: CODECS[(flags >> 2) & 63],
      key: (flags & (1 << 8)) !== 0,
      config: (flags & (1 << 9)) !== 0,
      dts: ix[base + R_DTS],
      pts: ix[base + R_PTS],
      ingestTime: ix[base + R_TIME],
      body,
      payload: body.subarray(poff, poff + ix[base + R_PLEN]),
      seq,
    };
  }

  /** The current sequence header of a kind (kept outside the ring, never overwritten by media). */
  config(kind: TrackKind): MediaFrame | undefined {
    const k = KINDS.indexOf(kind);
    const slot = Atomics.load(this.meta, I_CFG + k);
    if (slot < 0) return undefined;
    const m = (k * 2 + slot) * CFG_SLOT_META;
    const cm = this.cfgMeta;
    const off = (k * 2 + slot) * MAX_CONFIG_BYTES;
    const body = this.cfg.subarray(off, off + cm[m]);
    const flags = cm[m + 2];
    const poff = cm[m + 3];
    return {
      kind,
      codec: CODECS[(flags >> 2) & 63],
      key: true,
      config: true,
      dts: cm[m + 1],
      pts: cm[m + 1],
      ingestTime: 0,
      body,
      payload: body.subarray(poff, poff + cm[m + 4]),
      seq: cm[m + 5],
    };
  }

  /** Config frames then every intact frame from the latest keyframe: what a new player starts with. */
  startFrames(): { configs: MediaFrame[]; fromSeq: number } {
    const configs: MediaFrame[] = [];
    for (const kind of ['data', 'video', 'audio'] as const) {
      const c = this.config(kind);
      if (c) configs.push(c);
    }
    const key = this.lastKeySeq;
    return { configs, fromSeq: key >= 0 ? key : this.writeSeq };
  }
}

/** The single writer of a ring: the thread that owns the publisher's socket. */
export class PacketRingWriter extends PacketRingView {
  static create(opts: PacketRingOptions = {}): PacketRingWriter {
    const ringBytes = opts.ringBytes ?? 8 * 1024 * 1024;
    const capacity = opts.capacity ?? 8192;
    const buffers: PacketRingBuffers = {
      meta: new SharedArrayBuffer(I_FIELDS * 4),
      metaF: new SharedArrayBuffer(F_FIELDS * 8),
      index: new SharedArrayBuffer(capacity * RECORD_FIELDS * 8),
      data: new SharedArrayBuffer(ringBytes),
      cfg: new SharedArrayBuffer(3 * 2 * MAX_CONFIG_BYTES),
      cfgMeta: new SharedArrayBuffer(3 * 2 * CFG_SLOT_META * 8),
    };
    const w = new PacketRingWriter(buffers);
    w.metaF[F_KEYSEQ] = -1;
    w.metaF[F_KEYPOS] = -1;
    for (let k = 0; k < 3; k++) w.meta[I_CFG + k] = -1;
    return w;
  }

  /**
   * Copies one frame body into the ring (the only copy of a payload inside the node) and returns
   * the frame as views of it. Bodies larger than a quarter of the ring are refused (RangeError).
   */
  write(input: FrameInput): MediaFrame {
    const len = input.body.length;
    if (len > this.ringBytes / 4) throw new RangeError(`frame of ${len} bytes exceeds a quarter of the ring`);
    const mf = this.metaF;
    let pos = mf[F_WPOS];
    const off = pos % this.ringBytes;
    if (off + len > this.ringBytes) pos += this.ringBytes - off; // never straddle the end
    const start = pos % this.ringBytes;
    // Publish the new extent before copying, so a reader on another thread that validates a view
    // (isIntact) during the copy sees the overwrite.
    mf[F_WPOS] = pos + len;
    this.data.set(input.body, start);
    const seq = mf[F_WSEQ];
    const base = (seq % this.capacity) * RECORD_FIELDS;
    const ix = this.index;
    const flags = encodeFlags(input.kind, input.codec, input.key, input.config);
    ix[base + R_SEQ] = seq;
    ix[base + R_POS] = pos;
    ix[base + R_LEN] = len;
    ix[base + R_DTS] = input.dts;
    ix[base + R_PTS] = input.pts;
    ix[base + R_TIME] = input.ingestTime;
    ix[base + R_FLAGS] = flags;
    ix[base + R_POFF] = input.payloadOffset;
    ix[base + R_PLEN] = input.payloadLength;
    if (input.key && input.kind === 'video' && !input.config) {
      mf[F_KEYSEQ] = seq;
      mf[F_KEYPOS] = pos;
    }
    if (input.config) this.storeConfig(input, seq);
    mf[F_WSEQ] = seq + 1;
    Atomics.add(this.meta, I_SIGNAL, 1);
    Atomics.notify(this.meta, I_SIGNAL);
    const body = this.data.subarray(start, start + len);
    return {
      kind: input.kind,
      codec: input.codec,
      key: input.key,
      config: input.config,
      dts: input.dts,
      pts: input.pts,
      ingestTime: input.ingestTime,
      body,
      payload: body.subarray(input.payloadOffset, input.payloadOffset + input.payloadLength),
      seq,
    };
  }

  /** A publisher reconnected or the stream restarted: forget the GOP and configs. */
  reset(): void {
    this.metaF[F_KEYSEQ] = -1;
    this.metaF[F_KEYPOS] = -1;
    for (let k = 0; k < 3; k++) Atomics.store(this.meta, I_CFG + k, -1);
    this.metaF[F_GEN]++;
  }

  end(): void {
    Atomics.store(this.meta, I_STATE, STATE_ENDED);
    Atomics.add(this.meta, I_SIGNAL, 1);
    Atomics.notify(this.meta, I_SIGNAL);
  }

  private storeConfig(input: FrameInput, seq: number): void {
    const len = input.body.length;
    if (len > MAX_CONFIG_BYTES) return; // kept in the ring only; late joiners wait for the next one
    const k = KINDS.indexOf(input.kind);
    const active = this.meta[I_CFG + k];
    const slot = active === 0 ? 1 : 0;
    const m = (k * 2 + slot) * CFG_SLOT_META;
    this.cfg.set(input.body, (k * 2 + slot) * MAX_CONFIG_BYTES);
    const cm = this.cfgMeta;
    cm[m] = len;
    cm[m + 1] = input.dts;
    cm[m + 2] = encodeFlags(input.kind, input.codec, true, true);
    cm[m + 3] = input.payloadOffset;
    cm[m + 4] = input.payloadLength;
    cm[m + 5] = seq;
    Atomics.store(this.meta, I_CFG + k, slot);
  }
}

/** Sequential reader of a ring, for consumers that pull (workers: HLS, RTP, relays). */
export class PacketRingReader {
  private nextSeq: number;
  /** Frames skipped because the reader was overrun. */
  skipped = 0;
  constructor(
    readonly ring: PacketRingView,
    fromSeq?: number,
  ) {
    this.nextSeq = fromSeq ?? ring.writeSeq;
  }
  get position(): number {
    return this.nextSeq;
  }
  /** Next frame, or undefined when caught up. After an overrun, resumes at the latest keyframe. */
  next(): MediaFrame | undefined {
    const ring = this.ring;
    if (this.nextSeq >= ring.writeSeq) return undefined;
    let f = ring.frame(this.nextSeq);
    if (!f) {
      const key = ring.lastKeySeq;
      const resume = key > this.nextSeq ? key : ring.writeSeq;
      this.skipped += resume - this.nextSeq;
      this.nextSeq = resume;
      f = ring.frame(this.nextSeq);
      if (!f) return undefined;
    }
    this.nextSeq++;
    return f;
  }
  /** After using a view on another thread than the writer's: false if it was overwritten meanwhile. */
  stillValid(frame: MediaFrame): boolean {
    return this.ring.isIntact(frame.seq);
  }
  seek(seq: number): void {
    this.nextSeq = seq;
  }
}
