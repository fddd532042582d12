import { describe, expect, it } from 'vitest';
import { SdpError } from '../../../../transports/webrtc/errors.js';
import {
  buildAnswer,
  chooseH264,
  chooseOpus,
  parseSdp,
  readTransportParams,
} from '../../../../transports/webrtc/sdp.js';
import { CHROME_OFFER } from './chrome-offer.js';

describe('parseSdp', () => {
  it('reads media sections, mids, rtpmaps, fmtp and ICE/DTLS attributes of a Chromium offer', () => {
    const o = parseSdp(CHROME_OFFER);
    expect(o.bundle).toEqual(['0', '1']);
    expect(o.media.map((m) => [m.kind, m.mid, m.direction])).toEqual([
      ['video', '0', 'recvonly'],
      ['audio', '1', 'recvonly'],
    ]);
    expect(o.media[0].rtpmap.get(106)).toEqual({ codec: 'H264', clockRate: 90000, channels: 1 });
    expect(o.media[0].iceUfrag).toBe('Wq4Z');
  });

  it.each([
    ['', /v=0/],
    ['v=0\r\nthis is not sdp', /line 2/],
    ['v=0\r\ns=-\r\n', /no media/],
    [
      'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=ice-ufrag:a\r\na=ice-pwd:b\r\na=fingerprint:sha-256 AA\r\n',
      /no a=mid/,
    ],
    ['v=0\r\nm=video x UDP 96\r\n', /bad port/],
    [CHROME_OFFER.replace(/a=fingerprint:[^\r]*\r\n/g, ''), /fingerprint/],
    [CHROME_OFFER.replace('a=rtpmap:96 VP8/90000', 'a=rtpmap:96 VP8'), /rtpmap/],
  ])('rejects malformed offer %# with a named SdpError', (sdp, why) => {
    expect(() => parseSdp(sdp)).toThrow(SdpError);
    expect(() => parseSdp(sdp)).toThrow(why);
  });
});

describe('codec choice', () => {
  it('prefers 42e01f with packetization-mode=1, or the profile the stream has', () => {
    const v = parseSdp(CHROME_OFFER).media[0];
    expect(chooseH264(v)?.payloadType).toBe(106);
    expect(chooseH264(v, '640c1f')?.payloadType).toBe(125);
    expect(chooseH264(v)?.rtcpFb).toEqual(['nack', 'nack pli']);
  });

  it('finds nothing in a VP8-only offer or one with packetization-mode=0 only', () => {
    const o = parseSdp(CHROME_OFFER.replace(/packetization-mode=1/g, 'packetization-mode=0'));
    expect(chooseH264(o.media[0])).toBeUndefined();
  });

  it('picks opus/48000/2', () => {
    expect(chooseOpus(parseSdp(CHROME_OFFER).media[1])?.payloadType).toBe(111);
  });
});

describe('buildAnswer', () => {
  it('answers sendonly, one payload type per track, msid on both, host candidate, and parses back', () => {
    const offer = parseSdp(CHROME_OFFER);
    const video = chooseH264(offer.media[0])!;
    const audio = chooseOpus(offer.media[1])!;
    const text = buildAnswer({
      offer,
      video: { codec: video, ssrc: 1111, trackId: 'video' },
      audio: { codec: audio, ssrc: 2222, trackId: 'audio' },
      streamId: 'rts-s',
      cname: 'c',
      iceUfrag: 'ufrg',
      icePwd: 'pwdpwdpwdpwdpwdpwdpwdp',
      fingerprint: 'sha-256 AA:BB',
      setup: 'active',
      candidates: [{ ip: '127.0.0.1', port: 40000 }],
    });
    expect(text).toContain('m=video 40000 UDP/TLS/RTP/SAVPF 106\r\n');
    expect(text).toContain('m=audio 40000 UDP/TLS/RTP/SAVPF 111\r\n');
    expect(text.match(/a=sendonly/g)).toHaveLength(2);
    expect(text).toContain('a=msid:rts-s video');
    expect(text).toContain('a=msid:rts-s audio');
    expect(text).toContain('a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host');
    expect(text).toContain('a=group:BUNDLE 0 1');
    const back = parseSdp(text);
    expect(back.media.map((m) => m.formats)).toEqual([[106], [111]]);
    expect(readTransportParams(text)).toEqual({
      iceUfrag: 'ufrg',
      icePwd: 'pwdpwdpwdpwdpwdpwdpwdp',
      fingerprint: 'sha-256 AA:BB',
      setup: 'active',
    });
  });

  it('rejects a media section it does not serve with port 0', () => {
    const offer = parseSdp(CHROME_OFFER);
    const text = buildAnswer({
      offer,
      video: { codec: chooseH264(offer.media[0])!, ssrc: 1, trackId: 'video' },
      streamId: 's',
      cname: 'c',
      iceUfrag: 'u',
      icePwd: 'p',
      fingerprint: 'sha-256 AA',
      setup: 'active',
      candidates: [{ ip: '127.0.0.1', port: 1 }],
    });
    expect(text).toMatch(/m=audio 0 UDP\/TLS\/RTP\/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=inactive/);
    expect(text).toContain('a=group:BUNDLE 0\r\n');
  });
});
