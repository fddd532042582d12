import { decodeAmf3 } from './amf3-decoder.js';
import { AmfError } from './errors.js';
import {
  AMF0_AVMPLUS,
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
  AMF0_REFERENCE,
  AMF0_STRICT_ARRAY,
  AMF0_STRING,
  AMF0_TYPED_OBJECT,
  AMF0_UNDEFINED,
  AMF0_UNSUPPORTED,
  AMF0_XML_DOCUMENT,
  type Amf0Object,
  type Amf0Value,
  MAX_AMF_DEPTH,
} from './types.js';

export interface Decoded<T> {
  value: T;
  bytesRead: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** Reads an IEEE-754 big-endian double at `offset` (bounds checked by the caller). */
export function readDoubleBE(buf: Uint8Array, offset: number): number {
  for (let i = 0; i < 8; i++) f64Bytes[7 - i] = buf[offset + i];
  return f64[0];
}

export function decodeUtf8(buf: Uint8Array, start: number, end: number): string {
  // Short ASCII keys dominate RTMP commands: skip the decoder for them.
  if (end - start <= 32) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (buf[i] > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      let s = '';
      for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]);
      return s;
    }
  }
  return utf8.decode(buf.subarray(start, end));
}

class Amf0Reader {
  /** Complex values seen so far, for reference markers (AMF0 spec 2.9). */
  readonly refs: Amf0Value[] = [];
  constructor(
    readonly buf: Uint8Array,
    readonly end: number,
  ) {}

  need(offset: number, n: number): void {
    if (offset + n > this.end) throw new AmfError(`AMF0 value truncated at offset ${offset}`);
  }

  /** UTF-8 string with a 16-bit length (no marker). Returns [string, newOffset]. */
  shortString(offset: number): [string, number] {
    this.need(offset, 2);
    const len = (this.buf[offset] << 8) | this.buf[offset + 1];
    this.need(offset + 2, len);
    return [decodeUtf8(this.buf, offset + 2, offset + 2 + len), offset + 2 + len];
  }

  /** Object properties up to the object-end marker, into `obj`. Returns the new offset. */
  properties(obj: Amf0Object, offset: number, depth: number): number {
    for (;;) {
      const [key, next] = this.shortString(offset);
      offset = next;
      this.need(offset, 1);
      if (key === '' && this.buf[offset] === AMF0_OBJECT_END) return offset + 1;
      const [v, after] = this.value(offset, depth + 1);
      // Own data property even for "__proto__": never reach the prototype chain.
      Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
      offset = after;
    }
  }

  value(offset: number, depth: number): [Amf0Value, number] {
    if (depth > MAX_AMF_DEPTH) throw new AmfError(`AMF0 nesting deeper than ${MAX_AMF_DEPTH}`);
    this.need(offset, 1);
    const buf = this.buf;
    const marker = buf[offset++];
    switch (marker) {
      case AMF0_NUMBER: {
        this.need(offset, 8);
        return [readDoubleBE(buf, offset), offset + 8];
      }
      case AMF0_BOOLEAN: {
        this.need(offset, 1);
        return [buf[offset] !== 0, offset + 1];
      }
      case AMF0_STRING: {
        return this.shortString(offset);
      }
      case AMF0_XML_DOCUMENT:
      case AMF0_LONG_STRING: {
        this.need(offset, 4);
        const len =
          ((buf[offset] << 24) | (buf[offset + 1] << 16) | (buf[offset + 2] << 8) | buf[offset + 3]) >>> 0;
        this.need(offset + 4, len);
        return [decodeUtf8(buf, offset + 4, offset + 4 + len), offset + 4 + len];
      }
      case AMF0_OBJECT: {
        const obj: Amf0Object = {};
        this.refs.push(obj);
        return [obj, this.properties(obj, offset, depth)];
      }
      case AMF0_TYPED_OBJECT: {
        const [className, next] = this.shortString(offset);
        const obj: Amf0Object = {};
        Object.defineProperty(obj, AMF0_CLASS_NAME, { value: className, enumerable: false });
        this.refs.push(obj);
        return [obj, this.properties(obj, next, depth)];
      }
      case AMF0_ECMA_ARRAY_MARKER: {
        // The count is a hint only (AMF0 spec 2.10); the object-end marker terminates.
        this.need(offset, 4);
        const obj: Amf0Object = {};
        Object.defineProperty(obj, AMF0_ECMA_ARRAY, { value: true, enumerable: false });
        this.refs.push(obj);
        return [obj, this.properties(obj, offset + 4, depth)];
      }
      case AMF0_STRICT_ARRAY: {
        this.need(offset, 4);
        const count =
          ((buf[offset] << 24) | (buf[offset + 1] << 16) | (buf[offset + 2] << 8) | buf[offset + 3]) >>> 0;
        offset += 4;
        // Every element takes at least one byte: refuse counts the input cannot hold before allocating.
        if (count > this.end - offset) throw new AmfError(`AMF0 strict array count ${count} exceeds input`);
        const arr: Amf0Value[] = [];
        this.refs.push(arr);
        for (let i = 0; i < count; i++) {
          const [v, next] = this.value(offset, depth + 1);
          arr.push(v);
          offset = next;
        }
        return [arr, offset];
      }
      case AMF0_DATE: {
        this.need(offset, 10);
        // 8-byte ms since epoch, then a 16-bit time zone that the spec says to ignore.
        return [new Date(readDoubleBE(buf, offset)), offset + 10];
      }
      case AMF0_NULL: {
        return [null, offset];
      }
      case AMF0_UNDEFINED:
      case AMF0_UNSUPPORTED: {
        return [undefined, offset];
      }
      case AMF0_REFERENCE: {
        this.need(offset, 2);
        const index = (buf[offset] << 8) | buf[offset + 1];
        if (index >= this.refs.length) throw new AmfError(`AMF0 reference ${index} out of range`);
        return [this.refs[index], offset + 2];
      }
      case AMF0_AVMPLUS: {
        const { value, bytesRead } = decodeAmf3(buf, offset, this.end);
        return [value, offset + bytesRead];
      }
      default: {
        throw new AmfError(`unsupported AMF0 marker 0x${marker.toString(16)} at offset ${offset - 1}`);
      }
    }
  }
}

/**
 * Decodes one AMF0 value at `offset`.
 *
 * @throws AmfError on truncated, malformed or too deeply nested input.
 */
export function decodeAmf0(buf: Uint8Array, offset = 0, end = buf.length): Decoded<Amf0Value> {
  const reader = new Amf0Reader(buf, end);
  const [value, next] = reader.value(offset, 0);
  return { value, bytesRead: next - offset };
}

/**
 * Decodes consecutive AMF0 values from `offset` to `end` (an RTMP command or data message body).
 * References are shared across the values, as in one message.
 */
export function decodeAmf0All(buf: Uint8Array, offset = 0, end = buf.length): Amf0Value[] {
  const reader = new Amf0Reader(buf, end);
  const values: Amf0Value[] = [];
  while (offset < end) {
    const [v, next] = reader.value(offset, 0);
    values.push(v);
    offset = next;
  }
  return values;
}

/** Decodes a 16-bit-length UTF-8 string without a marker (an object key). */
export function decodeAmf0ShortString(buf: Uint8Array, offset: number): Decoded<string> {
  const reader = new Amf0Reader(buf, buf.length);
  const [value, next] = reader.shortString(offset);
  return { value, bytesRead: next - offset };
}
