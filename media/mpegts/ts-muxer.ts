import { ProtocolError, UnsupportedCodecError } from '../../engine/errors.js';
import { ADTS_HEADER_SIZE, writeAdtsHeader } from '../aac/adts.js';
import { type AacConfig, parseAacConfig } from '../aac/audio-specific-config.js';
import type { AudioCodec, VideoCodec } from '../frame/media-frame.js';
import { decodeAvcConfig } from '../h264/avc-config.js';
import { readNalLength } from '../h264/nal-units.js';
import { decodeHevcConfig } from '../h265/hevc-config.js';
import {
  MAX_ACCESS_UNIT_SIZE,
  MAX_PES_PACKET_LENGTH,
  PID_AUDIO,
  PID_PAT,
  PID_PMT,
  PID_VIDEO,
  PTS_WRAP,
  STREAM_ID_AUDIO,
  STREAM_ID_VIDEO,
  STREAM_TYPE_AAC_ADTS,
  STREAM_TYPE_H264,
  STREAM_TYPE_H265,
  STREAM_TYPE_MPEG1_AUDIO,
  TS_PACKET_SIZE,
  TS_PAYLOAD_SIZE,
  TS_SYNC_BYTE,
} from './constants.js';
import { crc32Mpeg2 } from './crc32-mpeg2.js';
import type { SegmentBuffer } from './segment-buffer.js';

const START_CODE = Uint8Array.of(0, 0, 0, 1);
const AUD_H264 = Uint8Array.of(0, 0, 0, 1, 0x09, 0xf0);
const AUD_H265 = Uint8Array.of(0, 0, 0, 1, 0x46, 0x01, 0x50);

/** Milliseconds → 90 kHz ticks, wrapped to 33 bits. */
export function msTo90k(ms: number): number {
  const t = Math.round(ms * 90) % PTS_WRAP;
  return t < 0 ? t + PTS_WRAP : t;
}

/**
 * PTS/DTS field of a PES header (H.222.0 2.4.3.7):
 * `prefix:4 ts[32..30]:3 1 | ts[29..15]:15 1 | ts[14..0]:15 1`.
 */
export function writePesTimestamp(out: Uint8Array, p: number, prefix: number, ts: number): void {
  const hi = Math.floor(ts / 2 ** 30) & 7;
  const lo = ts % 2 ** 30;
  out[p] = (prefix << 4) | (hi << 1) | 1;
  out[p + 1] = (lo >> 22) & 0xff;
  out[p + 2] = ((lo >> 14) & 0xfe) | 1;
  out[p + 3] = (lo >> 7) & 0xff;
  out[p + 4] = ((lo << 1) & 0xfe) | 1;
}

/** program_clock_reference (H.222.0 2.4.3.5): base:33 reserved:6 ext:9, ext = 0. */
export function writePcr(out: Uint8Array, p: number, base90k: number): void {
  const hi = Math.floor(base90k / 2); // bits 32..1
  out[p] = (hi >>> 24) & 0xff;
  out[p + 1] = (hi >>> 16) & 0xff;
  out[p + 2] = (hi >>> 8) & 0xff;
  out[p + 3] = hi & 0xff;
  out[p + 4] = ((base90k & 1) << 7) | 0x7e;
  out[p + 5] = 0;
}

/**
 * MPEG-TS muxer for HLS segments: PAT/PMT, one PES per access unit, PCR on the video PID
 * (audio PID when there is no video), per-PID continuity counters kept across segments.
 * Payload bytes are copied straight from the frame's views into the 188-byte packets.
 */
export class TsMuxer {
  private videoCodec: VideoCodec | undefined;
  private audioCodec: AudioCodec | undefined;
  private nalLengthSize = 4;
  /** Parameter sets as Annex-B (start codes included), sent before every keyframe. */
  private paramSets = new Uint8Array(0);
  private aac: AacConfig | undefined;
  private readonly cc = new Map<number, number>();
  private readonly pieces: Uint8Array[] = [];
  private readonly pesHeader = new Uint8Array(19);
  private readonly adts = new Uint8Array(ADTS_HEADER_SIZE);
  private pmtVersion = 0;

