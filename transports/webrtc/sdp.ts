import { SdpError } from './errors.js';

/**
 * SDP offer parsing and WHEP answer building (RFC 8866 syntax, RFC 8829 JSEP offer/answer,
 * RFC 6184 section 8.1 H.264 fmtp, RFC 7587 section 7 Opus, RFC 8843 BUNDLE, RFC 8839 ICE
 * attributes, RFC 8842 DTLS attributes).
 */

/** Offers above this are refused before parsing (a browser offer is 3-8 KB). */
export const MAX_SDP_SIZE = 64 * 1024;
/** More media sections than this is not a WHEP viewer. */
export const MAX_MEDIA_SECTIONS = 16;

export interface SdpRtpMap {
  codec: string;
  clockRate: number;
  channels: number;
}

export interface SdpMedia {
  kind: string;
  port: number;
  proto: string;
  formats: number[];
  mid: string | undefined;
  direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  rtpmap: Map<number, SdpRtpMap>;
  fmtp: Map<number, string>;
  rtcpFb: Map<number, string[]>;
  iceUfrag: string | undefined;
  icePwd: string | undefined;
  fingerprint: string | undefined;
  setup: string | undefined;
  candidates: string[];
}

export interface SdpOffer {
  iceUfrag: string | undefined;
  icePwd: string | undefined;
  fingerprint: string | undefined;
  setup: string | undefined;
  bundle: string[];
  media: SdpMedia[];
}

const DIRECTIONS = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

/** Parses an SDP offer; throws SdpError naming the first problem. */
export function parseSdp(text: string): SdpOffer {
  if (text.length > MAX_SDP_SIZE) throw new SdpError(`SDP of ${text.length} bytes exceeds ${MAX_SDP_SIZE}`);
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== 'v=0') throw new SdpError('SDP does not start with v=0');
  const offer: SdpOffer = {
    iceUfrag: undefined,
    icePwd: undefined,
    fingerprint: undefined,
    setup: undefined,
    bundle: [],
    media: [],
  };
  let m: SdpMedia | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') continue;
    if (line.length < 2 || line[1] !== '=' || line[0] < 'a' || line[0] > 'z') {
      throw new SdpError(`SDP line ${i + 1} is not <type>=<value>`);
    }
    const type = line[0];
    const value = line.slice(2);
    if (type === 'm') {
      const parts = value.split(' ');
      if (parts.length < 4) throw new SdpError(`SDP line ${i + 1}: m= needs media, port, proto and formats`);
      const port = Number(parts[1].split('/')[0]);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new SdpError(`SDP line ${i + 1}: bad port`);
      if (offer.media.length >= MAX_MEDIA_SECTIONS) throw new SdpError('too many media sections');
      const formats: number[] = [];
      for (const f of parts.slice(3)) {
        const n = Number(f);
        if (/^\d+$/.test(f) && n <= 127) formats.push(n);
      }
      m = {
        kind: parts[0],
        port,
        proto: parts[2],
        formats,
        mid: undefined,
        direction: 'sendrecv',
        rtpmap: new Map(),
        fmtp: new Map(),
        rtcpFb: new Map(),
        iceUfrag: undefined,
        icePwd: undefined,
        fingerprint: undefined,
        setup: undefined,
        candidates: [],
      };
      offer.media.push(m);
      continue;
    }
    if (type !== 'a') continue;
    const colon = value.indexOf(':');
    const name = colon < 0 ? value : value.slice(0, colon);
    const arg = colon < 0 ? '' : value.slice(colon + 1);
    const target = m ?? offer;
    switch (name) {
      case 'ice-ufrag': {
        target.iceUfrag = arg;
        break;
      }
      case 'ice-pwd': {
        target.icePwd = arg;
        break;
      }
      case 'fingerprint': {
        if (!/^\S+ [0-9A-Fa-f:]+$/.test(arg)) throw new SdpError(`SDP line ${i + 1}: bad fingerprint`);
        target.fingerprint = arg;
        break;
      }
      case 'setup': {
        target.setup = arg;
        break;
      }
      case 'group': {
        if (arg.startsWith('BUNDLE')) offer.bundle = arg.split(' ').slice(1).filter(Boolean);
        break;
      }
      default: {
        if (m === undefined) break;
        parseMediaAttribute(m, name, arg, i + 1);
      }
    }
  }
  if (offer.media.length === 0) throw new SdpError('SDP has no media section');
  const mids = new Set<string>();
  for (const media of offer.media) {
    if (media.mid === undefined) throw new SdpError(`m=${media.kind} section has no a=mid`);
    if (mids.has(media.mid)) throw new SdpError(`duplicate a=mid:${media.mid}`);
    mids.add(media.mid);
    if ((media.iceUfrag ?? offer.iceUfrag) === undefined || (media.icePwd ?? offer.icePwd) === undefined) {
      throw new SdpError(`m=${media.kind} section has no ICE credentials`);
    }
    if ((media.fingerprint ?? offer.fingerprint) === undefined) {
      throw new SdpError(`m=${media.kind} section has no DTLS fingerprint`);
    }
  }
  return offer;
}

