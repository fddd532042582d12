/**
 * One access unit of a stream as every part of the engine sees it.
 *
 * `body` is the FLV tag body exactly as it arrived over RTMP (it is the RTMP message payload):
 * for legacy H.264 `[frameType|codecId][avcPacketType][cts:24][AVCC NALUs...]`, for AAC
 * `[soundFormat|rate|size|type][aacPacketType][raw AAC]`, for enhanced RTMP the FourCC layout.
 * `payload` is the codec payload inside it (AVCC length-prefixed NAL units, a raw AAC frame, an
 * Opus packet, or the decoder configuration record when `config` is true). Both are views into
 * the stream's shared packet ring: never retain them past the callback that handed them out,
 * copy what must outlive it.
 */
export type TrackKind = 'video' | 'audio' | 'data';

export type VideoCodec = 'h264' | 'h265' | 'av1' | 'vp9';
export type AudioCodec = 'aac' | 'opus' | 'mp3';
export type Codec = VideoCodec | AudioCodec | 'amf';

export interface MediaFrame {
  readonly kind: TrackKind;
  readonly codec: Codec;
  /** Decode timestamp in milliseconds (RTMP timeline, unwrapped past 32 bits). */
  readonly dts: number;
  /** Presentation timestamp in milliseconds (dts + composition offset). */
  readonly pts: number;
  /** A random access point (IDR / keyframe); audio frames are always key. */
  readonly key: boolean;
  /** A sequence header (AVCDecoderConfigurationRecord, AudioSpecificConfig, OpusHead, onMetaData). */
  readonly config: boolean;
  /** The whole FLV tag body (RTMP message payload), a view. */
  readonly body: Uint8Array;
  /** The codec payload inside `body`, a view. */
  readonly payload: Uint8Array;
  /** Monotonic per-stream sequence number given by the packet ring. */
  readonly seq: number;
  /** Wall clock (ms since epoch, fractional) when the frame was written at ingest: latency probes. */
  readonly ingestTime: number;
}

/** FLV tag type numbers, also the RTMP message type ids of media messages. */
export const FLV_TAG_AUDIO = 8;
export const FLV_TAG_VIDEO = 9;
export const FLV_TAG_SCRIPT = 18;

export function flvTagTypeOf(kind: TrackKind): number {
  return kind === 'video' ? FLV_TAG_VIDEO : kind === 'audio' ? FLV_TAG_AUDIO : FLV_TAG_SCRIPT;
}
