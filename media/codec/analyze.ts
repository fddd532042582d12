import { ProtocolError, UnsupportedCodecError } from '../../engine/errors.js';
import { AAC_SAMPLE_RATES, aacProfileName, parseAacConfig } from '../aac/audio-specific-config.js';
import type { AudioCodec, VideoCodec } from '../frame/media-frame.js';
import { decodeAvcConfig } from '../h264/avc-config.js';
import { h264CodecString, h264LevelName, h264ProfileName, parseH264Sps } from '../h264/sps-parser.js';
import { decodeHevcConfig, h265CodecString, h265LevelName, h265ProfileName } from '../h265/hevc-config.js';
import { parseH265Sps } from '../h265/sps-parser.js';
import { parseOpusHead } from '../opus/opus-head.js';

/**
 * What an FLV tag carries beyond a coded frame. `config` = sequence header (SequenceStart),
 * `end` = end of sequence, `metadata` = enhanced-RTMP Metadata packet, `command` = video
 * frame type 5 (video info / command frame).
 */
export type FlvPacketKind = 'config' | 'frame' | 'end' | 'metadata' | 'command';

export interface FlvVideoInfo {
  codec: VideoCodec;
  key: boolean;
  config: boolean;
  /** Composition time offset in ms (pts − dts), signed. */
  cts: number;
  payload: Uint8Array;
  packet: FlvPacketKind;
  /** True when the tag used the enhanced-RTMP ExVideoTagHeader. */
  enhanced: boolean;
}

export interface FlvAudioInfo {
  codec: AudioCodec;
  config: boolean;
  payload: Uint8Array;
  packet: FlvPacketKind;
  enhanced: boolean;
  /** From the legacy sound rate/type bits (meaningful for MP3, fixed for AAC). */
  sampleRate?: number;
  channels?: number;
}

/** FLV VideoTagHeader CodecID (E.4.3.1); 12 is the de-facto legacy HEVC id. */
export const FLV_CODEC_AVC = 7;
export const FLV_CODEC_HEVC_LEGACY = 12;
/** FLV AudioTagHeader SoundFormat (E.4.2.1); 9 = enhanced-RTMP ExAudioTagHeader. */
export const FLV_SOUND_MP3 = 2;
export const FLV_SOUND_EX_HEADER = 9;
export const FLV_SOUND_AAC = 10;

/** Enhanced RTMP PacketType (video). */
export const EX_VIDEO_SEQUENCE_START = 0;
export const EX_VIDEO_CODED_FRAMES = 1;
export const EX_VIDEO_SEQUENCE_END = 2;
export const EX_VIDEO_CODED_FRAMES_X = 3;
export const EX_VIDEO_METADATA = 4;
export const EX_VIDEO_MPEG2TS_SEQUENCE_START = 5;

/** Enhanced RTMP AudioPacketType. */
export const EX_AUDIO_SEQUENCE_START = 0;
export const EX_AUDIO_CODED_FRAMES = 1;
export const EX_AUDIO_SEQUENCE_END = 2;

function fourcc(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}
const fcc = (s: string): number => fourcc(new TextEncoder().encode(s), 0);
const FCC_AVC1 = fcc('avc1');
const FCC_HVC1 = fcc('hvc1');
const FCC_AV01 = fcc('av01');
const FCC_VP09 = fcc('vp09');
const FCC_OPUS = fcc('Opus');
const FCC_MP4A = fcc('mp4a');
const FCC_MP3 = fcc('.mp3');

function truncated(what: string): ProtocolError {
  return new ProtocolError('RTS_ERR_FLV_TRUNCATED', `FLV ${what} tag body truncated`);
}

function si24(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8)) >> 8;
}

/**
 * Reads an FLV VIDEODATA body (legacy E.4.3.1 or enhanced-RTMP ExVideoTagHeader).
 *
 * ```
 * legacy : frameType:4 codecId:4 | avcPacketType:8 | cts:SI24 | data
 * enhanced: 1 frameType:3 packetType:4 | FourCC:32 | [cts:SI24 if CodedFrames of avc1/hvc1] | data
 * ```
 */
