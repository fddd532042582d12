import { iterateFlvFileTags } from '../../../media/flv/flv-file-reader.js';
import { mediaFrameOfTag } from '../../../media/flv/flv-tag-frame.js';
import type { MediaFrame } from '../../../media/frame/media-frame.js';

/** Turns an FLV file into the MediaFrames the engine would hand out (views into `file`). */
export function flvToFrames(file: Uint8Array, wallStart = Date.UTC(2026, 10, 25, 12, 0, 0)): MediaFrame[] {
  const frames: MediaFrame[] = [];
  for (const tag of iterateFlvFileTags(file)) {
    const f = mediaFrameOfTag(tag.type, tag.timestamp, tag.body, frames.length, wallStart + tag.timestamp);
    if (f) frames.push(f);
  }
  return frames;
}
