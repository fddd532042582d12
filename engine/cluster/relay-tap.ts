import type { MediaFrame } from '../../media/frame/media-frame.js';
import type { FrameWire } from '../../transports/flv/frame-wire.js';
import type { StreamPlayer } from '../stream/stream-player.js';

/** Protocol name the tap shows under in the API's per-protocol player counts. */
export const RELAY_TAP_PROTOCOL = 'relay';

/**
 * A main-thread "player" on an origin's LiveStream that hands every frame, synchronously and in
 * order, to the stream's relay publisher. It holds no queue and pins nothing in the ring: the
 * publisher encodes (copies) the frame at once, and NATS (not this tap) absorbs slow edges.
 */
export class RelayTap implements StreamPlayer {
  readonly protocol = RELAY_TAP_PROTOCOL as StreamPlayer['protocol'];
  bytesOut = 0;

  constructor(
    readonly id: string,
    private readonly onFrame: (frame: MediaFrame) => void,
    private readonly onEnd: (reason: string) => void,
  ) {}

  deliver(frame: MediaFrame, _wire: FrameWire): void {
    this.bytesOut += frame.body.length;
    this.onFrame(frame);
  }

  deliverBatch(wires: readonly FrameWire[]): void {
    for (const w of wires) {
      this.bytesOut += w.frame.body.length;
      this.onFrame(w.frame);
    }
  }

  streamEnded(reason: string): void {
    this.onEnd(reason);
  }
}

export function isRelayTap(p: StreamPlayer): boolean {
  return p instanceof RelayTap;
}