  get hasVideo(): boolean {
    return this.videoCodec !== undefined;
  }
  get hasAudio(): boolean {
    return this.audioCodec !== undefined;
  }

  /** Sets the video track from its decoder configuration record (avcC/hvcC); copies what it keeps. */
  setVideoConfig(codec: VideoCodec, record: Uint8Array): void {
    const sets: Uint8Array[] = [];
    if (codec === 'h264') {
      const c = decodeAvcConfig(record, 0).value;
      this.nalLengthSize = c.nalLengthSize;
      sets.push(...c.sps, ...c.pps);
    } else if (codec === 'h265') {
      const c = decodeHevcConfig(record, 0).value;
      this.nalLengthSize = c.nalLengthSize;
      sets.push(...c.vps, ...c.sps, ...c.pps);
    } else {
      throw new UnsupportedCodecError(`${codec} cannot be carried in MPEG-TS for HLS`);
    }
    let n = 0;
    for (const s of sets) n += 4 + s.length;
    const ps = new Uint8Array(n);
    let p = 0;
    for (const s of sets) {
      ps.set(START_CODE, p);
      ps.set(s, p + 4);
      p += 4 + s.length;
    }
    this.paramSets = ps;
    if (this.videoCodec !== codec) this.pmtVersion = (this.pmtVersion + 1) & 31;
    this.videoCodec = codec;
  }

  /** Sets the audio track (AAC needs its AudioSpecificConfig for the ADTS headers). */
  setAudioConfig(codec: AudioCodec, config?: Uint8Array): void {
    if (codec === 'aac') {
      if (!config) throw new ProtocolError('RTS_ERR_AAC_CONFIG_MISSING', 'AAC needs an AudioSpecificConfig');
      this.aac = parseAacConfig(config, 0);
    } else if (codec !== 'mp3') {
      throw new UnsupportedCodecError(`${codec} cannot be carried in MPEG-TS for HLS`);
    }
    if (this.audioCodec !== codec) this.pmtVersion = (this.pmtVersion + 1) & 31;
    this.audioCodec = codec;
  }

  private nextCc(pid: number): number {
    const c = this.cc.get(pid) ?? 0;
    this.cc.set(pid, (c + 1) & 15);
    return c;
  }

  private get pcrPid(): number {
    return this.videoCodec ? PID_VIDEO : PID_AUDIO;
  }

  /** Writes PAT and PMT (two packets) at the start of a segment. */
  writeTables(sink: SegmentBuffer): void {
    // PAT: table_id 0, one program (1) → PMT PID.
    let o = sink.reserve(TS_PACKET_SIZE);
    let b = sink.buf;
    this.writeSectionPacket(b, o, PID_PAT, [
      0x00,
      0xb0,
      13,
      0x00,
      0x01,
      0xc1,
      0x00,
      0x00,
      0x00,
      0x01,
      0xe0 | (PID_PMT >> 8),
      PID_PMT & 0xff,
    ]);
    // PMT: table_id 2, program 1, PCR PID, one entry per elementary stream.
    const es: number[] = [];
    if (this.videoCodec) {
      es.push(
        this.videoCodec === 'h264' ? STREAM_TYPE_H264 : STREAM_TYPE_H265,
        0xe0 | (PID_VIDEO >> 8),
        PID_VIDEO & 0xff,
        0xf0,
        0,
      );
    }
    if (this.audioCodec) {
      es.push(
        this.audioCodec === 'aac' ? STREAM_TYPE_AAC_ADTS : STREAM_TYPE_MPEG1_AUDIO,
        0xe0 | (PID_AUDIO >> 8),
        PID_AUDIO & 0xff,
        0xf0,
        0,
      );
    }
    const sectionLength = 9 + es.length + 4;
    o = sink.reserve(TS_PACKET_SIZE);
    b = sink.buf;
    this.writeSectionPacket(b, o, PID_PMT, [
      0x02,
      0xb0 | (sectionLength >> 8),
      sectionLength & 0xff,
      0x00,
      0x01,
      0xc1 | (this.pmtVersion << 1),
      0x00,
      0x00,
      0xe0 | (this.pcrPid >> 8),
      this.pcrPid & 0xff,
      0xf0,
      0x00,
      ...es,
    ]);
  }