function parseMediaAttribute(m: SdpMedia, name: string, arg: string, lineNo: number): void {
  if (DIRECTIONS.has(name)) {
    m.direction = name as SdpMedia['direction'];
    return;
  }
  switch (name) {
    case 'mid': {
      if (arg === '' || arg.length > 32) throw new SdpError(`SDP line ${lineNo}: bad a=mid`);
      m.mid = arg;
      return;
    }
    case 'rtpmap': {
      const match = /^(\d{1,3}) ([^/\s]+)\/(\d+)(?:\/(\d+))?$/.exec(arg);
      if (!match) throw new SdpError(`SDP line ${lineNo}: bad a=rtpmap`);
      m.rtpmap.set(Number(match[1]), {
        codec: match[2],
        clockRate: Number(match[3]),
        channels: match[4] === undefined ? 1 : Number(match[4]),
      });
      return;
    }
    case 'fmtp': {
      const match = /^(\d{1,3}) (.*)$/.exec(arg);
      if (!match) throw new SdpError(`SDP line ${lineNo}: bad a=fmtp`);
      m.fmtp.set(Number(match[1]), match[2]);
      return;
    }
    case 'rtcp-fb': {
      const match = /^(\d{1,3}|\*) (.+)$/.exec(arg);
      if (!match) return;
      const pt = match[1] === '*' ? -1 : Number(match[1]);
      const list = m.rtcpFb.get(pt) ?? [];
      list.push(match[2]);
      m.rtcpFb.set(pt, list);
      return;
    }
    case 'candidate': {
      if (m.candidates.length < 64) m.candidates.push(arg);
      return;
    }
    default: {
      return;
    }
  }
}

/** `key=value;key=value` of an fmtp line, keys lower-cased. */
export function parseFmtp(fmtp: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!fmtp) return out;
  for (const kv of fmtp.split(';')) {
    const eq = kv.indexOf('=');
    if (eq > 0) out.set(kv.slice(0, eq).trim().toLowerCase(), kv.slice(eq + 1).trim());
  }
  return out;
}

export interface ChosenCodec {
  mid: string;
  payloadType: number;
  /** fmtp to answer with (the offer's for H.264; Opus gets ours). */
  fmtp: string;
  rtcpFb: string[];
}

/**
 * Picks the H.264 payload type to answer with: packetization-mode=1 only; then the offer's
 * profile-level-id that matches `preferredProfile` (profile_idc byte, hex), then 42e01f, then
 * any constrained baseline, then the first.
 */
