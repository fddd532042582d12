import type { Socket } from 'node:net';
import type { MediaFrame } from '../../media/frame/media-frame.js';
import type { FrameWire } from '../../transports/flv/frame-wire.js';
import type { PlayProtocol } from '../access/access-policy.js';
import type { PlayerLimits } from '../config/config.js';
import type { StreamPlayer } from './stream-player.js';

/**
 * The flow control every TCP player shares. Writes are header bytes plus views of the shared ring
 * (never a copy), so what a slow socket queues costs no memory of its own, only ring space:
 * - while the socket's queue is under `maxQueuedBytes`, every frame is written at once;
 * - above it the player is congested: frames are skipped (counted) until the queue drains, and it
 *   resumes at the next keyframe so the decoder never sees a broken GOP;
 * - `pinnedSeq` tells the stream which ring frame a queued write still references; if the ring is
 *   about to wrap onto it, the stream calls `overrun()` and the player is closed;
 * - a player that stays congested for `stallTimeoutMs` is closed.
 */
export abstract class TcpFramePlayer implements StreamPlayer {
  abstract readonly protocol: PlayProtocol | 'ws-flv';
  private pinned = -1;
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

  /** Writes header bytes and the body view(s) of one frame; returns bytes written. */
  protected abstract writeFrame(frame: MediaFrame, wire: FrameWire): number;
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
    const socket = this.socket;
    if (socket.writableLength === 0) this.pinned = -1;
    this.bytesOut += this.writeFrame(frame, wire);
    // Config frames live outside the ring (stable), so only media frames pin ring space.
    if (socket.writableLength > 0 && this.pinned < 0 && !frame.config) this.pinned = frame.seq;
    if (socket.writableLength > this.limits.maxQueuedBytes) {
      this.congestedSince = Date.now();
      this.onSkip?.(this, 0);
    }
  }

  /** -1 when nothing queued references the ring ('drain' only fires after a write returned false). */
  get pinnedSeq(): number {
    return this.socket.writableLength === 0 ? -1 : this.pinned;
  }

  deliverBatch(frames: readonly FrameWire[]): void {
    const s = this.socket;
    s.cork();
    for (const w of frames) this.deliver(w.frame, w);
    s.uncork();
  }

  private drained(): void {
    this.pinned = -1;
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

  overrun(): void {
    this.close('overrun: too slow, the shared ring wrapped onto its queued data');
  }
}
