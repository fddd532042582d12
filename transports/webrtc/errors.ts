import { ProtocolError, RtsError } from '../../engine/errors.js';

/** A malformed SDP offer or trickle fragment (answered 400). */
export class SdpError extends ProtocolError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RTS_ERR_SDP_MALFORMED', message, options);
  }
}

/** A malformed RTCP compound packet (dropped, counted). */
export class RtcpError extends ProtocolError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RTS_ERR_RTCP_MALFORMED', message, options);
  }
}

/** A WHEP request refused with an HTTP status and a one-line reason. */
export class WhepError extends RtsError {
  readonly status: number;
  constructor(code: string, status: number, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
  }
}
