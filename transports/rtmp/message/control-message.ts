import {
  CSID_PROTOCOL,
  MSG_ABORT,
  MSG_ACKNOWLEDGEMENT,
  MSG_SET_CHUNK_SIZE,
  MSG_SET_PEER_BANDWIDTH,
  MSG_WINDOW_ACK_SIZE,
} from '../constants.js';
import { RtmpProtocolError } from '../errors.js';
import type { RtmpMessage } from '../types.js';

/**
 * Protocol control messages (5.4), on chunk stream 2, message stream 0:
 *
 *   Set Chunk Size (1)      | 0 | chunk size (31 bits) |
 *   Abort (2)               | chunk stream id (32)   |
 *   Acknowledgement (3)     | sequence number (32)   |
 *   Window Ack Size (5)     | window size (32)       |
 *   Set Peer Bandwidth (6)  | window size (32) | limit type (8) |
 */
function u32Message(typeId: number, value: number, extra?: number): RtmpMessage {
  const payload = new Uint8Array(extra === undefined ? 4 : 5);
  payload[0] = value >>> 24;
  payload[1] = (value >>> 16) & 0xff;
  payload[2] = (value >>> 8) & 0xff;
  payload[3] = value & 0xff;
  if (extra !== undefined) payload[4] = extra;
  return { typeId, streamId: 0, timestamp: 0, payload, csid: CSID_PROTOCOL };
}

export function setChunkSizeMessage(size: number): RtmpMessage {
  return u32Message(MSG_SET_CHUNK_SIZE, size & 0x7fffffff);
}

export function abortMessage(csid: number): RtmpMessage {
  return u32Message(MSG_ABORT, csid);
}

export function acknowledgementMessage(sequenceNumber: number): RtmpMessage {
  return u32Message(MSG_ACKNOWLEDGEMENT, sequenceNumber >>> 0);
}

export function windowAckSizeMessage(size: number): RtmpMessage {
  return u32Message(MSG_WINDOW_ACK_SIZE, size);
}

export function setPeerBandwidthMessage(size: number, limitType: number): RtmpMessage {
  return u32Message(MSG_SET_PEER_BANDWIDTH, size, limitType);
}

/** The 32-bit value of a control message. @throws RtmpProtocolError when shorter than 4 bytes. */
export function decodeU32(payload: Uint8Array, what: string): number {
  if (payload.length < 4) throw new RtmpProtocolError('RTS_ERR_RTMP_MESSAGE', `${what} shorter than 4 bytes`);
  return ((payload[0] << 24) | (payload[1] << 16) | (payload[2] << 8) | payload[3]) >>> 0;
}