export function chooseH264(m: SdpMedia, preferredProfile?: string): ChosenCodec | undefined {
  const candidates: { pt: number; profile: string }[] = [];
  for (const pt of m.formats) {
    const map = m.rtpmap.get(pt);
    if (map === undefined || map.codec.toUpperCase() !== 'H264' || map.clockRate !== 90000) continue;
    const fmtp = parseFmtp(m.fmtp.get(pt));
    if (fmtp.get('packetization-mode') !== '1') continue;
    candidates.push({ pt, profile: (fmtp.get('profile-level-id') ?? '42e01f').toLowerCase() });
  }
  if (candidates.length === 0) return undefined;
  const rank = (profile: string): number => {
    if (preferredProfile && profile.slice(0, 2) === preferredProfile.slice(0, 2).toLowerCase()) {
      return profile === preferredProfile.toLowerCase() ? 0 : 1;
    }
    if (profile === '42e01f') return 2;
    if (profile.startsWith('42e0') || profile.startsWith('4200')) return 3;
    return 4;
  };
  candidates.sort((a, b) => rank(a.profile) - rank(b.profile));
  const pt = candidates[0].pt;
  return {
    mid: m.mid!,
    payloadType: pt,
    fmtp: m.fmtp.get(pt) ?? 'packetization-mode=1;profile-level-id=42e01f;level-asymmetry-allowed=1',
    rtcpFb: [...(m.rtcpFb.get(pt) ?? []), ...(m.rtcpFb.get(-1) ?? [])].filter((f) =>
      ['nack', 'nack pli', 'ccm fir'].includes(f),
    ),
  };
}

/** Picks opus/48000/2 (RFC 7587, section 7: always 48000/2 in the rtpmap). */
export function chooseOpus(m: SdpMedia): ChosenCodec | undefined {
  for (const pt of m.formats) {
    const map = m.rtpmap.get(pt);
    if (
      map === undefined ||
      map.codec.toLowerCase() !== 'opus' ||
      map.clockRate !== 48000 ||
      map.channels !== 2
    ) {
      continue;
    }
    return {
      mid: m.mid!,
      payloadType: pt,
      fmtp: 'minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1',
      rtcpFb: [],
    };
  }
  return undefined;
}

export interface AnswerTrack {
  codec: ChosenCodec;
  ssrc: number;
  /** Track id in a=msid. */
  trackId: string;
}

export interface AnswerParams {
  offer: SdpOffer;
  video?: AnswerTrack;
  audio?: AnswerTrack;
  /** Media stream id shared by both tracks in a=msid: the browser syncs tracks of one stream. */
  streamId: string;
  cname: string;
  iceUfrag: string;
  icePwd: string;
  /** `sha-256 AB:CD:…` */
  fingerprint: string;
  /** Our DTLS role: `active` or `passive` (never actpass in an answer). */
  setup: string;
  candidates: { ip: string; port: number }[];
  /** Announce ICE-lite (only when the ICE agent behind it really is lite). */
  iceLite?: boolean;
  sessionId?: string;
}

