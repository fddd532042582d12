import { UnsupportedCodecError } from '../../engine/errors.js';
import type { AudioCodec, VideoCodec } from '../frame/media-frame.js';
import { parseOpusHead } from '../opus/opus-head.js';

/** One track of a CMAF init segment. */
export type InitTrack =
  | {
      kind: 'video';
      trackId: number;
      codec: Extract<VideoCodec, 'h264' | 'h265'>;
      timescale: number;
      width: number;
      height: number;
      /** avcC / hvcC record bytes. */
      config: Uint8Array;
    }
  | {
      kind: 'audio';
      trackId: number;
      codec: Extract<AudioCodec, 'aac' | 'opus'>;
      timescale: number;
      sampleRate: number;
      channels: number;
      /** AudioSpecificConfig (AAC) or OpusHead (Opus). */
      config: Uint8Array;
    };

const enc = new TextEncoder();

/** An ISO BMFF box (ISO/IEC 14496-12 4.2): size:32 | type:32 | payload. Cold path (init segments). */
export function box(type: string, ...parts: Uint8Array[]): Uint8Array {
  let size = 8;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  new DataView(out.buffer).setUint32(0, size);
  out.set(enc.encode(type), 4);
  let o = 8;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A FullBox: version:8 flags:24 before the payload. */
export function fullBox(type: string, version: number, flags: number, ...parts: Uint8Array[]): Uint8Array {
  return box(type, Uint8Array.of(version, (flags >> 16) & 0xff, (flags >> 8) & 0xff, flags & 0xff), ...parts);
}

function u8s(...fields: Array<[number, number]>): Uint8Array {
  let n = 0;
  for (const [, w] of fields) n += w;
  const out = new Uint8Array(n);
  const dv = new DataView(out.buffer);
  let o = 0;
  for (const [v, w] of fields) {
    if (w === 1) dv.setUint8(o, v);
    else if (w === 2) dv.setUint16(o, v);
    else if (w === 4) dv.setUint32(o, v >>> 0);
    o += w;
  }
  return out;
}

const MATRIX = u8s(
  [0x10000, 4],
  [0, 4],
  [0, 4],
  [0, 4],
  [0x10000, 4],
  [0, 4],
  [0, 4],
  [0, 4],
  [0x40000000, 4],
);

function mvhd(nextTrackId: number): Uint8Array {
  return fullBox(
    'mvhd',
    0,
    0,
    u8s([0, 4], [0, 4], [1000, 4], [0, 4], [0x10000, 4], [0x100, 2], [0, 2], [0, 4], [0, 4]),
    MATRIX,
    new Uint8Array(24),
    u8s([nextTrackId, 4]),
  );
}

function tkhd(t: InitTrack): Uint8Array {
  const video = t.kind === 'video';
  return fullBox(
    'tkhd',
    0,
    3,
    u8s(
      [0, 4],
      [0, 4],
      [t.trackId, 4],
      [0, 4],
      [0, 4],
      [0, 4],
      [0, 4],
      [0, 2],
      [0, 2],
      [video ? 0 : 0x100, 2],
      [0, 2],
    ),
    MATRIX,
    u8s([video ? t.width << 16 : 0, 4], [video ? t.height << 16 : 0, 4]),
  );
}

function esDescriptor(tag: number, body: Uint8Array): Uint8Array {
  // Size in the 4-byte expandable form (ISO/IEC 14496-1 8.3.3) so any length fits.
  const n = body.length;
  const out = new Uint8Array(5 + n);
  out[0] = tag;
  out[1] = 0x80 | ((n >> 21) & 0x7f);
  out[2] = 0x80 | ((n >> 14) & 0x7f);
  out[3] = 0x80 | ((n >> 7) & 0x7f);
  out[4] = n & 0x7f;
  out.set(body, 5);
  return out;
}

function esds(trackId: number, asc: Uint8Array): Uint8Array {
  const dsi = esDescriptor(5, asc);
  // objectTypeIndication 0x40 (Audio ISO/IEC 14496-3), streamType 5 (audio) << 2 | upStream 0 | reserved 1
  const dcd = esDescriptor(4, concat(u8s([0x40, 1], [0x15, 1], [0, 1], [0, 2], [0, 4], [0, 4]), dsi));
  const sl = esDescriptor(6, Uint8Array.of(2));
  return fullBox('esds', 0, 0, esDescriptor(3, concat(u8s([trackId, 2], [0, 1]), dcd, sl)));
}

/** dOps (Opus in ISO BMFF, 4.3.2): big-endian fields taken from the OpusHead. */
function dOps(opusHead: Uint8Array): Uint8Array {
  const h = parseOpusHead(opusHead, 0);
  const fixed = u8s(
    [0, 1],
    [h.channels, 1],
    [h.preSkip, 2],
    [h.inputSampleRate, 4],
    [h.outputGain & 0xffff, 2],
    [h.mappingFamily, 1],
  );
  return box('dOps', fixed, h.mappingFamily !== 0 ? h.mappingTable : new Uint8Array(0));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function sampleEntry(t: InitTrack): Uint8Array {
  if (t.kind === 'video') {
    // VisualSampleEntry (14496-12 12.1.3)
    const fields = concat(
      new Uint8Array(6),
      u8s([1, 2], [0, 2], [0, 2], [0, 4], [0, 4], [0, 4], [t.width, 2], [t.height, 2]),
      u8s([0x480000, 4], [0x480000, 4], [0, 4], [1, 2]),
      new Uint8Array(32),
      u8s([0x18, 2], [0xffff, 2]),
    );
    if (t.codec === 'h264') return box('avc1', fields, box('avcC', t.config));
    if (t.codec === 'h265') return box('hvc1', fields, box('hvcC', t.config));
    throw new UnsupportedCodecError(`fMP4 video codec ${t.codec as string}`);
  }
  // AudioSampleEntry (14496-12 12.2.3)
  const rate = t.codec === 'opus' ? 48000 : t.sampleRate;
  const fields = concat(
    new Uint8Array(6),
    u8s([1, 2], [0, 4], [0, 4], [t.channels, 2], [16, 2], [0, 2], [0, 2], [rate * 65536, 4]),
  );
  if (t.codec === 'aac') return box('mp4a', fields, esds(t.trackId, t.config));
  if (t.codec === 'opus') return box('Opus', fields, dOps(t.config));
  throw new UnsupportedCodecError(`fMP4 audio codec ${t.codec as string}`);
}

function trak(t: InitTrack): Uint8Array {
  const video = t.kind === 'video';
  const hdlr = fullBox(
    'hdlr',
    0,
    0,
    u8s([0, 4]),
    enc.encode(video ? 'vide' : 'soun'),
    new Uint8Array(12),
    enc.encode(video ? 'VideoHandler\0' : 'SoundHandler\0'),
  );
  const mediaHeader = video
    ? fullBox('vmhd', 0, 1, new Uint8Array(8))
    : fullBox('smhd', 0, 0, new Uint8Array(4));
  const dinf = box('dinf', fullBox('dref', 0, 0, u8s([1, 4]), fullBox('url ', 0, 1)));
  const stbl = box(
    'stbl',
    fullBox('stsd', 0, 0, u8s([1, 4]), sampleEntry(t)),
    fullBox('stts', 0, 0, u8s([0, 4])),
    fullBox('stsc', 0, 0, u8s([0, 4])),
    fullBox('stsz', 0, 0, u8s([0, 4], [0, 4])),
    fullBox('stco', 0, 0, u8s([0, 4])),
  );
  const mdhd = fullBox('mdhd', 0, 0, u8s([0, 4], [0, 4], [t.timescale, 4], [0, 4], [0x55c4, 2], [0, 2]));
  return box('trak', tkhd(t), box('mdia', mdhd, hdlr, box('minf', mediaHeader, dinf, stbl)));
}

/** ftyp + moov (mvhd, one trak per track, mvex/trex): the EXT-X-MAP of an LL-HLS stream. */
export function encodeInitSegment(tracks: InitTrack[]): Uint8Array {
  const ftyp = box('ftyp', enc.encode('iso6'), u8s([0, 4]), enc.encode('iso6cmfciso5mp41'));
  const nextId = Math.max(0, ...tracks.map((t) => t.trackId)) + 1;
  const mvex = box(
    'mvex',
    ...tracks.map((t) => fullBox('trex', 0, 0, u8s([t.trackId, 4], [1, 4], [0, 4], [0, 4], [0, 4]))),
  );
  return concat(ftyp, box('moov', mvhd(nextId), ...tracks.map(trak), mvex));
}
