export * from './binaries.js';
export * from './browser.js';
export * from './children.js';
export * from './ffmpeg.js';
export * from './flv-frames.js';
export * from './nms.js';
export * from './ports.js';
export * from './wait-for.js';
