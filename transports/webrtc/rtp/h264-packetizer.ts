import { decodeAvcConfig } from '../../../media/h264/avc-config.js';
import { readNalLength } from '../../../media/h264/nal-units.js';
import { DEFAULT_MAX_PAYLOAD, RTP_HEADER_SIZE, writeRtpHeader } from './rtp-header.js';

/** RFC 6184 section 5.4 / 5.7.1 / 5.8 NAL unit types of the RTP payload. */
export const NAL_STAP_A = 24;
export const NAL_FU_A = 28;
const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_PPS = 8;
const NAL_AUD = 9;
const NAL_FILLER = 12;

/** Refuse absurd access units rather than allocating for them (a 4K intra frame is ~1-2 MB). */
export const MAX_ACCESS_UNIT_SIZE = 8 * 1024 * 1024;

export interface RtpPacketizerOptions {
  ssrc: number;
  payloadType: number;
  /** RTP payload bytes per packet; default DEFAULT_MAX_PAYLOAD. */
  maxPayload?: number;
  /** First sequence number (the stream's own numbering; viewers get theirs patched in). */
  initialSeq?: number;
}

/**
 * H.264 RTP packetizer, packetization-mode 1 (RFC 6184, section 6.3): a single NAL unit packet
 * when the NAL unit fits, FU-A fragments (section 5.8) when it does not, and an STAP-A (section
 * 5.7.1) carrying SPS and PPS in front of every IDR access unit. The marker bit is set on the
 * last packet of the access unit (section 5.1).
 *
 * ```
 * STAP-A:  [F|NRI|24] [size:16][SPS ...] [size:16][PPS ...]
 * FU-A:    [F|NRI|28] [S|E|R|type] [fragment ...]
 * ```
 * All the packets of an access unit are views into ONE buffer allocated for it: they are built
 * once per stream and shared by every viewer.
 */
export class H264Packetizer {
  readonly ssrc: number;
  readonly payloadType: number;
  readonly maxPayload: number;
  private seq: number;
  private sps: Uint8Array | undefined;
  private pps: Uint8Array | undefined;
  private nalLengthSize = 4;
  // Reused scratch list of NAL unit bounds (start, end) for one access unit.
  private bounds: number[] = [];

  constructor(opts: RtpPacketizerOptions) {
    this.ssrc = opts.ssrc >>> 0;
    this.payloadType = opts.payloadType;
    this.maxPayload = opts.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    if (this.maxPayload < 64) throw new RangeError('maxPayload below 64 bytes');
    this.seq = (opts.initialSeq ?? 0) & 0xffff;
  }

  get hasParameterSets(): boolean {
    return this.sps !== undefined && this.pps !== undefined;
  }

  /** Takes SPS/PPS and the NAL length size from an AVCDecoderConfigurationRecord (copied). */
  setConfig(record: Uint8Array): void {
    const { value } = decodeAvcConfig(record, 0);
    this.nalLengthSize = value.nalLengthSize;
    if (value.sps.length > 0) this.sps = value.sps[0].slice();
    if (value.pps.length > 0) this.pps = value.pps[0].slice();
  }

  /**
   * Packetizes one AVCC access unit (length-prefixed NAL units) at RTP `timestamp`.
   * Returns [] for an access unit with no VCL data to send (e.g. only AUD).
   */
  packetize(avcc: Uint8Array, timestamp: number): Buffer[] {
    if (avcc.length > MAX_ACCESS_UNIT_SIZE) throw new RangeError(`access unit of ${avcc.length} bytes`);
    const b = this.bounds;
    b.length = 0;
    let idr = false;
    let p = 0;
    while (p < avcc.length) {
      const len = readNalLength(avcc, p, this.nalLengthSize);
      p += this.nalLengthSize;
      const end = Math.min(p + len, avcc.length);
      if (end > p) {
        const type = avcc[p] & 0x1f;
        if (type === NAL_SPS) {
          this.sps = avcc.slice(p, end);
        } else if (type === NAL_PPS) {
          this.pps = avcc.slice(p, end);
        } else if (type !== NAL_AUD && type !== NAL_FILLER) {
          if (type === NAL_IDR) idr = true;
          b.push(p, end);
        }
      }
      p = end;
    }
    if (b.length === 0) return [];
    const params = idr && this.sps !== undefined && this.pps !== undefined ? [this.sps, this.pps] : [];
    return this.build(avcc, b, params, timestamp);
  }

