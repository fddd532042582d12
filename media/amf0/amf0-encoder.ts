import { AmfError } from './errors.js';
import {
  AMF0_BOOLEAN,
  AMF0_CLASS_NAME,
  AMF0_DATE,
  AMF0_ECMA_ARRAY,
  AMF0_ECMA_ARRAY_MARKER,
  AMF0_LONG_STRING,
  AMF0_NULL,
  AMF0_NUMBER,
  AMF0_OBJECT,
  AMF0_OBJECT_END,
  AMF0_STRICT_ARRAY,
  AMF0_STRING,
  AMF0_TYPED_OBJECT,
  AMF0_UNDEFINED,
  type Amf0Object,
  type Amf0Value,
  MAX_AMF_DEPTH,
} from './types.js';

const utf8 = new TextEncoder();
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

function utf8Length(s: string): number {
  // ASCII fast path: most AMF strings in RTMP are command names and keys.
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      n = Buffer.byteLength(s, 'utf8');
      break;
    }
  }
  return n;
}

function writeUtf8(s: string, len: number, out: Uint8Array, offset: number): void {
  if (len === s.length) {
    for (let i = 0; i < len; i++) out[offset + i] = s.charCodeAt(i);
  } else {
    utf8.encodeInto(s, out.subarray(offset, offset + len));
  }
}

function writeDoubleBE(v: number, out: Uint8Array, offset: number): void {
  f64[0] = v;
  for (let i = 0; i < 8; i++) out[offset + i] = f64Bytes[7 - i];
}

function className(obj: object): string | undefined {
  const c = (obj as Record<symbol, unknown>)[AMF0_CLASS_NAME];
  return typeof c === 'string' ? c : undefined;
}

function propertiesSize(obj: Amf0Object, depth: number): number {
  let n = 3; // empty key + object-end marker
  for (const key of Object.keys(obj)) {
    n += 2 + utf8Length(key) + sizeAt(obj[key], depth + 1);
  }
  return n;
}

function sizeAt(value: Amf0Value, depth: number): number {
  if (depth > MAX_AMF_DEPTH) throw new AmfError(`AMF0 value nested deeper than ${MAX_AMF_DEPTH}`);
  switch (typeof value) {
    case 'number': {
      return 9;
    }
    case 'boolean': {
      return 2;
    }
    case 'string': {
      const len = utf8Length(value);
      return len > 0xffff ? 5 + len : 3 + len;
    }
    case 'undefined': {
      return 1;
    }
    case 'object': {
      if (value === null) return 1;
      if (value instanceof Date) return 11;
      if (value instanceof Uint8Array) throw new AmfError('AMF0 cannot encode a byte array');
      if (Array.isArray(value)) {
        let n = 5;
        for (const v of value) n += sizeAt(v, depth + 1);
        return n;
      }
      const cls = className(value);
      if (cls !== undefined) return 3 + utf8Length(cls) + propertiesSize(value, depth);
      if ((value as Record<symbol, unknown>)[AMF0_ECMA_ARRAY] === true)
        return 5 + propertiesSize(value, depth);
      return 1 + propertiesSize(value, depth);
    }
    default: {
      throw new AmfError(`AMF0 cannot encode a ${typeof value}`);
    }
  }
}

function writeProperties(obj: Amf0Object, out: Uint8Array, offset: number, depth: number): number {
  for (const key of Object.keys(obj)) {
    const len = utf8Length(key);
    if (len > 0xffff) throw new AmfError('AMF0 object key longer than 65535 bytes');
    out[offset] = len >>> 8;
    out[offset + 1] = len & 0xff;
    writeUtf8(key, len, out, offset + 2);
    offset = writeAt(obj[key], out, offset + 2 + len, depth + 1);
  }
  out[offset] = 0;
  out[offset + 1] = 0;
  out[offset + 2] = AMF0_OBJECT_END;
  return offset + 3;
}