/** Builds the WHEP answer: one m-section per offered one, in order; those we do not serve are rejected (port 0). */
export function buildAnswer(a: AnswerParams): string {
  const out: string[] = [];
  const sessionId = a.sessionId ?? String(Math.floor(Math.random() * 2 ** 52));
  out.push('v=0', `o=- ${sessionId} 2 IN IP4 127.0.0.1`, 's=-', 't=0 0');
  const served = (m: SdpMedia): AnswerTrack | undefined =>
    a.video && a.video.codec.mid === m.mid
      ? a.video
      : a.audio && a.audio.codec.mid === m.mid
        ? a.audio
        : undefined;
  const accepted = a.offer.media.filter((m) => served(m) !== undefined).map((m) => m.mid!);
  if (accepted.length > 0) out.push(`a=group:BUNDLE ${accepted.join(' ')}`);
  if (a.iceLite) out.push('a=ice-lite');
  out.push(`a=msid-semantic: WMS ${a.streamId}`);
  const first = a.candidates[0];
  for (const m of a.offer.media) {
    const t = served(m);
    if (!t) {
      out.push(
        `m=${m.kind} 0 ${m.proto} ${m.formats[0] ?? 0}`,
        'c=IN IP4 0.0.0.0',
        `a=mid:${m.mid}`,
        'a=inactive',
      );
      continue;
    }
    const pt = t.codec.payloadType;
    const isVideo = t === a.video;
    out.push(
      `m=${m.kind} ${first ? first.port : 9} UDP/TLS/RTP/SAVPF ${pt}`,
      `c=IN IP4 ${first ? first.ip : '0.0.0.0'}`,
      `a=mid:${m.mid}`,
      m.direction === 'recvonly' || m.direction === 'sendrecv' ? 'a=sendonly' : 'a=inactive',
      'a=rtcp-mux',
      'a=rtcp-rsize',
      `a=ice-ufrag:${a.iceUfrag}`,
      `a=ice-pwd:${a.icePwd}`,
      `a=fingerprint:${a.fingerprint}`,
      `a=setup:${a.setup}`,
      isVideo ? `a=rtpmap:${pt} H264/90000` : `a=rtpmap:${pt} opus/48000/2`,
    );
    for (const fb of t.codec.rtcpFb) out.push(`a=rtcp-fb:${pt} ${fb}`);
    out.push(
      `a=fmtp:${pt} ${t.codec.fmtp}`,
      `a=msid:${a.streamId} ${t.trackId}`,
      `a=ssrc:${t.ssrc} cname:${a.cname}`,
      `a=ssrc:${t.ssrc} msid:${a.streamId} ${t.trackId}`,
    );
    for (const [i, c] of a.candidates.entries()) {
      out.push(`a=candidate:${i + 1} 1 udp ${2130706431 - i} ${c.ip} ${c.port} typ host`);
    }
    out.push('a=end-of-candidates');
  }
  return `${out.join('\r\n')}\r\n`;
}

/** The ICE credentials, fingerprint and DTLS role out of the stack's own local description. */
export function readTransportParams(sdp: string): {
  iceUfrag: string;
  icePwd: string;
  fingerprint: string;
  setup: string;
} {
  const get = (name: string): string => {
    const match = new RegExp(`^a=${name}:(.+)$`, 'm').exec(sdp);
    if (!match) throw new SdpError(`local description has no a=${name}`);
    return match[1].trim();
  };
  const setup = get('setup');
  return {
    iceUfrag: get('ice-ufrag'),
    icePwd: get('ice-pwd'),
    fingerprint: get('fingerprint'),
    setup: setup === 'actpass' ? 'passive' : setup,
  };
}

/** Parses a trickle-ice-sdpfrag (RFC 8840) body: ICE credentials and candidates per mid. */
export function parseSdpFragment(text: string): {
  iceUfrag?: string;
  icePwd?: string;
  candidates: { mid: string; candidate: string }[];
} {
  if (text.length > MAX_SDP_SIZE) throw new SdpError('SDP fragment too large');
  const out: { iceUfrag?: string; icePwd?: string; candidates: { mid: string; candidate: string }[] } = {
    candidates: [],
  };
  let mid = '0';
  for (const line of text.split(/\r?\n/)) {
    if (line === '') continue;
    if (line.length < 2 || line[1] !== '=') throw new SdpError('SDP fragment line is not <type>=<value>');
    if (line.startsWith('a=ice-ufrag:')) out.iceUfrag = line.slice(12).trim();
    else if (line.startsWith('a=ice-pwd:')) out.icePwd = line.slice(10).trim();
    else if (line.startsWith('a=mid:')) mid = line.slice(6).trim();
    else if (line.startsWith('a=candidate:') && out.candidates.length < 64) {
      out.candidates.push({ mid, candidate: line.slice(2).trim() });
    }
  }
  return out;
}
