import { ProtocolError } from '../../engine/errors.js';

/** Malformed or hostile AMF bytes. Closes only the connection that sent them. */
export class AmfError extends ProtocolError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RTS_ERR_AMF', message, options);
  }
}
