import type { AacConfig } from './audio-specific-config.js';

/** ADTS fixed + variable header without CRC (ISO/IEC 13818-7 6.2 / 14496-3 1.A.2). */
export const ADTS_HEADER_SIZE = 7;
/** frame_length is 13 bits. */
export const MAX_ADTS_FRAME_SIZE = 0x1fff;

/**
 * Writes the 7-byte ADTS header for a raw AAC frame of `payloadLength` bytes.
 *
 * ```
 * syncword:12=FFF id:1 layer:2 protection_absent:1=1 | profile:2 sf_index:4 private:1 channel_config:3
 * orig:1 home:1 | copyright_id_bit:1 copyright_id_start:1 frame_length:13 buffer_fullness:11=7FF blocks:2
 * ```
 */
export function writeAdtsHeader(
  cfg: AacConfig,
  payloadLength: number,
  out: Uint8Array,
  offset: number,
): number {
  if (offset + ADTS_HEADER_SIZE > out.length) throw new RangeError('writeAdtsHeader: buffer too short');
  const frameLength = payloadLength + ADTS_HEADER_SIZE;
  if (frameLength > MAX_ADTS_FRAME_SIZE)
    throw new RangeError(`AAC frame of ${payloadLength} bytes exceeds ADTS`);
  // ADTS profile is objectType-1 and only covers Main/LC/SSR/LTP; HE-AAC goes as LC with implicit SBR.
  const profile = Math.min(Math.max(cfg.coreObjectType, 1), 4) - 1;
  const sfi = cfg.samplingFrequencyIndex === 15 ? 4 : cfg.samplingFrequencyIndex;
  const ch = cfg.channelConfiguration & 7;
  out[offset] = 0xff;
  out[offset + 1] = 0xf1;
  out[offset + 2] = (profile << 6) | (sfi << 2) | (ch >> 2);
  out[offset + 3] = ((ch & 3) << 6) | (frameLength >> 11);
  out[offset + 4] = (frameLength >> 3) & 0xff;
  out[offset + 5] = ((frameLength & 7) << 5) | 0x1f;
  out[offset + 6] = 0xfc;
  return ADTS_HEADER_SIZE;
}
