import type { Socket } from 'node:net';
import type { PlayerLimits } from '../../engine/config/config.js';
import { TcpFramePlayer } from '../../engine/stream/tcp-frame-player.js';
import { flvFileHeader, type WireUnit } from './frame-wire.js';

/**
 * An HTTP-FLV player. After the response headers (chunked transfer encoding) the player owns the
 * socket: each frame is one HTTP chunk (size line, FLV tag, PreviousTagSize, CRLF), built once per
 * stream and written by every player.
 */
export class HttpFlvPlayer extends TcpFramePlayer {
  readonly protocol = 'flv' as const;
  private closed = false;

  constructor(id: string, socket: Socket, limits: PlayerLimits, hasAudio: boolean, hasVideo: boolean) {
    super(id, socket, limits);
    const head = flvFileHeader(hasAudio, hasVideo);
    socket.write(`${head.length.toString(16)}\r\n`);
    socket.write(head);
    socket.write('\r\n');
    this.bytesOut += head.length;
  }

  protected writeUnit(unit: WireUnit): number {
    const bytes = unit.flvHttpBytes();
    this.socket.write(bytes);
    return bytes.length;
  }

  protected writeEnd(_reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end('0\r\n\r\n');
  }

  close(_reason: string): void {
    if (this.closed) {
      this.socket.destroy();
      return;
    }
    this.closed = true;
    this.socket.destroy();
  }
}

/** The same over WebSocket: one binary message per FLV tag (mpegts.js `type: 'flv'` over ws://). */
export class WsFlvPlayer extends TcpFramePlayer {
  readonly protocol = 'ws-flv' as const;
  private closed = false;

  constructor(id: string, socket: Socket, limits: PlayerLimits, hasAudio: boolean, hasVideo: boolean) {
    super(id, socket, limits);
    const head = flvFileHeader(hasAudio, hasVideo);
    socket.write(Buffer.concat([Buffer.from([0x82, head.length]), head]));
    this.bytesOut += head.length;
  }

  protected writeUnit(unit: WireUnit): number {
    const bytes = unit.wsFlvBytes();
    this.socket.write(bytes);
    return bytes.length;
  }

  protected writeEnd(_reason: string): void {
    if (this.closed) return;
    this.closed = true;
    // close frame, status 1000 (normal closure)
    this.socket.end(Buffer.from([0x88, 0x02, 0x03, 0xe8]));
  }

  close(_reason: string): void {
    this.closed = true;
    this.socket.destroy();
  }
}
