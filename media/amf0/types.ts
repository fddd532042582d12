/**
 * AMF0 value model (Adobe "Action Message Format -- AMF 0", December 2007).
 *
 * Decoded values map onto plain JavaScript values. Two AMF0 shapes that look alike in JavaScript
 * keep a non-enumerable tag so that encode(decode(bytes)) gives the same bytes back:
 * an ECMA array (marker 0x08) decodes to an object tagged with AMF0_ECMA_ARRAY, a typed object
 * (marker 0x10) to an object tagged with AMF0_CLASS_NAME.
 */
export type Amf0Value =
  | number
  | boolean
  | string
  | null
  | undefined
  | Date
  /** Only from AMF3 (ByteArray); the AMF0 encoder refuses it. */
  | Uint8Array
  | Amf0Value[]
  | Amf0Object;

export interface Amf0Object {
  [key: string]: Amf0Value;
}

/** Type markers, AMF0 spec section 2.1. */
export const AMF0_NUMBER = 0x00;
export const AMF0_BOOLEAN = 0x01;
export const AMF0_STRING = 0x02;
export const AMF0_OBJECT = 0x03;
export const AMF0_MOVIECLIP = 0x04;
export const AMF0_NULL = 0x05;
export const AMF0_UNDEFINED = 0x06;
export const AMF0_REFERENCE = 0x07;
export const AMF0_ECMA_ARRAY_MARKER = 0x08;
export const AMF0_OBJECT_END = 0x09;
export const AMF0_STRICT_ARRAY = 0x0a;
export const AMF0_DATE = 0x0b;
export const AMF0_LONG_STRING = 0x0c;
export const AMF0_UNSUPPORTED = 0x0d;
export const AMF0_RECORDSET = 0x0e;
export const AMF0_XML_DOCUMENT = 0x0f;
export const AMF0_TYPED_OBJECT = 0x10;
/** Switch to AMF3 for the next value (AMF0 spec 3.1, "avmplus-object-marker"). */
export const AMF0_AVMPLUS = 0x11;

/** Tag of an object that came from (or must be written as) an ECMA array. */
export const AMF0_ECMA_ARRAY: unique symbol = Symbol.for('rts.amf0.ecmaArray');
/** Class name of a typed object (marker 0x10). */
export const AMF0_CLASS_NAME: unique symbol = Symbol.for('rts.amf0.className');

/** Nesting deeper than this is refused: hostile input must not exhaust the stack. */
export const MAX_AMF_DEPTH = 64;

/** Mark `obj` so that it encodes as an ECMA array (what onMetaData uses). Returns obj. */
export function asEcmaArray<T extends Amf0Object>(obj: T): T {
  Object.defineProperty(obj, AMF0_ECMA_ARRAY, { value: true, enumerable: false });
  return obj;
}

export function isEcmaArray(obj: object): boolean {
  return (obj as Record<symbol, unknown>)[AMF0_ECMA_ARRAY] === true;
}
