import type { MediaFrame } from '../../media/frame/media-frame.js';
import type { FrameBatch, FrameWire } from '../../transports/flv/frame-wire.js';
import type { PlayProtocol } from '../access/access-policy.js';

/** A player whose socket lives on the main thread (RTMP, HTTP-FLV, WS-FLV). */
export interface StreamPlayer {
  readonly id: string;
  readonly protocol: PlayProtocol | 'ws-flv';
  /** Bytes written to this player so far. */
  readonly bytesOut: number;
  /** One frame, in order, synchronously on the ingest thread. Views: write them, do not keep them. */
  deliver(frame: MediaFrame, wire: FrameWire): void;
  /** Several frames (one socket read, merged writes, GOP replay); `batch` has their bytes concatenated once per stream. */
  deliverBatch(frames: readonly FrameWire[], batch?: FrameBatch): void;
  /** The publisher left: end of stream for this player. */
  streamEnded(reason: string): void;
}