  private writeSectionPacket(b: Uint8Array, o: number, pid: number, section: number[]): void {
    b[o] = TS_SYNC_BYTE;
    b[o + 1] = 0x40 | (pid >> 8);
    b[o + 2] = pid & 0xff;
    b[o + 3] = 0x10 | this.nextCc(pid);
    b[o + 4] = 0; // pointer_field
    let p = o + 5;
    for (const v of section) b[p++] = v;
    const crc = crc32Mpeg2(b, o + 5, p);
    b[p++] = crc >>> 24;
    b[p++] = (crc >>> 16) & 0xff;
    b[p++] = (crc >>> 8) & 0xff;
    b[p++] = crc & 0xff;
    b.fill(0xff, p, o + TS_PACKET_SIZE);
  }

  /** Writes one video access unit (AVCC/HVCC payload) as a PES; AUD and, on keyframes, parameter sets first. */
  writeVideo(payload: Uint8Array, dtsMs: number, ptsMs: number, key: boolean, sink: SegmentBuffer): void {
    if (!this.videoCodec)
      throw new ProtocolError('RTS_ERR_TS_NO_VIDEO_CONFIG', 'video frame before its sequence header');
    if (payload.length > MAX_ACCESS_UNIT_SIZE)
      throw new ProtocolError('RTS_ERR_TS_AU_TOO_LARGE', 'access unit too large');
    const h265 = this.videoCodec === 'h265';
    const pieces = this.pieces;
    pieces.length = 0;
    pieces.push(h265 ? AUD_H265 : AUD_H264);
    if (key) pieces.push(this.paramSets);
    const ls = this.nalLengthSize;
    let p = 0;
    while (p < payload.length) {
      const len = readNalLength(payload, p, ls);
      p += ls;
      const type = h265 ? (payload[p] >> 1) & 0x3f : payload[p] & 0x1f;
      if (len > 0 && type !== (h265 ? 35 : 9)) {
        pieces.push(START_CODE, payload.subarray(p, p + len));
      }
      p += len;
    }
    const dts = msTo90k(dtsMs);
    const pts = msTo90k(ptsMs);
    const h = this.pesHeader;
    h[0] = 0;
    h[1] = 0;
    h[2] = 1;
    h[3] = STREAM_ID_VIDEO;
    h[4] = 0; // PES_packet_length 0: unbounded, allowed for video
    h[5] = 0;
    h[6] = 0x80;
    let hl: number;
    if (pts !== dts) {
      h[7] = 0xc0;
      h[8] = 10;
      writePesTimestamp(h, 9, 3, pts);
      writePesTimestamp(h, 14, 1, dts);
      hl = 19;
    } else {
      h[7] = 0x80;
      h[8] = 5;
      writePesTimestamp(h, 9, 2, pts);
      hl = 14;
    }
    this.packetize(PID_VIDEO, hl, dts, key, sink);
  }