export function parseFlvVideoBody(body: Uint8Array): FlvVideoInfo {
  if (body.length < 1) throw truncated('video');
  const b0 = body[0];
  if (b0 & 0x80) {
    const frameType = (b0 >> 4) & 7;
    const packetType = b0 & 0x0f;
    if (body.length < 5) throw truncated('video');
    const f = fourcc(body, 1);
    let codec: VideoCodec;
    if (f === FCC_AVC1) codec = 'h264';
    else if (f === FCC_HVC1) codec = 'h265';
    else if (f === FCC_AV01) codec = 'av1';
    else if (f === FCC_VP09) codec = 'vp9';
    else throw new UnsupportedCodecError(`enhanced RTMP video FourCC 0x${f.toString(16)}`);
    const key = frameType === 1;
    if (frameType === 5 && packetType !== EX_VIDEO_METADATA) {
      return {
        codec,
        key: false,
        config: false,
        cts: 0,
        payload: body.subarray(5),
        packet: 'command',
        enhanced: true,
      };
    }
    switch (packetType) {
      case EX_VIDEO_SEQUENCE_START: {
        return {
          codec,
          key,
          config: true,
          cts: 0,
          payload: body.subarray(5),
          packet: 'config',
          enhanced: true,
        };
      }
      case EX_VIDEO_CODED_FRAMES: {
        if (codec === 'h264' || codec === 'h265') {
          if (body.length < 8) throw truncated('video');
          return {
            codec,
            key,
            config: false,
            cts: si24(body, 5),
            payload: body.subarray(8),
            packet: 'frame',
            enhanced: true,
          };
        }
        return {
          codec,
          key,
          config: false,
          cts: 0,
          payload: body.subarray(5),
          packet: 'frame',
          enhanced: true,
        };
      }
      case EX_VIDEO_CODED_FRAMES_X: {
        return {
          codec,
          key,
          config: false,
          cts: 0,
          payload: body.subarray(5),
          packet: 'frame',
          enhanced: true,
        };
      }
      case EX_VIDEO_SEQUENCE_END: {
        return {
          codec,
          key: false,
          config: false,
          cts: 0,
          payload: body.subarray(5),
          packet: 'end',
          enhanced: true,
        };
      }
      case EX_VIDEO_METADATA: {
        return {
          codec,
          key: false,
          config: false,
          cts: 0,
          payload: body.subarray(5),
          packet: 'metadata',
          enhanced: true,
        };
      }
      default: {
        throw new ProtocolError(
          'RTS_ERR_FLV_PACKET_TYPE',
          `unsupported enhanced RTMP video packet type ${packetType}`,
        );
      }
    }
  }
  const frameType = b0 >> 4;
  const codecId = b0 & 0x0f;
  let codec: VideoCodec;
  if (codecId === FLV_CODEC_AVC) codec = 'h264';
  else if (codecId === FLV_CODEC_HEVC_LEGACY) codec = 'h265';
  else throw new UnsupportedCodecError(`FLV video codec id ${codecId}`);
  if (frameType === 5) {
    return {
      codec,
      key: false,
      config: false,
      cts: 0,
      payload: body.subarray(1),
      packet: 'command',
      enhanced: false,
    };
  }
  if (body.length < 5) throw truncated('video');
  const pt = body[1];
  const key = frameType === 1;
  const payload = body.subarray(5);
  if (pt === 0) return { codec, key, config: true, cts: 0, payload, packet: 'config', enhanced: false };
  if (pt === 1)
    return { codec, key, config: false, cts: si24(body, 2), payload, packet: 'frame', enhanced: false };
  if (pt === 2) return { codec, key: false, config: false, cts: 0, payload, packet: 'end', enhanced: false };
  throw new ProtocolError('RTS_ERR_FLV_PACKET_TYPE', `unknown AVCPacketType ${pt}`);
}

