import type { Socket } from 'node:net';
import type { MediaFrame } from '../../media/frame/media-frame.js';
import type { FrameBatch, FrameWire, WireUnit } from '../../transports/flv/frame-wire.js';
import type { PlayProtocol } from '../access/access-policy.js';
import type { PlayerLimits } from '../config/config.js';
import type { StreamPlayer } from './stream-player.js';

/**
 * The flow control every TCP player shares. Writes are buffers built once per stream and shared
 * by every player (FrameWire/FrameBatch), so what a slow socket queues costs references, not copies:
 * - while the socket's queue is under `maxQueuedBytes`, every frame is written at once;
 * - above it the player is congested: frames are skipped (counted) until the queue drains, and it
 *   resumes at the next keyframe so the decoder never sees a broken GOP;
 * - a player that stays congested for `stallTimeoutMs` is closed.
 */
export abstract class TcpFramePlayer implements StreamPlayer {
  abstract readonly protocol: PlayProtocol | 'ws-flv';
  bytesOut = 0;
  skippedFrames = 0;
  private congestedSince = 0;
  private waitKey = false;
  private hasVideo = false;
  private ended = false;

  constructor(
    readonly id: string,
    protected readonly socket: Socket,
    protected readonly limits: PlayerLimits,
    private readonly onSkip?: (player: TcpFramePlayer, frames: number) => void,
  ) {
    socket.on('drain', () => this.drained());
  }

  /** Writes the bytes of a frame or a batch (one buffer, shared with the stream's other players); returns bytes written. */
  protected abstract writeUnit(unit: WireUnit): number;
  /** Ends the stream on the wire (status messages, end of HTTP response). */
  protected abstract writeEnd(reason: string): void;
  abstract close(reason: string): void;

  deliver(frame: MediaFrame, wire: FrameWire): void {
    if (this.ended || this.socket.destroyed) return;
    if (frame.kind === 'video') this.hasVideo = true;
    if (this.congestedSince > 0) {
      if (!frame.config) {
        this.skippedFrames++;
        if (Date.now() - this.congestedSince > this.limits.stallTimeoutMs) {
          this.close(`stalled: no progress for ${this.limits.stallTimeoutMs} ms`);
        }
        return;
      }
    } else if (this.waitKey && !frame.config) {
      if (this.hasVideo && !(frame.kind === 'video' && frame.key)) {
        this.skippedFrames++;
        return;
      }
      if (frame.kind === 'video') this.waitKey = false;
    }
    this.write(wire);
  }

  private write(unit: WireUnit): void {
    this.bytesOut += this.writeUnit(unit);
    if (this.socket.writableLength > this.limits.maxQueuedBytes) {
      this.congestedSince = Date.now();
      this.onSkip?.(this, 0);
    }
  }

  deliverBatch(frames: readonly FrameWire[], batch?: FrameBatch): void {
    if (this.ended || this.socket.destroyed) return;
    if (batch && this.congestedSince === 0 && !this.waitKey) {
      // in step with the stream: the whole batch in one write
      if (batch.hasVideo) this.hasVideo = true;
      this.write(batch);
      return;
    }
    for (const w of frames) this.deliver(w.frame, w);
  }

  private drained(): void {
    if (this.congestedSince > 0) {
      this.congestedSince = 0;
      this.waitKey = true;
      this.onSkip?.(this, this.skippedFrames);
    }
  }

  get congested(): boolean {
    return this.congestedSince > 0;
  }

  streamEnded(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.writeEnd(reason);
  }
}
