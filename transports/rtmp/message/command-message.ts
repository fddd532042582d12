import { decodeAmf0All } from '../../../media/amf0/amf0-decoder.js';
import { encodeAmf0 } from '../../../media/amf0/amf0-encoder.js';
import { AmfError } from '../../../media/amf0/errors.js';
import type { Amf0Object, Amf0Value } from '../../../media/amf0/types.js';
import { CSID_COMMAND, MSG_COMMAND_AMF0, MSG_COMMAND_AMF3 } from '../constants.js';
import { RtmpProtocolError } from '../errors.js';
import type { RtmpMessage } from '../types.js';

/**
 * Command message (type 20 AMF0, type 17 AMF3; 7.1.1, 7.2):
 *
 *   | [0x00 format byte, type 17 only] | name (AMF string) | transaction id (AMF number)
 *   | command object (AMF object or null) | optional arguments (AMF values)... |
 *
 * Type 17 bodies are AMF0 values that may switch to AMF3 through the avmplus marker (0x11).
 */
export interface RtmpCommand {
  readonly name: string;
  readonly transactionId: number;
  readonly commandObject: Amf0Object | null;
  readonly args: readonly Amf0Value[];
}

/** @throws RtmpProtocolError (wrapping AmfError) when the body is not a command. */
export function decodeCommand(msg: RtmpMessage): RtmpCommand {
  const payload = msg.payload;
  let offset = 0;
  if (msg.typeId === MSG_COMMAND_AMF3 && payload.length > 0 && payload[0] === 0) offset = 1;
  let values: Amf0Value[];
  try {
    values = decodeAmf0All(payload, offset, payload.length);
  } catch (err) {
    if (err instanceof AmfError)
      throw new RtmpProtocolError('RTS_ERR_RTMP_COMMAND', err.message, { cause: err });
    throw err;
  }
  const [name, transactionId, commandObject] = values;
  if (typeof name !== 'string') throw new RtmpProtocolError('RTS_ERR_RTMP_COMMAND', 'command without a name');
  const obj =
    commandObject !== null && typeof commandObject === 'object' && !Array.isArray(commandObject)
      ? (commandObject as Amf0Object)
      : null;
  return {
    name,
    transactionId: typeof transactionId === 'number' ? transactionId : 0,
    commandObject: obj,
    args: values.slice(3),
  };
}

/** Builds an AMF0 command message on the command chunk stream. */
export function commandMessage(
  streamId: number,
  name: string,
  transactionId: number,
  commandObject: Amf0Object | null,
  ...args: Amf0Value[]
): RtmpMessage {
  return {
    typeId: MSG_COMMAND_AMF0,
    streamId,
    timestamp: 0,
    payload: encodeAmf0(name, transactionId, commandObject, ...args),
    csid: CSID_COMMAND,
  };
}