const LEGACY_RATES = [5512, 11025, 22050, 44100] as const;

/**
 * Reads an FLV AUDIODATA body (legacy E.4.2.1 or enhanced-RTMP ExAudioTagHeader).
 *
 * ```
 * legacy  : soundFormat:4 rate:2 size:1 type:1 | [aacPacketType:8 if AAC] | data
 * enhanced: 9:4 audioPacketType:4 | FourCC:32 | data
 * ```
 */
export function parseFlvAudioBody(body: Uint8Array): FlvAudioInfo {
  if (body.length < 1) throw truncated('audio');
  const b0 = body[0];
  const format = b0 >> 4;
  if (format === FLV_SOUND_EX_HEADER) {
    if (body.length < 5) throw truncated('audio');
    const packetType = b0 & 0x0f;
    const f = fourcc(body, 1);
    let codec: AudioCodec;
    if (f === FCC_OPUS) codec = 'opus';
    else if (f === FCC_MP4A) codec = 'aac';
    else if (f === FCC_MP3) codec = 'mp3';
    else throw new UnsupportedCodecError(`enhanced RTMP audio FourCC 0x${f.toString(16)}`);
    const payload = body.subarray(5);
    switch (packetType) {
      case EX_AUDIO_SEQUENCE_START: {
        return { codec, config: true, payload, packet: 'config', enhanced: true };
      }
      case EX_AUDIO_CODED_FRAMES: {
        return { codec, config: false, payload, packet: 'frame', enhanced: true };
      }
      case EX_AUDIO_SEQUENCE_END: {
        return { codec, config: false, payload, packet: 'end', enhanced: true };
      }
      default: {
        throw new ProtocolError(
          'RTS_ERR_FLV_PACKET_TYPE',
          `unsupported enhanced RTMP audio packet type ${packetType}`,
        );
      }
    }
  }
  if (format === FLV_SOUND_AAC) {
    if (body.length < 2) throw truncated('audio');
    const config = body[1] === 0;
    return {
      codec: 'aac',
      config,
      payload: body.subarray(2),
      packet: config ? 'config' : 'frame',
      enhanced: false,
    };
  }
  if (format === FLV_SOUND_MP3) {
    return {
      codec: 'mp3',
      config: false,
      payload: body.subarray(1),
      packet: 'frame',
      enhanced: false,
      sampleRate: LEGACY_RATES[(b0 >> 2) & 3],
      channels: (b0 & 1) + 1,
    };
  }
  throw new UnsupportedCodecError(`FLV sound format ${format}`);
}

export interface VideoConfigInfo {
  profile: string;
  level: string;
  width: number;
  height: number;
  /** RFC 6381 codec string for HLS CODECS / MSE. */
  codecString: string;
  /** NAL length prefix size for H.264/H.265 (AVCC/HVCC). */
  nalLengthSize: number;
}

export interface AudioConfigInfo {
  profile: string;
  sampleRate: number;
  channels: number;
  codecString: string;
}

