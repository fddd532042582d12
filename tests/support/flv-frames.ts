/**
 * Reads an FLV file into MediaFrames (via media/flv and media/codec) and replays them in real
 * time, for feeding components that take frames (transcoder, stream actor) in tests.
 */
import { readFileSync } from 'node:fs';
import { iterateFlvFileTags } from '../../media/flv/flv-file-reader.js';
import { mediaFrameOfTag } from '../../media/flv/flv-tag-frame.js';
import type { MediaFrame } from '../../media/frame/media-frame.js';

/** Every audio/video tag of `file` as a MediaFrame (script tags skipped), in file order. */
export function readFlvFrames(file: string): MediaFrame[] {
  const buf = new Uint8Array(readFileSync(file));
  const out: MediaFrame[] = [];
  for (const tag of iterateFlvFileTags(buf)) {
    const f = mediaFrameOfTag(tag.type, tag.timestamp, tag.body, out.length);
    if (f) out.push(f);
  }
  return out;
}

export interface Replay {
  /** Resolves when every frame was pushed or the replay was stopped. */
  done: Promise<void>;
  stop(): void;
}

/**
 * Pushes `frames` to `push` paced by their dts (`speed` 1 = real time), stamping `ingestTime`
 * with the wall clock at push. `loops` repeats the file with timestamps continued.
 */
export function replayFrames(
  frames: readonly MediaFrame[],
  push: (f: MediaFrame) => void,
  opts: { speed?: number; loops?: number; timeOffsetMs?: number } = {},
): Replay {
  const speed = opts.speed ?? 1;
  const loops = opts.loops ?? 1;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const first = frames.length ? frames[0].dts : 0;
  const last = frames.length ? frames[frames.length - 1].dts : 0;
  const span = last - first + 40;
  const offset = opts.timeOffsetMs ?? 0;
  const done = (async () => {
    const t0 = performance.now();
    for (let loop = 0; loop < loops && !stopped; loop++) {
      for (const f of frames) {
        if (stopped) break;
        if (loop > 0 && f.config) continue;
        const at = (f.dts - first + loop * span) / speed;
        const wait = at - (performance.now() - t0);
        if (wait > 1) {
          await new Promise<void>((r) => {
            wake = r;
            timer = setTimeout(r, wait);
          });
        }
        if (stopped) break;
        const shift = loop * span + offset;
        push({ ...f, dts: f.dts + shift, pts: f.pts + shift, ingestTime: Date.now() });
      }
    }
  })();
  return {
    done,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wake?.();
    },
  };
}
