import type { Socket } from 'node:net';
import type { PlayerLimits } from '../../engine/config/config.js';
import { TcpFramePlayer } from '../../engine/stream/tcp-frame-player.js';
import type { MediaFrame } from '../../media/frame/media-frame.js';
import { type FrameWire, flvFileHeader } from './frame-wire.js';

/**
 * An HTTP-FLV player. After the response headers (chunked transfer encoding) the player owns the
 * socket: each frame is one HTTP chunk written as three buffers built once per stream (chunk
 * size line + FLV tag header, the body view, PreviousTagSize + CRLF), with cork/uncork so they
 * leave in one writev.
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

  protected writeFrame(frame: MediaFrame, wire: FrameWire): number {
    const s = this.socket;
    s.cork();
    s.write(wire.httpChunkPrefix());
    s.write(frame.body);
    s.write(wire.httpChunkSuffix());
    s.uncork();
    return frame.body.length + 15;
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

  protected writeFrame(frame: MediaFrame, wire: FrameWire): number {
    const s = this.socket;
    const hdr = wire.flvHeaderAndTrailer();
    s.cork();
    s.write(wire.wsHeader());
    s.write(hdr.subarray(0, 11));
    s.write(frame.body);
    s.write(hdr.subarray(11));
    s.uncork();
    return frame.body.length + 15;
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