  /** Writes one audio frame (raw AAC gets an ADTS header; MP3 goes as is) as a PES. */
  writeAudio(payload: Uint8Array, ptsMs: number, sink: SegmentBuffer): void {
    if (!this.audioCodec)
      throw new ProtocolError('RTS_ERR_TS_NO_AUDIO_CONFIG', 'audio frame before its sequence header');
    const pieces = this.pieces;
    pieces.length = 0;
    if (this.audioCodec === 'aac' && this.aac) {
      writeAdtsHeader(this.aac, payload.length, this.adts, 0);
      pieces.push(this.adts);
    }
    pieces.push(payload);
    const esLength = payload.length + (this.audioCodec === 'aac' ? ADTS_HEADER_SIZE : 0);
    const pesLength = 8 + esLength;
    if (pesLength > MAX_PES_PACKET_LENGTH)
      throw new ProtocolError('RTS_ERR_TS_AU_TOO_LARGE', 'audio frame too large');
    const pts = msTo90k(ptsMs);
    const h = this.pesHeader;
    h[0] = 0;
    h[1] = 0;
    h[2] = 1;
    h[3] = STREAM_ID_AUDIO;
    h[4] = pesLength >> 8;
    h[5] = pesLength & 0xff;
    h[6] = 0x80;
    h[7] = 0x80;
    h[8] = 5;
    writePesTimestamp(h, 9, 2, pts);
    this.packetize(PID_AUDIO, 14, this.videoCodec ? -1 : pts, true, sink);
  }

  /**
   * Splits [pesHeader, ...pieces] into TS packets. The first packet carries PUSI, and an adaptation
   * field with random_access_indicator and PCR when asked; the last is padded with adaptation stuffing.
   *
   * ```
   * sync:8 | TEI:1 PUSI:1 prio:1 PID:13 | scrambling:2 afc:2 cc:4 | [af_len:8 flags:8 PCR:48 stuffing] | payload
   * ```
   */
  private packetize(pid: number, headerLen: number, pcr: number, rai: boolean, sink: SegmentBuffer): void {
    const pieces = this.pieces;
    let remaining = headerLen;
    for (let i = 0; i < pieces.length; i++) remaining += pieces[i].length;
    const usePcr = pcr >= 0 && pid === this.pcrPid;
    const firstAf = usePcr ? 8 : rai ? 2 : 0;
    const first = remaining <= TS_PAYLOAD_SIZE - firstAf;
    const packets = first ? 1 : 1 + Math.ceil((remaining - (TS_PAYLOAD_SIZE - firstAf)) / TS_PAYLOAD_SIZE);
    let o = sink.reserve(packets * TS_PACKET_SIZE);
    const b = sink.buf;
    // Source cursor over the header then the pieces.
    let pi = -1;
    let src: Uint8Array = this.pesHeader;
    let srcPos = 0;
    let srcEnd = headerLen;
    for (let k = 0; k < packets; k++) {
      const isFirst = k === 0;
      const afMin = isFirst ? firstAf : 0;
      const payloadLen = Math.min(remaining, TS_PAYLOAD_SIZE - afMin);
      const afSize = TS_PAYLOAD_SIZE - payloadLen;
      b[o] = TS_SYNC_BYTE;
      b[o + 1] = (isFirst ? 0x40 : 0) | (pid >> 8);
      b[o + 2] = pid & 0xff;
      b[o + 3] = (afSize > 0 ? 0x30 : 0x10) | this.nextCc(pid);
      let p = o + 4;
      if (afSize > 0) {
        b[p] = afSize - 1;
        if (afSize > 1) {
          let flags = 0;
          if (isFirst && rai) flags |= 0x40;
          if (isFirst && usePcr) flags |= 0x10;
          b[p + 1] = flags;
          let q = p + 2;
          if (isFirst && usePcr) {
            writePcr(b, q, pcr);
            q += 6;
          }
          b.fill(0xff, q, p + afSize);
        }
        p += afSize;
      }
      let left = payloadLen;
      while (left > 0) {
        if (srcPos === srcEnd) {
          pi++;
          src = pieces[pi];
          srcPos = 0;
          srcEnd = src.length;
          continue;
        }
        const n = Math.min(left, srcEnd - srcPos);
        b.set(src.subarray(srcPos, srcPos + n), p);
        p += n;
        srcPos += n;
        left -= n;
      }
      remaining -= payloadLen;
      o += TS_PACKET_SIZE;
    }
  }
}
