import type { Socket } from 'node:net';
import type { MediaFrame } from '../../media/frame/media-frame.js';
import type { FrameWire } from '../../transports/flv/frame-wire.js';
import type { RtmpPlayer } from '../../transports/rtmp/connection.js';
import type { PlayerLimits } from '../config/config.js';
import { TcpFramePlayer } from './tcp-frame-player.js';

/** An RTMP player: the frame's chunks (header bytes + body view, built once per stream) in one writev. */
export class RtmpFramePlayer extends TcpFramePlayer {
  readonly protocol = 'rtmp' as const;

  constructor(
    id: string,
    socket: Socket,
    private readonly player: RtmpPlayer,
    limits: PlayerLimits,
  ) {
    super(id, socket, limits);
  }

  protected writeFrame(frame: MediaFrame, wire: FrameWire): number {
    this.player.sendChunks(wire.rtmpChunks(this.player.streamId, this.player.chunkSize));
    return frame.body.length;
  }

  protected writeEnd(reason: string): void {
    this.player.end(reason);
  }

  close(reason: string): void {
    this.player.close(new Error(reason));
  }
}
