/**
 * FLV tag bodies for the transcoder's output frames, so the engine serves them on every protocol.
 *
 * Video, legacy AVC (Adobe FLV spec v10.1, E.4.3.1 and E.4.3.2):
 * ```
 * frameType:4 (1 key, 2 inter) | codecId:4 = 7 | AVCPacketType:8 (0 config, 1 NALUs) | cts:24 signed | AVCC / AVCDecoderConfigurationRecord
 * ```
 * Audio, enhanced RTMP (E-RTMP v2, ExAudioTagHeader), FourCC 'Opus':
 * ```
 * soundFormat:4 = 9 (ExHeader) | audioPacketType:4 (0 SequenceStart, 1 CodedFrames) | 'O' 'p' 'u' 's' | OpusHead / one Opus packet
 * ```
 */
export const VIDEO_BODY_HEADER = 5;
export const OPUS_BODY_HEADER = 5;

export function avcVideoBody(
  payload: Uint8Array,
  o: { key: boolean; config: boolean; cts: number },
): Uint8Array {
  const out = new Uint8Array(VIDEO_BODY_HEADER + payload.length);
  const cts = Math.round(o.cts) & 0xffffff;
  out[0] = ((o.key || o.config ? 1 : 2) << 4) | 7;
  out[1] = o.config ? 0 : 1;
  out[2] = (cts >> 16) & 0xff;
  out[3] = (cts >> 8) & 0xff;
  out[4] = cts & 0xff;
  out.set(payload, VIDEO_BODY_HEADER);
  return out;
}

export function opusAudioBody(payload: Uint8Array, config: boolean): Uint8Array {
  const out = new Uint8Array(OPUS_BODY_HEADER + payload.length);
  out[0] = 0x90 | (config ? 0 : 1);
  out[1] = 0x4f;
  out[2] = 0x70;
  out[3] = 0x75;
  out[4] = 0x73;
  out.set(payload, OPUS_BODY_HEADER);
  return out;
}
