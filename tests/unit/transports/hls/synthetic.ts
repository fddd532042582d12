import type { MediaFrame } from '../../../../media/frame/media-frame.js';
import { encodeAvcConfig } from '../../../../media/h264/avc-config.js';

const hex = (s: string) => Uint8Array.from((s.match(/../g) ?? []).map((h) => Number.parseInt(h, 16)));
/** x264 constrained-baseline 320x240 level 3.0 SPS and its PPS. */
export const SPS = hex('6742c01ed90141fb011000000300100000030320f162e480');
export const PPS = hex('68cb83cb20');
export const AVCC = encodeAvcConfig({ nalLengthSize: 4, sps: [SPS], pps: [PPS] });
export const ASC = hex('1210');

let seq = 0;
const frame = (f: Omit<MediaFrame, 'seq' | 'body' | 'ingestTime'>): MediaFrame => ({
  ...f,
  body: f.payload,
  seq: seq++,
  ingestTime: 1_700_000_000_000 + f.dts,
});

export function videoConfig(): MediaFrame {
  return frame({ kind: 'video', codec: 'h264', dts: 0, pts: 0, key: true, config: true, payload: AVCC });
}
export function audioConfig(): MediaFrame {
  return frame({ kind: 'audio', codec: 'aac', dts: 0, pts: 0, key: true, config: true, payload: ASC });
}
export function videoFrame(dts: number, key: boolean, size = 300): MediaFrame {
  const p = new Uint8Array(4 + size);
  new DataView(p.buffer).setUint32(0, size);
  p[4] = key ? 0x65 : 0x41;
  p[5] = 0x88;
  for (let i = 6; i < p.length; i++) p[i] = (i * 7) & 0xff;
  return frame({ kind: 'video', codec: 'h264', dts, pts: dts, key, config: false, payload: p });
}
export function audioFrame(dts: number, size = 120): MediaFrame {
  const p = new Uint8Array(size).fill(0x21);
  return frame({ kind: 'audio', codec: 'aac', dts, pts: dts, key: true, config: false, payload: p });
}

/**
 * Frames from `fromMs` to `toMs`: video at `fps` with a keyframe every `gopMs`, AAC at 44.1 kHz,
 * interleaved in dts order.
 */
export function* mediaRun(fromMs: number, toMs: number, fps = 25, gopMs = 1000): Generator<MediaFrame> {
  const vStep = 1000 / fps;
  const aStep = 1024000 / 44100;
  let v = 0;
  let a = 0;
  for (;;) {
    const vd = fromMs + v * vStep;
    const ad = fromMs + a * aStep;
    if (vd >= toMs && ad >= toMs) return;
    if (vd <= ad) {
      const d = Math.round(vd);
      yield videoFrame(d, Math.round(v * vStep) % gopMs === 0);
      v++;
    } else {
      yield audioFrame(Math.round(ad));
      a++;
    }
  }
}
