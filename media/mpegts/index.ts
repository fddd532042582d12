export * from './constants.js';
export { crc32Mpeg2 } from './crc32-mpeg2.js';
export { SegmentBuffer } from './segment-buffer.js';
export { msTo90k, TsMuxer, writePcr, writePesTimestamp } from './ts-muxer.js';
