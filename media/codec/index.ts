export { BFrameDetector, h264FirstSliceType, h264HasBFrames } from '../h264/b-frame-detector.js';
export { forEachAvccNalUnit, iterateAvccNalUnits } from '../h264/nal-units.js';
export * from './analyze.js';
