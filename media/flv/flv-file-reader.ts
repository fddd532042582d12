import { ProtocolError } from '../../engine/errors.js';

/**
 * FLV file structure (Adobe FLV spec E.2/E.3): a 9-byte header, PreviousTagSize0, then tags each
 * followed by PreviousTagSize.
 *
 * ```
 * 'F' 'L' 'V' | version:8 | 00000 audio:1 0 video:1 | dataOffset:32
 * tag: reserved:2 filter:1 type:5 | dataSize:24 | timestamp:24 | timestampExt:8 | streamId:24 | data | prevTagSize:32
 * ```
 */
export interface FlvFileHeader {
  version: number;
  hasAudio: boolean;
  hasVideo: boolean;
}

export interface FlvFileTag {
  type: number;
  /** ms, with the extension byte as the high 8 bits. */
  timestamp: number;
  /** The tag body, a view. */
  body: Uint8Array;
}

export const FLV_FILE_HEADER_SIZE = 9;
export const FLV_TAG_HEADER_SIZE = 11;

export function decodeFlvFileHeader(
  buf: Uint8Array,
  offset = 0,
): { value: FlvFileHeader; bytesRead: number } {
  if (buf.length - offset < FLV_FILE_HEADER_SIZE + 4) {
    throw new ProtocolError('RTS_ERR_FLV_TRUNCATED', 'FLV file header truncated');
  }
  if (buf[offset] !== 0x46 || buf[offset + 1] !== 0x4c || buf[offset + 2] !== 0x56) {
    throw new ProtocolError('RTS_ERR_FLV_SIGNATURE', 'not an FLV file');
  }
  const dataOffset =
    ((buf[offset + 5] << 24) | (buf[offset + 6] << 16) | (buf[offset + 7] << 8) | buf[offset + 8]) >>> 0;
  return {
    value: {
      version: buf[offset + 3],
      hasAudio: (buf[offset + 4] & 4) !== 0,
      hasVideo: (buf[offset + 4] & 1) !== 0,
    },
    bytesRead: dataOffset + 4,
  };
}

/** Reads one tag plus its trailing PreviousTagSize. */
export function decodeFlvFileTag(buf: Uint8Array, offset: number): { value: FlvFileTag; bytesRead: number } {
  if (buf.length - offset < FLV_TAG_HEADER_SIZE) {
    throw new ProtocolError('RTS_ERR_FLV_TRUNCATED', 'FLV tag header truncated');
  }
  const type = buf[offset] & 0x1f;
  const size = (buf[offset + 1] << 16) | (buf[offset + 2] << 8) | buf[offset + 3];
  const timestamp =
    ((buf[offset + 7] << 24) | (buf[offset + 4] << 16) | (buf[offset + 5] << 8) | buf[offset + 6]) >>> 0;
  const start = offset + FLV_TAG_HEADER_SIZE;
  if (start + size + 4 > buf.length)
    throw new ProtocolError('RTS_ERR_FLV_TRUNCATED', 'FLV tag body truncated');
  return {
    value: { type, timestamp, body: buf.subarray(start, start + size) },
    bytesRead: FLV_TAG_HEADER_SIZE + size + 4,
  };
}

/** All tags of a whole FLV file, as views. */
export function* iterateFlvFileTags(buf: Uint8Array): Generator<FlvFileTag> {
  let p = decodeFlvFileHeader(buf, 0).bytesRead;
  while (p < buf.length) {
    const { value, bytesRead } = decodeFlvFileTag(buf, p);
    yield value;
    p += bytesRead;
  }
}
