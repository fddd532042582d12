import { RtcpError } from '../errors.js';
import { readU32, writeU32 } from './rtp-header.js';

/**
 * RTCP common header (RFC 3550, section 6.4.1); feedback messages (RFC 4585, section 6.1) put
 * FMT in the count field.
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |V=2|P| RC/FMT  |      PT       |     length (words - 1)        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 */
export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_RTPFB = 205;
export const RTCP_PSFB = 206;

/** Report block (RFC 3550, section 6.4.1). */
export interface ReportBlock {
  ssrc: number;
  fractionLost: number;
  /** Signed 24-bit cumulative count. */
  packetsLost: number;
  highestSeq: number;
  jitter: number;
  lsr: number;
  dlsr: number;
}

export type RtcpPacket =
  | {
      type: 'sr';
      ssrc: number;
      ntpSec: number;
      ntpFrac: number;
      rtpTimestamp: number;
      packetCount: number;
      octetCount: number;
      reports: ReportBlock[];
    }
  | { type: 'rr'; ssrc: number; reports: ReportBlock[] }
  | { type: 'sdes' }
  | { type: 'bye'; ssrcs: number[] }
  /** Generic NACK (RFC 4585, section 6.2.1): the lost sequence numbers, expanded from PID+BLP. */
  | { type: 'nack'; senderSsrc: number; mediaSsrc: number; lost: number[] }
  /** Picture Loss Indication (RFC 4585, section 6.3.1). */
  | { type: 'pli'; senderSsrc: number; mediaSsrc: number }
  /** Full Intra Request (RFC 5104, section 4.3.1). */
  | { type: 'fir'; senderSsrc: number; entries: { ssrc: number; seq: number }[] }
  /** Receiver Estimated Max Bitrate (draft-alvestrand-rmcat-remb, PSFB FMT 15 with "REMB"). */
  | { type: 'remb'; senderSsrc: number; bitrate: number; ssrcs: number[] }
  | { type: 'other'; packetType: number; fmt: number };

/** Upper bound of packets in one compound datagram (a 1,500-byte datagram holds at most 375 headers). */
export const MAX_RTCP_PACKETS = 400;

/** Parses a compound RTCP packet; throws RtcpError when a header or a length is inconsistent. */
export function parseRtcp(buf: Uint8Array): RtcpPacket[] {
  const out: RtcpPacket[] = [];
  let p = 0;
  if (buf.length < 4) throw new RtcpError('RTCP packet shorter than its header');
  while (p < buf.length) {
    if (out.length >= MAX_RTCP_PACKETS) throw new RtcpError('too many RTCP packets in one datagram');
    if (p + 4 > buf.length) throw new RtcpError('truncated RTCP header');
    const b0 = buf[p];
    if (b0 >> 6 !== 2) throw new RtcpError(`RTCP version ${b0 >> 6}`);
    const count = b0 & 0x1f;
    const pt = buf[p + 1];
    const size = (((buf[p + 2] << 8) | buf[p + 3]) + 1) * 4;
    const end = p + size;
    if (end > buf.length) throw new RtcpError(`RTCP packet type ${pt} runs past the datagram`);
    let bodyEnd = end;
    if (b0 & 0x20) {
      const pad = buf[end - 1];
      if (pad === 0 || pad > size - 4) throw new RtcpError('bad RTCP padding');
      bodyEnd = end - pad;
    }
    out.push(parseOne(buf, p, bodyEnd, pt, count));
    p = end;
  }
  return out;
}

function need(ok: boolean, what: string): void {
  if (!ok) throw new RtcpError(`truncated RTCP ${what}`);
}

function parseReports(buf: Uint8Array, p: number, end: number, count: number): ReportBlock[] {
  need(p + count * 24 <= end, 'report blocks');
  const reports: ReportBlock[] = [];
  for (let i = 0; i < count; i++, p += 24) {
    const lost = (buf[p + 5] << 16) | (buf[p + 6] << 8) | buf[p + 7];
    reports.push({
      ssrc: readU32(buf, p),
      fractionLost: buf[p + 4],
      packetsLost: lost & 0x800000 ? lost - 0x1000000 : lost,
      highestSeq: readU32(buf, p + 8),
      jitter: readU32(buf, p + 12),
      lsr: readU32(buf, p + 16),
      dlsr: readU32(buf, p + 20),
    });
  }
  return reports;
}

