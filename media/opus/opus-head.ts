import { ProtocolError } from '../../engine/errors.js';

/**
 * OpusHead identification header (RFC 7845 5.1), little-endian.
 *
 * ```
 * 'OpusHead':8 | version:1 | channels:1 | pre-skip:2 | input sample rate:4 | output gain:2 | mapping family:1 | [table]
 * ```
 */
export interface OpusHead {
  version: number;
  channels: number;
  preSkip: number;
  inputSampleRate: number;
  outputGain: number;
  mappingFamily: number;
  /** The channel mapping table (family ≠ 0), a view. */
  mappingTable: Uint8Array;
}

export const OPUS_HEAD_SIZE = 19;
const MAGIC = [0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64];

export function parseOpusHead(buf: Uint8Array, offset = 0): OpusHead {
  if (buf.length - offset < OPUS_HEAD_SIZE)
    throw new ProtocolError('RTS_ERR_OPUS_HEAD_TRUNCATED', 'OpusHead truncated');
  for (let i = 0; i < 8; i++) {
    if (buf[offset + i] !== MAGIC[i])
      throw new ProtocolError('RTS_ERR_OPUS_HEAD_INVALID', 'OpusHead magic missing');
  }
  const dv = new DataView(buf.buffer, buf.byteOffset + offset, buf.length - offset);
  return {
    version: buf[offset + 8],
    channels: buf[offset + 9],
    preSkip: dv.getUint16(10, true),
    inputSampleRate: dv.getUint32(12, true),
    outputGain: dv.getInt16(16, true),
    mappingFamily: buf[offset + 18],
    mappingTable: buf.subarray(offset + OPUS_HEAD_SIZE),
  };
}

/** A default stereo/mono OpusHead for streams that carry no config (e.g. from WebRTC). */
export function encodeOpusHead(channels: number, preSkip = 312, inputSampleRate = 48000): Uint8Array {
  const out = new Uint8Array(OPUS_HEAD_SIZE);
  out.set(MAGIC, 0);
  const dv = new DataView(out.buffer);
  out[8] = 1;
  out[9] = channels;
  dv.setUint16(10, preSkip, true);
  dv.setUint32(12, inputSampleRate, true);
  return out;
}