/** Describes a video sequence header (the payload of a `config` frame). */
export function describeVideoConfig(codec: VideoCodec, config: Uint8Array): VideoConfigInfo {
  switch (codec) {
    case 'h264': {
      const avc = decodeAvcConfig(config, 0).value;
      const sps = avc.sps[0];
      if (!sps) throw new ProtocolError('RTS_ERR_AVCC_NO_SPS', 'AVCDecoderConfigurationRecord has no SPS');
      const s = parseH264Sps(sps);
      return {
        profile: h264ProfileName(s.profileIdc, s.constraintFlags),
        level: h264LevelName(s.levelIdc),
        width: s.width,
        height: s.height,
        codecString: h264CodecString(s.profileIdc, s.constraintFlags, s.levelIdc),
        nalLengthSize: avc.nalLengthSize,
      };
    }
    case 'h265': {
      const hvc = decodeHevcConfig(config, 0).value;
      let width = 0;
      let height = 0;
      if (hvc.sps[0]) {
        const s = parseH265Sps(hvc.sps[0]);
        width = s.width;
        height = s.height;
      }
      return {
        profile: h265ProfileName(hvc.profileIdc),
        level: h265LevelName(hvc.levelIdc),
        width,
        height,
        codecString: h265CodecString(hvc),
        nalLengthSize: hvc.nalLengthSize,
      };
    }
    case 'av1': {
      // AV1CodecConfigurationRecord: marker|version, seq_profile:3 seq_level_idx_0:5, seq_tier_0:1 high_bitdepth:1 ...
      if (config.length < 4) throw new ProtocolError('RTS_ERR_AV1C_TRUNCATED', 'av1C truncated');
      const profile = config[1] >> 5;
      const level = config[1] & 0x1f;
      const tier = config[2] >> 7 ? 'H' : 'M';
      const depth = config[2] & 0x40 ? (config[2] & 0x20 ? 12 : 10) : 8;
      return {
        profile: `${profile}`,
        level: `${level}`,
        width: 0,
        height: 0,
        codecString: `av01.${profile}.${String(level).padStart(2, '0')}${tier}.${String(depth).padStart(2, '0')}`,
        nalLengthSize: 0,
      };
    }
    case 'vp9': {
      // VPCodecConfigurationRecord (full box: version+flags 4 bytes, then profile, level, bitDepth:4 ...).
      if (config.length < 7) throw new ProtocolError('RTS_ERR_VPCC_TRUNCATED', 'vpcC truncated');
      const profile = config[4];
      const level = config[5];
      const depth = config[6] >> 4;
      const two = (n: number) => String(n).padStart(2, '0');
      return {
        profile: `${profile}`,
        level: `${level}`,
        width: 0,
        height: 0,
        codecString: `vp09.${two(profile)}.${two(level)}.${two(depth)}`,
        nalLengthSize: 0,
      };
    }
    default: {
      throw new UnsupportedCodecError(`video codec ${codec as string}`);
    }
  }
}

/** MPEG-1/2 audio layer III sample rates by version (0 = 2.5, 2 = v2, 3 = v1). */
const MP3_RATES: Record<number, readonly number[]> = {
  0: [11025, 12000, 8000],
  2: [22050, 24000, 16000],
  3: [44100, 48000, 32000],
};

/** Describes an audio sequence header (AudioSpecificConfig, OpusHead) or, for MP3, a frame. */
export function describeAudioConfig(codec: AudioCodec, config: Uint8Array): AudioConfigInfo {
  switch (codec) {
    case 'aac': {
      const c = parseAacConfig(config, 0);
      return {
        profile: aacProfileName(c.objectType),
        sampleRate: c.outputSampleRate,
        channels: c.channelConfiguration,
        codecString: `mp4a.40.${c.objectType}`,
      };
    }
    case 'opus': {
      const h = parseOpusHead(config, 0);
      return { profile: 'Opus', sampleRate: 48000, channels: h.channels, codecString: 'opus' };
    }
    case 'mp3': {
      if (config.length < 4 || config[0] !== 0xff || (config[1] & 0xe0) !== 0xe0) {
        throw new ProtocolError('RTS_ERR_MP3_HEADER', 'MP3 frame header missing');
      }
      const version = (config[1] >> 3) & 3;
      const rate = MP3_RATES[version]?.[(config[2] >> 2) & 3];
      if (!rate) throw new ProtocolError('RTS_ERR_MP3_HEADER', 'bad MP3 sample rate');
      return {
        profile: 'MP3',
        sampleRate: rate,
        channels: config[3] >> 6 === 3 ? 1 : 2,
        codecString: 'mp4a.40.34',
      };
    }
    default: {
      throw new UnsupportedCodecError(`audio codec ${codec as string}`);
    }
  }
}

export { AAC_SAMPLE_RATES };
