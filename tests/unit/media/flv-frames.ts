import { parseFlvAudioBody, parseFlvVideoBody } from '../../../media/codec/analyze.js';
import { iterateFlvFileTags } from '../../../media/flv/flv-file-reader.js';
import { FLV_TAG_AUDIO, FLV_TAG_VIDEO, type MediaFrame } from '../../../media/frame/media-frame.js';

/** Turns an FLV file into the MediaFrames the engine would hand out (views into `file`). */
export function flvToFrames(file: Uint8Array, wallStart = Date.UTC(2026, 10, 25, 12, 0, 0)): MediaFrame[] {
  const frames: MediaFrame[] = [];
  let seq = 0;
  for (const tag of iterateFlvFileTags(file)) {
    if (tag.type === FLV_TAG_VIDEO) {
      const v = parseFlvVideoBody(tag.body);
      if (v.packet !== 'config' && v.packet !== 'frame') continue;
      frames.push({
        kind: 'video',
        codec: v.codec,
        dts: tag.timestamp,
        pts: tag.timestamp + v.cts,
        key: v.key,
        config: v.config,
        body: tag.body,
        payload: v.payload,
        seq: seq++,
        ingestTime: wallStart + tag.timestamp,
      });
    } else if (tag.type === FLV_TAG_AUDIO) {
      const a = parseFlvAudioBody(tag.body);
      frames.push({
        kind: 'audio',
        codec: a.codec,
        dts: tag.timestamp,
        pts: tag.timestamp,
        key: true,
        config: a.config,
        body: tag.body,
        payload: a.payload,
        seq: seq++,
        ingestTime: wallStart + tag.timestamp,
      });
    }
  }
  return frames;
}