function parseOne(buf: Uint8Array, p: number, end: number, pt: number, count: number): RtcpPacket {
  switch (pt) {
    case RTCP_SR: {
      need(p + 28 <= end, 'SR');
      return {
        type: 'sr',
        ssrc: readU32(buf, p + 4),
        ntpSec: readU32(buf, p + 8),
        ntpFrac: readU32(buf, p + 12),
        rtpTimestamp: readU32(buf, p + 16),
        packetCount: readU32(buf, p + 20),
        octetCount: readU32(buf, p + 24),
        reports: parseReports(buf, p + 28, end, count),
      };
    }
    case RTCP_RR: {
      need(p + 8 <= end, 'RR');
      return { type: 'rr', ssrc: readU32(buf, p + 4), reports: parseReports(buf, p + 8, end, count) };
    }
    case RTCP_SDES: {
      return { type: 'sdes' };
    }
    case RTCP_BYE: {
      need(p + 4 + count * 4 <= end, 'BYE');
      const ssrcs: number[] = [];
      for (let i = 0; i < count; i++) ssrcs.push(readU32(buf, p + 4 + i * 4));
      return { type: 'bye', ssrcs };
    }
    case RTCP_RTPFB: {
      need(p + 12 <= end, 'RTPFB');
      if (count !== 1) return { type: 'other', packetType: pt, fmt: count };
      const lost: number[] = [];
      for (let q = p + 12; q + 4 <= end; q += 4) {
        const pid = (buf[q] << 8) | buf[q + 1];
        const blp = (buf[q + 2] << 8) | buf[q + 3];
        lost.push(pid);
        for (let bit = 0; bit < 16; bit++) if (blp & (1 << bit)) lost.push((pid + bit + 1) & 0xffff);
      }
      return { type: 'nack', senderSsrc: readU32(buf, p + 4), mediaSsrc: readU32(buf, p + 8), lost };
    }
    case RTCP_PSFB: {
      need(p + 12 <= end, 'PSFB');
      const senderSsrc = readU32(buf, p + 4);
      if (count === 1) return { type: 'pli', senderSsrc, mediaSsrc: readU32(buf, p + 8) };
      if (count === 4) {
        const entries: { ssrc: number; seq: number }[] = [];
        for (let q = p + 12; q + 8 <= end; q += 8) entries.push({ ssrc: readU32(buf, q), seq: buf[q + 4] });
        return { type: 'fir', senderSsrc, entries };
      }
      if (
        count === 15 &&
        p + 20 <= end &&
        buf[p + 12] === 0x52 &&
        buf[p + 13] === 0x45 &&
        buf[p + 14] === 0x4d &&
        buf[p + 15] === 0x42
      ) {
        const n = buf[p + 16];
        need(p + 20 + n * 4 <= end, 'REMB SSRC list');
        const exp = buf[p + 17] >> 2;
        const mantissa = ((buf[p + 17] & 3) << 16) | (buf[p + 18] << 8) | buf[p + 19];
        const ssrcs: number[] = [];
        for (let i = 0; i < n; i++) ssrcs.push(readU32(buf, p + 20 + i * 4));
        return { type: 'remb', senderSsrc, bitrate: mantissa * 2 ** exp, ssrcs };
      }
      return { type: 'other', packetType: pt, fmt: count };
    }
    default: {
      return { type: 'other', packetType: pt, fmt: count };
    }
  }
}

export const SENDER_REPORT_SIZE = 28;

/** Seconds between 1900-01-01 (NTP era 0) and 1970-01-01. */
const NTP_UNIX_OFFSET = 2_208_988_800;

/** Splits a Unix time in ms into NTP seconds and fraction (RFC 3550, section 4). */
export function ntpFromUnixMs(ms: number): { sec: number; frac: number } {
  const s = Math.floor(ms / 1000);
  const frac = Math.floor(((ms - s * 1000) / 1000) * 0x1_0000_0000);
  return { sec: (s + NTP_UNIX_OFFSET) >>> 0, frac: frac >>> 0 };
}

/**
 * Writes a Sender Report with no report blocks (RFC 3550, section 6.4.1): we only send.
 * ```
 * [V=2|P|RC=0|PT=200|length=6] [SSRC] [NTP sec] [NTP frac] [RTP ts] [packet count] [octet count]
 * ```
 */
export function writeSenderReport(
  sr: {
    ssrc: number;
    ntpSec: number;
    ntpFrac: number;
    rtpTimestamp: number;
    packetCount: number;
    octetCount: number;
  },
  out: Uint8Array,
  offset: number,
): number {
  if (offset + SENDER_REPORT_SIZE > out.length) throw new RangeError('sender report does not fit');
  out[offset] = 0x80;
  out[offset + 1] = RTCP_SR;
  out[offset + 2] = 0;
  out[offset + 3] = 6;
  writeU32(out, offset + 4, sr.ssrc);
  writeU32(out, offset + 8, sr.ntpSec);
  writeU32(out, offset + 12, sr.ntpFrac);
  writeU32(out, offset + 16, sr.rtpTimestamp);
  writeU32(out, offset + 20, sr.packetCount >>> 0);
  writeU32(out, offset + 24, sr.octetCount >>> 0);
  return SENDER_REPORT_SIZE;
}

/** Builds a Generic NACK (clients and tests): one FCI per PID with its 16-bit BLP. */
export function encodeNack(senderSsrc: number, mediaSsrc: number, lost: readonly number[]): Buffer {
  const sorted = [...new Set(lost.map((s) => s & 0xffff))].sort((a, b) => a - b);
  const fci: number[] = [];
  let i = 0;
  while (i < sorted.length) {
    const pid = sorted[i++];
    let blp = 0;
    while (i < sorted.length && sorted[i] - pid <= 16) blp |= 1 << (sorted[i++] - pid - 1);
    fci.push(pid, blp);
  }
  const out = Buffer.alloc(12 + (fci.length / 2) * 4);
  out[0] = 0x81;
  out[1] = RTCP_RTPFB;
  out.writeUInt16BE(out.length / 4 - 1, 2);
  writeU32(out, 4, senderSsrc);
  writeU32(out, 8, mediaSsrc);
  for (let k = 0; k < fci.length; k += 2) {
    out.writeUInt16BE(fci[k], 12 + k * 2);
    out.writeUInt16BE(fci[k + 1], 14 + k * 2);
  }
  return out;
}

/** Builds a PLI (clients and tests). */
export function encodePli(senderSsrc: number, mediaSsrc: number): Buffer {
  const out = Buffer.alloc(12);
  out[0] = 0x81;
  out[1] = RTCP_PSFB;
  out[3] = 2;
  writeU32(out, 4, senderSsrc);
  writeU32(out, 8, mediaSsrc);
  return out;
}
