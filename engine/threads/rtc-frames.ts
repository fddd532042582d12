import type { MediaFrame } from '../../media/frame/media-frame.js';
import type { FrameInput } from '../memory/packet-ring.js';
import type { Wire } from './worker-messages.js';

/**
 * What the node sends an RTC process (rtc-process.ts) over IPC: the stream worker's Wire control
 * messages, and the frames of the streams attached to it (a SharedArrayBuffer ring cannot cross
 * processes: each RTC process keeps its own ring per stream, written from these).
 */
export type ToRtcProcess =
  | { w: Wire }
  /** Frames of stream `s` (`key#gen`), in order. */
  | { s: string; f: RtcFrame[] }
  /** An attach with the stream's config frames and current GOP, written before the stream actor starts. */
  | { w: Wire; s: string; f: RtcFrame[] };

/**
 * What an RTC process sends the node: the stream worker's Wire messages, and acknowledgements of
 * forwarded frame bytes (`a`, summed over the frames messages handled since the last one): the
 * node keeps at most `rtc.ipcWindowBytes` unacknowledged per process.
 */
export type FromRtcProcess = { w: Wire } | { a: number };

/** Bytes a frames message counts against the window: the bodies it carries. */
export function rtcFramesBytes(f: readonly RtcFrame[]): number {
  let n = 0;
  for (const x of f) n += x[6].byteLength;
  return n;
}

/** [flags, dts, pts, ingestTime, payloadOffset, payloadLength, body]; flags: kind | codec << 2 | key << 8 | config << 9. */
export type RtcFrame = [number, number, number, number, number, number, Uint8Array];

const KINDS = ['video', 'audio', 'data'] as const;
const CODECS = ['h264', 'h265', 'av1', 'vp9', 'aac', 'opus', 'mp3', 'amf'] as const;

/** A frame for IPC; its body is copied out of the ring (the structured clone copies it again). */
export function encodeRtcFrame(f: MediaFrame): RtcFrame {
  const flags =
    KINDS.indexOf(f.kind) | (CODECS.indexOf(f.codec) << 2) | (f.key ? 1 << 8 : 0) | (f.config ? 1 << 9 : 0);
  const payloadOffset = f.payload.byteOffset - f.body.byteOffset;
  return [flags, f.dts, f.pts, f.ingestTime, payloadOffset, f.payload.length, f.body.slice()];
}

export function decodeRtcFrame(f: RtcFrame): FrameInput {
  const [flags, dts, pts, ingestTime, payloadOffset, payloadLength, body] = f;
  return {
    kind: KINDS[flags & 3],
    codec: CODECS[(flags >> 2) & 63],
    key: (flags & (1 << 8)) !== 0,
    config: (flags & (1 << 9)) !== 0,
    dts,
    pts,
    ingestTime,
    payloadOffset,
    payloadLength,
    body,
  };
}
