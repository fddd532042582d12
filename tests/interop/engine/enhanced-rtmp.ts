import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RtmpClient } from '../../../transports/rtmp/client.js';
import { ffmpegPath } from '../../support/binaries.js';

/**
 * Builds Enhanced RTMP (and legacy codec id 12) FLV bodies from an H.265 stream that ffmpeg
 * encodes (ffmpeg 4.1 cannot write HEVC into FLV itself), for publishing with our RtmpClient.
 */
export interface HevcAccessUnit {
  key: boolean;
  nals: Uint8Array[];
}

const NAL_VPS = 32;
const NAL_SPS = 33;
const NAL_PPS = 34;
const NAL_AUD = 35;

function splitAnnexB(buf: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = -1;
  for (let i = 0; i + 2 < buf.length; i++) {
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
      if (start >= 0) out.push(buf.subarray(start, i > 0 && buf[i - 1] === 0 ? i - 1 : i));
      start = i + 3;
      i += 2;
    }
  }
  if (start >= 0) out.push(buf.subarray(start));
  return out;
}

/** Encodes `seconds` of 320x240 at 25 fps H.265 (no B-frames, GOP 1 s) and splits it into access units. */
export function hevcAccessUnits(seconds = 4): {
  vps: Uint8Array;
  sps: Uint8Array;
  pps: Uint8Array;
  units: HevcAccessUnit[];
} {
  const file = join(tmpdir(), `rts-hevc-${seconds}s.hevc`);
  if (!existsSync(file)) {
    const r = spawnSync(ffmpegPath(), [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=25',
      '-t',
      String(seconds),
      '-c:v',
      'libx265',
      '-preset',
      'ultrafast',
      '-x265-params',
      'keyint=25:min-keyint=25:bframes=0:aud=1:log-level=error',
      '-pix_fmt',
      'yuv420p',
      '-f',
      'hevc',
      '-y',
      file,
    ]);
    if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  }
  const nals = splitAnnexB(new Uint8Array(readFileSync(file)));
  let vps: Uint8Array | undefined;
  let sps: Uint8Array | undefined;
  let pps: Uint8Array | undefined;
  const units: HevcAccessUnit[] = [];
  let cur: HevcAccessUnit | undefined;
  for (const n of nals) {
    const type = (n[0] >> 1) & 0x3f;
    if (type === NAL_AUD) {
      cur = { key: false, nals: [] };
      units.push(cur);
      continue;
    }
    if (type === NAL_VPS) vps ??= n;
    if (type === NAL_SPS) sps ??= n;
    if (type === NAL_PPS) pps ??= n;
    if (type >= 32) continue;
    if (!cur) {
      cur = { key: false, nals: [] };
      units.push(cur);
    }
    if (type >= 16 && type <= 21) cur.key = true;
    cur.nals.push(n);
  }
  if (!vps || !sps || !pps) throw new Error('no parameter sets in the HEVC stream');
  return { vps, sps, pps, units: units.filter((u) => u.nals.length > 0) };
}

/** HEVCDecoderConfigurationRecord (ISO 14496-15 8.3.3.1) with the profile bytes copied from the SPS. */
export function hvcC(vps: Uint8Array, sps: Uint8Array, pps: Uint8Array): Uint8Array {
  const arrays = [
    [NAL_VPS, vps],
    [NAL_SPS, sps],
    [NAL_PPS, pps],
  ] as const;
  const size = 23 + arrays.reduce((n, [, u]) => n + 5 + u.length, 0);
  const b = new Uint8Array(size);
  b[0] = 1;
  b.set(sps.subarray(3, 15), 1); // profile_space/tier/idc, compatibility flags, constraint flags, level
  b[13] = 0xf0;
  b[14] = 0;
  b[15] = 0xfc;
  b[16] = 0xfd; // chroma 4:2:0
  b[17] = 0xf8;
  b[18] = 0xf8;
  b[19] = 0;
  b[20] = 0;
  b[21] = 0x0f; // lengthSizeMinusOne = 3
  b[22] = arrays.length;
  let o = 23;
  for (const [type, u] of arrays) {
    b[o++] = 0x80 | type;
    b[o++] = 0;
    b[o++] = 1;
    b[o++] = u.length >> 8;
    b[o++] = u.length & 0xff;
    b.set(u, o);
    o += u.length;
  }
  return b;
}

function lengthPrefixed(nals: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(nals.reduce((n, u) => n + 4 + u.length, 0));
  let o = 0;
  for (const u of nals) {
    new DataView(out.buffer).setUint32(o, u.length);
    out.set(u, o + 4);
    o += 4 + u.length;
  }
  return out;
}

const FOURCC_HVC1 = [0x68, 0x76, 0x63, 0x31];

/** Enhanced RTMP bodies: SequenceStart then CodedFrames (with a zero composition time). */
export function enhancedHevcBodies(seconds = 4): {
  config: Uint8Array;
  frames: { key: boolean; body: Uint8Array }[];
} {
  const { vps, sps, pps, units } = hevcAccessUnits(seconds);
  const rec = hvcC(vps, sps, pps);
  const config = new Uint8Array([0x90 | 0, ...FOURCC_HVC1, ...rec]);
  const frames = units.map((u) => {
    const data = lengthPrefixed(u.nals);
    const body = new Uint8Array(8 + data.length);
    body[0] = 0x80 | ((u.key ? 1 : 2) << 4) | 1;
    body.set(FOURCC_HVC1, 1);
    body.set(data, 8); // SI24 composition time = 0 at bytes 5..7
    return { key: u.key, body };
  });
  return { config, frames };
}

/** The same stream with the legacy (non-standard) FLV codec id 12. */
export function legacyHevcBodies(seconds = 4): {
  config: Uint8Array;
  frames: { key: boolean; body: Uint8Array }[];
} {
  const { vps, sps, pps, units } = hevcAccessUnits(seconds);
  const config = new Uint8Array([0x1c, 0, 0, 0, 0, ...hvcC(vps, sps, pps)]);
  const frames = units.map((u) => {
    const data = lengthPrefixed(u.nals);
    const body = new Uint8Array(5 + data.length);
    body[0] = ((u.key ? 1 : 2) << 4) | 12;
    body[1] = 1;
    body.set(data, 5);
    return { key: u.key, body };
  });
  return { config, frames };
}

export interface BodyStream {
  config: Uint8Array;
  frames: { key: boolean; body: Uint8Array }[];
}

/** Publishes `s` in real time (25 fps) with our RTMP client; optional audio config + packets. */
export async function publishBodies(
  url: string,
  s: BodyStream,
  audio?: { config: Uint8Array; packet: Uint8Array },
) {
  const c = await RtmpClient.connect(url);
  await c.publish();
  c.writeMedia(9, 0, s.config);
  if (audio) c.writeMedia(8, 0, audio.config);
  let i = 0;
  const timer = setInterval(() => {
    const f = s.frames[i % s.frames.length];
    const ts = 40 * i;
    if (!c.closed) {
      c.writeMedia(9, ts, f.body);
      if (audio) c.writeMedia(8, ts, audio.packet);
    }
    i++;
  }, 40);
  return { client: c, stop: () => (clearInterval(timer), c.close()) };
}
