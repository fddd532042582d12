import { ProtocolError } from '../../engine/errors.js';

/** Stable codes of RTMP protocol errors. Each closes only the connection that caused it. */
export type RtmpErrorCode =
  | 'RTS_ERR_RTMP_HANDSHAKE'
  | 'RTS_ERR_RTMP_CHUNK'
  | 'RTS_ERR_RTMP_CHUNK_TOO_LARGE'
  | 'RTS_ERR_RTMP_MESSAGE_TOO_LARGE'
  | 'RTS_ERR_RTMP_TOO_MANY_CHUNK_STREAMS'
  | 'RTS_ERR_RTMP_MESSAGE'
  | 'RTS_ERR_RTMP_COMMAND'
  | 'RTS_ERR_RTMP_WRITE_BUFFER'
  | 'RTS_ERR_RTMP_URL';

export class RtmpProtocolError extends ProtocolError {
  declare readonly code: RtmpErrorCode;
  constructor(code: RtmpErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A status the peer answered with (`_error`, or an onStatus of level "error"). */
export class RtmpStatusError extends ProtocolError {
  /** The NetConnection/NetStream code, e.g. `NetStream.Publish.BadName`. */
  readonly status: string;
  readonly description: string;
  constructor(status: string, description: string) {
    super('RTS_ERR_RTMP_STATUS', `${status}: ${description}`);
    this.status = status;
    this.description = description;
  }
}
