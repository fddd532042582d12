import type { MediaFrame } from '../../media/frame/media-frame.js';
import type { FrameWire } from '../../transports/flv/frame-wire.js';
import type { PlayProtocol } from '../access/access-policy.js';

/** A player whose socket lives on the main thread (RTMP, HTTP-FLV, WS-FLV). */
export interface StreamPlayer {
  readonly id: string;
  readonly protocol: PlayProtocol | 'ws-flv';
  /** Oldest ring sequence a queued (not yet flushed) write of this player still references, or -1. */
  readonly pinnedSeq: number;
  /** Bytes written to this player so far. */
  readonly bytesOut: number;
  /** One frame, in order, synchronously on the ingest thread. Views: write them, do not keep them. */
  deliver(frame: MediaFrame, wire: FrameWire): void;
  /** Several frames in one write (merged writes, GOP replay). */
  deliverBatch(frames: readonly FrameWire[]): void;
  /** The publisher left: end of stream for this player. */
  streamEnded(reason: string): void;
  /** The player fell so far behind that the ring is about to overwrite what it still queues. */
  overrun(): void;
}
