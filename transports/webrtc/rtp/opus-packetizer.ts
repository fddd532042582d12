import type { RtpPacketizerOptions } from './h264-packetizer.js';
import { RTP_HEADER_SIZE, writeRtpHeader } from './rtp-header.js';

/** An Opus packet larger than this is not a valid single Opus packet (RFC 6716, 3.2.1: 1,275 bytes per frame, up to 120 ms). */
export const MAX_OPUS_PACKET = 1275 * 3;

/**
 * Opus RTP packetizer (RFC 7587, section 4): one Opus packet per RTP packet, 48 kHz clock
 * whatever the input rate, marker bit 0 (no DTX signalling here).
 */
export class OpusPacketizer {
  readonly ssrc: number;
  readonly payloadType: number;
  private seq: number;

  constructor(opts: RtpPacketizerOptions) {
    this.ssrc = opts.ssrc >>> 0;
    this.payloadType = opts.payloadType;
    this.seq = (opts.initialSeq ?? 0) & 0xffff;
  }

  packetize(opus: Uint8Array, timestamp: number): Buffer[] {
    if (opus.length === 0) return [];
    if (opus.length > MAX_OPUS_PACKET) throw new RangeError(`Opus packet of ${opus.length} bytes`);
    const out = Buffer.allocUnsafeSlow(RTP_HEADER_SIZE + opus.length);
    writeRtpHeader(out, 0, false, this.payloadType, this.seq, timestamp, this.ssrc);
    this.seq = (this.seq + 1) & 0xffff;
    out.set(opus, RTP_HEADER_SIZE);
    return [out];
  }
}
