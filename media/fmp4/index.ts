export {
  encodeFragment,
  type FragmentSample,
  type FragmentTrack,
  sizeOfFragment,
  writeFragment,
} from './fragment.js';
export { box, encodeInitSegment, fullBox, type InitTrack } from './init-segment.js';
