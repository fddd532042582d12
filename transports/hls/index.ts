export { AUDIO_ONLY_AFTER_MS, HlsMuxer, type HlsMuxerOptions } from './hls-muxer.js';
export { targetDurationOf, writeClassicPlaylist, writeLlPlaylist } from './playlist-writer.js';
export * from './types.js';
