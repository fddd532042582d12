export { annexBToAvcc, opusPacketDurationMs, splitAnnexB, splitOpusAccessUnits } from './elementary.js';
export { ffmpegArgs } from './ffmpeg-args.js';
export { resolveFfmpegPath } from './ffmpeg-binary.js';
export { avcVideoBody, opusAudioBody } from './flv-bodies.js';
export { encodeFlvHeader, encodeFlvTag, writeFlvHeader, writeFlvTag } from './flv-writer.js';
export { MpegTsDemuxer, type PesPacket } from './mpegts-demuxer.js';
export {
  AUDIO_OPUS_TEMPLATE,
  BUILTIN_TEMPLATES,
  parseVariantStreamName,
  RTS_TEMPLATE,
  transcodesAudio,
  transcodesVideo,
  variantStreamName,
} from './templates.js';
export { FEED_BASE_MS, Transcoder } from './transcoder.js';
export type {
  RestartPolicy,
  TranscoderEvents,
  TranscoderOptions,
  TranscoderRestartInfo,
  TranscoderStats,
  TranscodeTemplate,
} from './types.js';
