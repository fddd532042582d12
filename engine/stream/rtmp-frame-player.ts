import type { Socket } from 'node:net';
import type { WireUnit } from '../../transports/flv/frame-wire.js';
import type { RtmpPlayer } from '../../transports/rtmp/connection.js';
import type { PlayerLimits } from '../config/config.js';
import { TcpFramePlayer } from './tcp-frame-player.js';

/** An RTMP player: the chunks of a frame or batch, built once per stream, in one write. */
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

  protected writeUnit(unit: WireUnit): number {
    const bytes = unit.rtmpBytes(this.player.streamId, this.player.chunkSize);
    this.player.sendChunks([bytes]);
    return bytes.length;
  }

  protected writeEnd(reason: string): void {
    this.player.end(reason);
  }

  close(reason: string): void {
    this.player.close(new Error(reason));
  }
}
