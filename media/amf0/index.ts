export { type Decoded, decodeAmf0, decodeAmf0All, decodeAmf0ShortString } from './amf0-decoder.js';
export { encodeAmf0, sizeOfAmf0, writeAmf0 } from './amf0-encoder.js';
export { decodeAmf3 } from './amf3-decoder.js';
export { AmfError } from './errors.js';
export {
  AMF0_CLASS_NAME,
  AMF0_ECMA_ARRAY,
  type Amf0Object,
  type Amf0Value,
  asEcmaArray,
  isEcmaArray,
  MAX_AMF_DEPTH,
} from './types.js';