function writeU32(v: number, out: Uint8Array, offset: number): void {
  out[offset] = v >>> 24;
  out[offset + 1] = (v >>> 16) & 0xff;
  out[offset + 2] = (v >>> 8) & 0xff;
  out[offset + 3] = v & 0xff;
}

/** Writes `value` at `offset`; the caller has checked the size. Returns the offset after it. */
function writeAt(value: Amf0Value, out: Uint8Array, offset: number, depth: number): number {
  switch (typeof value) {
    case 'number': {
      out[offset] = AMF0_NUMBER;
      writeDoubleBE(value, out, offset + 1);
      return offset + 9;
    }
    case 'boolean': {
      out[offset] = AMF0_BOOLEAN;
      out[offset + 1] = value ? 1 : 0;
      return offset + 2;
    }
    case 'string': {
      const len = utf8Length(value);
      if (len > 0xffff) {
        out[offset] = AMF0_LONG_STRING;
        writeU32(len, out, offset + 1);
        writeUtf8(value, len, out, offset + 5);
        return offset + 5 + len;
      }
      out[offset] = AMF0_STRING;
      out[offset + 1] = len >>> 8;
      out[offset + 2] = len & 0xff;
      writeUtf8(value, len, out, offset + 3);
      return offset + 3 + len;
    }
    case 'undefined': {
      out[offset] = AMF0_UNDEFINED;
      return offset + 1;
    }
    default: {
      break;
    }
  }
  if (value === null) {
    out[offset] = AMF0_NULL;
    return offset + 1;
  }
  if (value instanceof Date) {
    out[offset] = AMF0_DATE;
    writeDoubleBE(value.getTime(), out, offset + 1);
    out[offset + 9] = 0;
    out[offset + 10] = 0;
    return offset + 11;
  }
  if (value instanceof Uint8Array) throw new AmfError('AMF0 cannot encode a byte array');
  if (Array.isArray(value)) {
    out[offset] = AMF0_STRICT_ARRAY;
    writeU32(value.length, out, offset + 1);
    offset += 5;
    for (const v of value) offset = writeAt(v, out, offset, depth + 1);
    return offset;
  }
  const cls = className(value);
  if (cls !== undefined) {
    out[offset] = AMF0_TYPED_OBJECT;
    const len = utf8Length(cls);
    out[offset + 1] = len >>> 8;
    out[offset + 2] = len & 0xff;
    writeUtf8(cls, len, out, offset + 3);
    return writeProperties(value, out, offset + 3 + len, depth);
  }
  if ((value as Record<symbol, unknown>)[AMF0_ECMA_ARRAY] === true) {
    out[offset] = AMF0_ECMA_ARRAY_MARKER;
    writeU32(Object.keys(value).length, out, offset + 1);
    return writeProperties(value, out, offset + 5, depth);
  }
  out[offset] = AMF0_OBJECT;
  return writeProperties(value, out, offset + 1, depth);
}

/** Encoded size of one AMF0 value. @throws AmfError for values AMF0 cannot carry. */
export function sizeOfAmf0(value: Amf0Value): number {
  return sizeAt(value, 0);
}

/**
 * Writes one AMF0 value into `out` at `offset`; returns the bytes written.
 * @throws RangeError when `out` is too short, AmfError for values AMF0 cannot carry.
 */
export function writeAmf0(value: Amf0Value, out: Uint8Array, offset: number): number {
  const size = sizeAt(value, 0);
  if (offset + size > out.length) throw new RangeError(`AMF0 value needs ${size} bytes at ${offset}`);
  return writeAt(value, out, offset, 0) - offset;
}

/** Encodes consecutive AMF0 values into one exactly sized buffer (an RTMP command body). */
export function encodeAmf0(...values: Amf0Value[]): Uint8Array {
  let size = 0;
  for (const v of values) size += sizeAt(v, 0);
  const out = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const v of values) offset = writeAt(v, out, offset, 0);
  return out;
}
