import type { Decoded } from './amf0-decoder.js';
import { AmfError } from './errors.js';
import { AMF0_CLASS_NAME, type Amf0Object, type Amf0Value, MAX_AMF_DEPTH } from './types.js';

/**
 * AMF3 decoding (Adobe "AMF 3 Specification", January 2013), as far as RTMP clients use it:
 * the values of AMF3 command/data messages (types 17/15) after the AMF0 avmplus marker.
 * Vectors and Dictionary (markers 0x0D-0x11) and externalizable traits are refused.
 */
const AMF3_UNDEFINED = 0x00;
const AMF3_NULL = 0x01;
const AMF3_FALSE = 0x02;
const AMF3_TRUE = 0x03;
const AMF3_INTEGER = 0x04;
const AMF3_DOUBLE = 0x05;
const AMF3_STRING = 0x06;
const AMF3_XML_DOC = 0x07;
const AMF3_DATE = 0x08;
const AMF3_ARRAY = 0x09;
const AMF3_OBJECT = 0x0a;
const AMF3_XML = 0x0b;
const AMF3_BYTE_ARRAY = 0x0c;

interface Traits {
  className: string;
  dynamic: boolean;
  sealed: string[];
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

class Amf3Reader {
  readonly strings: string[] = [];
  readonly objects: Amf0Value[] = [];
  readonly traits: Traits[] = [];
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    offset: number,
    readonly end: number,
  ) {
    this.pos = offset;
  }

  need(n: number): void {
    if (this.pos + n > this.end) throw new AmfError(`AMF3 value truncated at offset ${this.pos}`);
  }

  /** U29: 1 to 4 bytes, 7 bits each then 8 in the fourth. */
  u29(): number {
    let value = 0;
    for (let i = 0; i < 3; i++) {
      this.need(1);
      const b = this.buf[this.pos++];
      value = (value << 7) | (b & 0x7f);
      if ((b & 0x80) === 0) return value;
    }
    this.need(1);
    return ((value << 8) | this.buf[this.pos++]) >>> 0;
  }

  string(): string {
    const ref = this.u29();
    if ((ref & 1) === 0) {
      const s = this.strings[ref >>> 1];
      if (s === undefined) throw new AmfError(`AMF3 string reference ${ref >>> 1} out of range`);
      return s;
    }
    const len = ref >>> 1;
    this.need(len);
    const s = utf8.decode(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    if (len > 0) this.strings.push(s);
    return s;
  }

  objectRef(ref: number): Amf0Value {
    const index = ref >>> 1;
    if (index >= this.objects.length) throw new AmfError(`AMF3 object reference ${index} out of range`);
    return this.objects[index];
  }

  value(depth: number): Amf0Value {
    if (depth > MAX_AMF_DEPTH) throw new AmfError(`AMF3 nesting deeper than ${MAX_AMF_DEPTH}`);
    this.need(1);
    const marker = this.buf[this.pos++];
    switch (marker) {
      case AMF3_UNDEFINED: {
        return undefined;
      }
      case AMF3_NULL: {
        return null;
      }
      case AMF3_FALSE: {
        return false;
      }
      case AMF3_TRUE: {
        return true;
      }
      case AMF3_INTEGER: {
        const v = this.u29();
        return v & 0x10000000 ? v - 0x20000000 : v;
      }
      case AMF3_DOUBLE: {
        this.need(8);
        for (let i = 0; i < 8; i++) f64Bytes[7 - i] = this.buf[this.pos + i];
        this.pos += 8;
        return f64[0];
      }
      case AMF3_STRING: {
        return this.string();
      }
      case AMF3_XML:
      case AMF3_XML_DOC: {
        const ref = this.u29();
        if ((ref & 1) === 0) return this.objectRef(ref);
        const len = ref >>> 1;
        this.need(len);
        const s = utf8.decode(this.buf.subarray(this.pos, this.pos + len));
        this.pos += len;
        this.objects.push(s);
        return s;
      }
      case AMF3_DATE: {
        const ref = this.u29();
        if ((ref & 1) === 0) return this.objectRef(ref);
        this.need(8);
        for (let i = 0; i < 8; i++) f64Bytes[7 - i] = this.buf[this.pos + i];
        this.pos += 8;
        const d = new Date(f64[0]);
        this.objects.push(d);
        return d;
      }
      case AMF3_BYTE_ARRAY: {
        const ref = this.u29();
        if ((ref & 1) === 0) return this.objectRef(ref);
        const len = ref >>> 1;
        this.need(len);
        const bytes = this.buf.subarray(this.pos, this.pos + len);
        this.pos += len;
        this.objects.push(bytes);
        return bytes;
      }
      case AMF3_ARRAY: {
        const ref = this.u29();
        if ((ref & 1) === 0) return this.objectRef(ref);
        const denseCount = ref >>> 1;
        if (denseCount > this.end - this.pos)
          throw new AmfError(`AMF3 array count ${denseCount} exceeds input`);
        const assoc: Amf0Object = {};
        let hasAssoc = false;
        const index = this.objects.length;
        this.objects.push(assoc);
        for (;;) {
          const key = this.string();
          if (key === '') break;
          hasAssoc = true;
          define(assoc, key, this.value(depth + 1));
        }
        const dense: Amf0Value[] = [];
        for (let i = 0; i < denseCount; i++) dense.push(this.value(depth + 1));
        if (!hasAssoc) {
          this.objects[index] = dense;
          return dense;
        }
        for (let i = 0; i < dense.length; i++) define(assoc, String(i), dense[i]);
        return assoc;
      }
      case AMF3_OBJECT: {
        const ref = this.u29();
        if ((ref & 1) === 0) return this.objectRef(ref);
        let traits: Traits;
        if ((ref & 2) === 0) {
          const t = this.traits[ref >>> 2];
          if (t === undefined) throw new AmfError(`AMF3 traits reference ${ref >>> 2} out of range`);
          traits = t;
        } else {
          if (ref & 4) throw new AmfError('AMF3 externalizable objects are not supported');
          const sealedCount = ref >>> 4;
          if (sealedCount > this.end - this.pos) throw new AmfError('AMF3 sealed member count exceeds input');
          const className = this.string();
          const sealed: string[] = [];
          for (let i = 0; i < sealedCount; i++) sealed.push(this.string());
          traits = { className, dynamic: (ref & 8) !== 0, sealed };
          this.traits.push(traits);
        }
        const obj: Amf0Object = {};
        if (traits.className !== '') {
          Object.defineProperty(obj, AMF0_CLASS_NAME, { value: traits.className, enumerable: false });
        }
        this.objects.push(obj);
        for (const key of traits.sealed) define(obj, key, this.value(depth + 1));
        if (traits.dynamic) {
          for (;;) {
            const key = this.string();
            if (key === '') break;
            define(obj, key, this.value(depth + 1));
          }
        }
        return obj;
      }
      default: {
        throw new AmfError(`unsupported AMF3 marker 0x${marker.toString(16)} at offset ${this.pos - 1}`);
      }
    }
  }
}

function define(obj: Amf0Object, key: string, value: Amf0Value): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Decodes one AMF3 value at `offset`. ByteArray values are views into `buf`. */
export function decodeAmf3(buf: Uint8Array, offset = 0, end = buf.length): Decoded<Amf0Value> {
  const reader = new Amf3Reader(buf, offset, end);
  const value = reader.value(0);
  return { value, bytesRead: reader.pos - offset };
}
