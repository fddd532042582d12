import { parseFlvAudioBody, parseFlvVideoBody } from '../codec/analyze.js';
import { FLV_TAG_AUDIO, FLV_TAG_VIDEO, type MediaFrame } from '../frame/media-frame.js';

/**
 * An FLV audio or video tag (body as a view) as the MediaFrame the engine hands out, or undefined
 * for tags that carry no frame (script data, end of sequence, enhanced-RTMP metadata).
 */
export function mediaFrameOfTag(
  type: number,
  timestamp: number,
  body: Uint8Array,
  seq: number,
  ingestTime = 0,
): MediaFrame | undefined {
  if (type === FLV_TAG_VIDEO) {
    const v = parseFlvVideoBody(body);
    if (v.packet !== 'config' && v.packet !== 'frame') return undefined;
    return {
      kind: 'video',
      codec: v.codec,
      dts: timestamp,
      pts: timestamp + v.cts,
      key: v.key,
      config: v.config,
      body,
      payload: v.payload,
      seq,
      ingestTime,
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
      body,
      payload: a.payload,
      seq,
      ingestTime,
    };
  }
  return undefined;
}
