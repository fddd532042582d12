import { describe, expect, it } from 'vitest';
import { RtcpError } from '../../../../../transports/webrtc/errors.js';
import { OpusPacketizer } from '../../../../../transports/webrtc/rtp/opus-packetizer.js';
import {
  encodeNack,
  encodePli,
  ntpFromUnixMs,
  parseRtcp,
  writeSenderReport,
} from '../../../../../transports/webrtc/rtp/rtcp.js';
import { readRtpHeader } from '../../../../../transports/webrtc/rtp/rtp-header.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));

describe('parseRtcp', () => {
  it('parses a Chromium-style compound RR + SDES + NACK + PLI', () => {
    const rr = hex('81c90007 00000001 aabbccdd 01000003 00001234 00000010 00000000 00000000');
    const sdes = hex('81ca0002 00000001 00000000');
    const nack = encodeNack(1, 0xaabbccdd, [100, 101, 117, 200]);
    const pli = encodePli(1, 0xaabbccdd);
    const pkts = parseRtcp(Buffer.concat([rr, sdes, nack, pli]));
    expect(pkts.map((p) => p.type)).toEqual(['rr', 'sdes', 'nack', 'pli']);
    expect(pkts[0]).toMatchObject({
      ssrc: 1,
      reports: [{ ssrc: 0xaabbccdd, fractionLost: 1, packetsLost: 3, highestSeq: 0x1234 }],
    });
    expect(pkts[2]).toEqual({
      type: 'nack',
      senderSsrc: 1,
      mediaSsrc: 0xaabbccdd,
      lost: [100, 101, 117, 200],
    });
    expect(pkts[3]).toEqual({ type: 'pli', senderSsrc: 1, mediaSsrc: 0xaabbccdd });
  });

  it('parses FIR and REMB', () => {
    const fir = hex('84ce0004 00000001 00000000 aabbccdd 07000000');
    const remb = hex('8fce0005 00000001 00000000 52454d42 01 0a 7a 12 aabbccdd');
    const [f, r] = parseRtcp(Buffer.concat([fir, remb]));
    expect(f).toEqual({ type: 'fir', senderSsrc: 1, entries: [{ ssrc: 0xaabbccdd, seq: 7 }] });
    expect(r).toEqual({ type: 'remb', senderSsrc: 1, bitrate: 0x27a12 * 4, ssrcs: [0xaabbccdd] });
  });

  it('round-trips a sender report', () => {
    const out = new Uint8Array(28);
    const ntp = ntpFromUnixMs(1_700_000_000_500);
    writeSenderReport(
      {
        ssrc: 9,
        ntpSec: ntp.sec,
        ntpFrac: ntp.frac,
        rtpTimestamp: 4_000_000_000,
        packetCount: 10,
        octetCount: 9999,
      },
      out,
      0,
    );
    expect(parseRtcp(out)[0]).toEqual({
      type: 'sr',
      ssrc: 9,
      ntpSec: 1_700_000_000 + 2_208_988_800,
      ntpFrac: 0x80000000,
      rtpTimestamp: 4_000_000_000,
      packetCount: 10,
      octetCount: 9999,
      reports: [],
    });
  });

  it('throws RtcpError on a length past the datagram, a bad version or bad padding', () => {
    expect(() => parseRtcp(hex('81c90007 00000001'))).toThrow(RtcpError);
    expect(() => parseRtcp(hex('41c90001 00000001'))).toThrow(/version/);
    expect(() => parseRtcp(hex('a1c90001 00000009'))).toThrow(/padding/);
    expect(() => parseRtcp(hex('80'))).toThrow(RtcpError);
  });
});

describe('OpusPacketizer', () => {
  it('makes one RTP packet per Opus packet, marker 0, given 48 kHz timestamp', () => {
    const p = new OpusPacketizer({ ssrc: 5, payloadType: 111, initialSeq: 10 });
    const [a] = p.packetize(Uint8Array.from([0xfc, 1, 2, 3]), 960);
    const [b] = p.packetize(Uint8Array.from([0xfc, 4]), 1920);
    expect(readRtpHeader(a)).toMatchObject({
      marker: false,
      payloadType: 111,
      seq: 10,
      timestamp: 960,
      ssrc: 5,
    });
    expect(readRtpHeader(b)!.seq).toBe(11);
    expect([...a.subarray(12)]).toEqual([0xfc, 1, 2, 3]);
  });
});
