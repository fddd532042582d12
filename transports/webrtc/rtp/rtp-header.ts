/**
 * RTP fixed header (RFC 3550, section 5.1), the only layout this egress writes: no CSRC, no
 * header extension.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           timestamp                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           synchronization source (SSRC) identifier            |
 * +=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+=+
 * ```
 */
export const RTP_HEADER_SIZE = 12;

/**
 * Payload bytes per RTP packet: 1,200 bytes of RTP payload keeps the SRTP packet (+10 auth tag)
 * within a 1,280-byte IPv6 minimum MTU path after IP/UDP headers, as browsers do.
 */
export const DEFAULT_MAX_PAYLOAD = 1188;

export function writeRtpHeader(
  out: Uint8Array,
  offset: number,
  marker: boolean,
  payloadType: number,
  seq: number,
  timestamp: number,
  ssrc: number,
): number {
  if (offset + RTP_HEADER_SIZE > out.length) throw new RangeError('RTP header does not fit');
  out[offset] = 0x80;
  out[offset + 1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  out[offset + 2] = (seq >>> 8) & 0xff;
  out[offset + 3] = seq & 0xff;
  writeU32(out, offset + 4, timestamp);
  writeU32(out, offset + 8, ssrc);
  return RTP_HEADER_SIZE;
}

/** Rewrites, in place, the per-viewer fields of a built packet: payload type, sequence, timestamp. */
export function patchRtpHeader(pkt: Uint8Array, payloadType: number, seq: number, timestamp: number): void {
  pkt[1] = (pkt[1] & 0x80) | (payloadType & 0x7f);
  pkt[2] = (seq >>> 8) & 0xff;
  pkt[3] = seq & 0xff;
  writeU32(pkt, 4, timestamp);
}

export function writeU32(out: Uint8Array, p: number, v: number): void {
  out[p] = (v >>> 24) & 0xff;
  out[p + 1] = (v >>> 16) & 0xff;
  out[p + 2] = (v >>> 8) & 0xff;
  out[p + 3] = v & 0xff;
}

export function readU32(buf: Uint8Array, p: number): number {
  return ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
}

export interface RtpHeaderView {
  marker: boolean;
  payloadType: number;
  seq: number;
  timestamp: number;
  ssrc: number;
  /** Offset of the payload (after CSRCs and extension). */
  payloadOffset: number;
}

/** Parses an RTP header (tests, the load client); returns undefined when it is not RTP v2. */
export function readRtpHeader(buf: Uint8Array): RtpHeaderView | undefined {
  if (buf.length < RTP_HEADER_SIZE || buf[0] >> 6 !== 2) return undefined;
  let p = RTP_HEADER_SIZE + (buf[0] & 0x0f) * 4;
  if (buf[0] & 0x10) {
    if (p + 4 > buf.length) return undefined;
    p += 4 + ((buf[p + 2] << 8) | buf[p + 3]) * 4;
  }
  if (p > buf.length) return undefined;
  return {
    marker: (buf[1] & 0x80) !== 0,
    payloadType: buf[1] & 0x7f,
    seq: (buf[2] << 8) | buf[3],
    timestamp: readU32(buf, 4),
    ssrc: readU32(buf, 8),
    payloadOffset: p,
  };
}

/** True when a datagram demuxed onto an RTP track is RTCP (RFC 5761, section 4: PT 64-95 after the marker). */
export function isRtcp(buf: Uint8Array): boolean {
  return buf.length >= 8 && buf[1] >= 192 && buf[1] <= 223;
}
