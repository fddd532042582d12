import { decodeAmf0, decodeAmf0All } from '../../../media/amf0/amf0-decoder.js';
import { encodeAmf0 } from '../../../media/amf0/amf0-encoder.js';
import { AmfError } from '../../../media/amf0/errors.js';
import { type Amf0Object, type Amf0Value, asEcmaArray } from '../../../media/amf0/types.js';
import { CSID_DATA, MSG_DATA_AMF0, MSG_DATA_AMF3 } from '../constants.js';
import { RtmpProtocolError } from '../errors.js';
import type { RtmpMessage } from '../types.js';

/**
 * Data message (type 18 AMF0, type 15 AMF3; 7.1.2): a handler name and its values.
 * Publishers send `@setDataFrame("onMetaData", {…})`; the stored form, an FLV script tag body and
 * what players receive, is `onMetaData({…})`, i.e. the same bytes after the first string.
 */
export interface RtmpData {
  readonly name: string;
  readonly values: readonly Amf0Value[];
  /** The body without `@setDataFrame` (a view), ready to store as an FLV script tag body. */
  readonly body: Uint8Array;
}

export const SET_DATA_FRAME = '@setDataFrame';

/** @throws RtmpProtocolError (wrapping AmfError) when the body is not AMF. */
export function decodeData(msg: RtmpMessage): RtmpData {
  let body = msg.payload;
  if (msg.typeId === MSG_DATA_AMF3 && body.length > 0 && body[0] === 0) body = body.subarray(1);
  try {
    const first = decodeAmf0(body, 0);
    if (first.value === SET_DATA_FRAME) body = body.subarray(first.bytesRead);
    const values = decodeAmf0All(body, 0, body.length);
    const [name, ...rest] = values;
    if (typeof name !== 'string')
      throw new RtmpProtocolError('RTS_ERR_RTMP_MESSAGE', 'data message without a name');
    return { name, values: rest, body };
  } catch (err) {
    if (err instanceof AmfError)
      throw new RtmpProtocolError('RTS_ERR_RTMP_MESSAGE', err.message, { cause: err });
    throw err;
  }
}

/** `onMetaData` body with the metadata as an ECMA array (what FLV files and players expect). */
export function encodeMetadataBody(metadata: Amf0Object): Uint8Array {
  return encodeAmf0('onMetaData', asEcmaArray({ ...metadata }));
}

/** A data message on the data chunk stream (e.g. `|RtmpSampleAccess`, or metadata for players). */
export function dataMessage(streamId: number, payload: Uint8Array, timestamp = 0): RtmpMessage {
  return { typeId: MSG_DATA_AMF0, streamId, timestamp, payload, csid: CSID_DATA };
}

/** `@setDataFrame("onMetaData", metadata)`: what a publishing client sends. */
export function setDataFrameMessage(streamId: number, metadata: Amf0Object): RtmpMessage {
  return dataMessage(streamId, encodeAmf0(SET_DATA_FRAME, 'onMetaData', asEcmaArray({ ...metadata })));
}
