import { CSID_PROTOCOL, MSG_USER_CONTROL, UC_SET_BUFFER_LENGTH } from '../constants.js';
import { RtmpProtocolError } from '../errors.js';
import type { RtmpMessage } from '../types.js';

/**
 * User Control message (type 4, 7.1.7):
 *
 *   | event type (16) | event data: stream id or timestamp (32) | [buffer length ms (32) for Set Buffer Length] |
 */
export interface UserControlEvent {
  readonly event: number;
  /** Stream id, or the timestamp of a ping. */
  readonly value: number;
  /** Buffer length in ms (Set Buffer Length only). */
  readonly bufferLength?: number;
}

export function userControlMessage(event: number, value: number, bufferLength?: number): RtmpMessage {
  const payload = new Uint8Array(bufferLength === undefined ? 6 : 10);
  payload[0] = event >>> 8;
  payload[1] = event & 0xff;
  payload[2] = value >>> 24;
  payload[3] = (value >>> 16) & 0xff;
  payload[4] = (value >>> 8) & 0xff;
  payload[5] = value & 0xff;
  if (bufferLength !== undefined) {
    payload[6] = bufferLength >>> 24;
    payload[7] = (bufferLength >>> 16) & 0xff;
    payload[8] = (bufferLength >>> 8) & 0xff;
    payload[9] = bufferLength & 0xff;
  }
  return { typeId: MSG_USER_CONTROL, streamId: 0, timestamp: 0, payload, csid: CSID_PROTOCOL };
}

/** @throws RtmpProtocolError when the event is truncated. */
export function decodeUserControl(payload: Uint8Array): UserControlEvent {
  if (payload.length < 6)
    throw new RtmpProtocolError('RTS_ERR_RTMP_MESSAGE', 'User Control shorter than 6 bytes');
  const event = (payload[0] << 8) | payload[1];
  const value = ((payload[2] << 24) | (payload[3] << 16) | (payload[4] << 8) | payload[5]) >>> 0;
  if (event === UC_SET_BUFFER_LENGTH) {
    if (payload.length < 10) {
      throw new RtmpProtocolError('RTS_ERR_RTMP_MESSAGE', 'Set Buffer Length shorter than 10 bytes');
    }
    const bufferLength = ((payload[6] << 24) | (payload[7] << 16) | (payload[8] << 8) | payload[9]) >>> 0;
    return { event, value, bufferLength };
  }
  return { event, value };
}
