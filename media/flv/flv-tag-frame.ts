import { parseFlvAudioBody, parseFlvVideoBody } from '../codec/analyze.js';
import type { Codec, MediaFrame, TrackKind } from '../frame/media-frame.js';
import { FLV_TAG_AUDIO, FLV_TAG_VIDEO } from '../frame/media-frame.js';

/** What an FLV audio/video tag says about its frame; the payload as an offset into the body. */
export interface FlvTagFields {
  kind: TrackKind;
  codec: Codec;
  dts: number;
  pts: number;
  key: boolean;
  config: boolean;
  payloadOffset: number;
  payloadLength: number;
}

/**
 * Parses an FLV audio or video tag body once (no copy): undefined for other tag types and for
 * tags that carry no frame (end of sequence, enhanced-RTMP metadata). Throws ProtocolError or
 * UnsupportedCodecError on a body that does not parse.
 */
export function flvMediaTagFields(
  type: number,
  timestamp: number,
  body: Uint8Array,
): FlvTagFields | undefined {
  if (type === FLV_TAG_VIDEO) {
    const v = parseFlvVideoBody(body);
    if (v.packet !== 'config' && v.packet !== 'frame') return undefined;
    return {
      kind: 'video',
      codec: v.codec,
      dts: timestamp,
      pts: timestamp + v.cts,
      key: v.key || v.config,
      config: v.config,
      payloadOffset: v.payload.byteOffset - body.byteOffset,
      payloadLength: v.payload.length,
    };
  }
  if (type === FLV_TAG_AUDIO) {
    const a = parseFlvAudioBody(body);
    if (a.packet !== 'config' && a.packet !== 'frame') return undefined;
    return {
      kind: 'audio',
      codec: a.codec,
      dts: timestamp,
      pts: timestamp,
      key: true,
      config: a.config,
      payloadOffset: a.payload.byteOffset - body.byteOffset,
      payloadLength: a.payload.length,
    };
  }
  return undefined;
}

/** An FLV audio or video tag (body as a view) as the MediaFrame the engine hands out, or undefined. */
export function mediaFrameOfTag(
  type: number,
  timestamp: number,
  body: Uint8Array,
  seq: number,
  ingestTime = 0,
): MediaFrame | undefined {
  const f = flvMediaTagFields(type, timestamp, body);
  if (!f) return undefined;
  const { payloadOffset, payloadLength, ...rest } = f;
  return {
    ...rest,
    body,
    payload: body.subarray(payloadOffset, payloadOffset + payloadLength),
    seq,
    ingestTime,
  };
}