  /** Packetizes NAL units given as views (tests and callers that already split them). */
  packetizeNalUnits(
    nals: readonly Uint8Array[],
    timestamp: number,
    parameterSets: readonly Uint8Array[] = [],
  ): Buffer[] {
    // Concatenate bounds over a virtual buffer: simplest is to pack them into one AVCC buffer.
    let size = 0;
    for (const n of nals) size += 4 + n.length;
    const avcc = new Uint8Array(size);
    let p = 0;
    const b: number[] = [];
    for (const n of nals) {
      avcc[p] = (n.length >>> 24) & 0xff;
      avcc[p + 1] = (n.length >>> 16) & 0xff;
      avcc[p + 2] = (n.length >>> 8) & 0xff;
      avcc[p + 3] = n.length & 0xff;
      avcc.set(n, p + 4);
      b.push(p + 4, p + 4 + n.length);
      p += 4 + n.length;
    }
    return this.build(avcc, b, parameterSets, timestamp);
  }

  private build(
    src: Uint8Array,
    b: readonly number[],
    params: readonly Uint8Array[],
    timestamp: number,
  ): Buffer[] {
    const max = this.maxPayload;
    // Size pass: count packets and bytes, then allocate once.
    let stapSize = 1;
    for (const ps of params) stapSize += 2 + ps.length;
    const stap = params.length > 0 && stapSize <= max;
    let count = 0;
    let bytes = 0;
    if (stap) {
      count++;
      bytes += RTP_HEADER_SIZE + stapSize;
    } else {
      for (const ps of params) {
        const n = fragmentsOf(ps.length, max);
        count += n;
        bytes += n * RTP_HEADER_SIZE + (n > 1 ? ps.length - 1 + 2 * n : ps.length);
      }
    }
    for (let i = 0; i < b.length; i += 2) {
      const len = b[i + 1] - b[i];
      const n = fragmentsOf(len, max);
      count += n;
      bytes += n * RTP_HEADER_SIZE + (n > 1 ? len - 1 + 2 * n : len);
    }
    const out = Buffer.allocUnsafeSlow(bytes);
    const packets: Buffer[] = new Array(count);
    let k = 0;
    let o = 0;
    const last = count - 1;
    const emit = (start: number, size: number): void => {
      writeRtpHeader(out, start, k === last, this.payloadType, this.seq, timestamp, this.ssrc);
      this.seq = (this.seq + 1) & 0xffff;
      packets[k++] = out.subarray(start, start + size);
    };
    const writeNal = (nal: Uint8Array, s: number, e: number): void => {
      const len = e - s;
      const n = fragmentsOf(len, max);
      if (n === 1) {
        out.set(nal.subarray(s, e), o + RTP_HEADER_SIZE);
        emit(o, RTP_HEADER_SIZE + len);
        o += RTP_HEADER_SIZE + len;
        return;
      }
      const header = nal[s];
      const indicator = (header & 0xe0) | NAL_FU_A;
      const type = header & 0x1f;
      const body = len - 1;
      // Balanced fragments: the first `rem` carry one byte more, none is tiny.
      const base = Math.floor(body / n);
      const rem = body % n;
      let q = s + 1;
      for (let f = 0; f < n; f++) {
        const take = f < rem ? base + 1 : base;
        out[o + RTP_HEADER_SIZE] = indicator;
        out[o + RTP_HEADER_SIZE + 1] = (f === 0 ? 0x80 : 0) | (f === n - 1 ? 0x40 : 0) | type;
        out.set(nal.subarray(q, q + take), o + RTP_HEADER_SIZE + 2);
        emit(o, RTP_HEADER_SIZE + 2 + take);
        o += RTP_HEADER_SIZE + 2 + take;
        q += take;
      }
    };
    if (stap) {
      let nri = 0;
      for (const ps of params) nri = Math.max(nri, ps[0] & 0x60);
      let w = o + RTP_HEADER_SIZE;
      out[w++] = nri | NAL_STAP_A;
      for (const ps of params) {
        out[w++] = (ps.length >>> 8) & 0xff;
        out[w++] = ps.length & 0xff;
        out.set(ps, w);
        w += ps.length;
      }
      emit(o, w - o);
      o = w;
    } else {
      for (const ps of params) writeNal(ps, 0, ps.length);
    }
    for (let i = 0; i < b.length; i += 2) writeNal(src, b[i], b[i + 1]);
    return packets;
  }
}

/** Number of packets a NAL unit of `len` bytes takes: 1, or FU-A fragments of at most max-2 bytes of body. */
function fragmentsOf(len: number, max: number): number {
  if (len <= max) return 1;
  return Math.ceil((len - 1) / (max - 2));
}
