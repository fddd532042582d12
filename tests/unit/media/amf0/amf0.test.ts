import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AMF0_CLASS_NAME,
  type Amf0Value,
  AmfError,
  asEcmaArray,
  decodeAmf0,
  decodeAmf0All,
  decodeAmf3,
  encodeAmf0,
  isEcmaArray,
  sizeOfAmf0,
  writeAmf0,
} from '../../../../media/amf0/index.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** AMF0 byte tables (AMF0 spec 2.2-2.13), run both ways. */
const table: Array<[string, Amf0Value, string]> = [
  ['number 0', 0, '00 0000000000000000'],
  ['number 1.5', 1.5, '00 3ff8000000000000'],
  ['number -2', -2, '00 c000000000000000'],
  ['true', true, '01 01'],
  ['false', false, '01 00'],
  ['string', 'connect', '02 0007 636f6e6e656374'],
  ['empty string', '', '02 0000'],
  ['utf-8 string', 'é', '02 0002 c3a9'],
  ['null', null, '05'],
  ['undefined', undefined, '06'],
  ['object', { app: 'live', n: 1 }, '03 0003 617070 02 0004 6c697665 0001 6e 00 3ff0000000000000 000009'],
  ['empty object', {}, '03 000009'],
  ['strict array', [1, 'a'], '0a 00000002 00 3ff0000000000000 02 0001 61'],
  ['ecma array', asEcmaArray({ width: 320 }), '08 00000001 0005 7769647468 00 4074000000000000 000009'],
  ['date', new Date(0), '0b 0000000000000000 0000'],
];

describe('AMF0 codec', () => {
  for (const [name, value, bytes] of table) {
    it(`decodes and re-encodes ${name} byte for byte`, () => {
      const buf = hex(bytes);
      const { value: got, bytesRead } = decodeAmf0(buf, 0);
      expect(bytesRead).toBe(buf.length);
      expect(got).toEqual(value);
      expect(Buffer.from(encodeAmf0(got)).toString('hex')).toBe(Buffer.from(buf).toString('hex'));
      expect(sizeOfAmf0(value)).toBe(buf.length);
    });
  }

  it('keeps the ECMA array tag through decode so onMetaData round-trips', () => {
    const { value } = decodeAmf0(hex('08 00000000 000009'), 0);
    expect(isEcmaArray(value as object)).toBe(true);
  });

  it('decodes a typed object with its class name, and a reference to an earlier object', () => {
    const bytes = hex('0a 00000002 10 0001 43 0001 78 01 01 000009 07 0001');
    const [arr] = decodeAmf0All(bytes);
    const [typed, ref] = arr as Amf0Value[];
    expect((typed as Record<symbol, unknown>)[AMF0_CLASS_NAME]).toBe('C');
    expect(typed).toEqual({ x: true });
    expect(ref).toBe(typed);
    expect(Buffer.from(encodeAmf0(typed)).toString('hex')).toBe('10000143000178010100' + '0009');
  });

  it('writes long strings (over 65535 bytes) with the long-string marker', () => {
    const s = 'x'.repeat(70_000);
    const enc = encodeAmf0(s);
    expect(enc[0]).toBe(0x0c);
    expect(decodeAmf0(enc, 0).value).toBe(s);
  });

  it('writeAmf0 writes at an offset and throws RangeError on a short buffer', () => {
    const out = new Uint8Array(12);
    expect(writeAmf0(true, out, 10)).toBe(2);
    expect(out.subarray(10)).toEqual(Uint8Array.of(1, 1));
    expect(() => writeAmf0(1, out, 5)).toThrow(RangeError);
  });

  it('reads decodes at an offset and stops at `end`', () => {
    const buf = hex('ff ff 01 01 05 05');
    expect(decodeAmf0All(buf, 2, 5)).toEqual([true, null]);
  });

  it.each([
    ['truncated number', '00 3ff0'],
    ['truncated string', '02 0010 61'],
    ['unknown marker', '20'],
    ['movieclip', '04'],
    ['object without end', '03 0001 61 01 01'],
    ['strict array count beyond input', '0a ffffffff 05'],
    ['reference out of range', '07 0003'],
  ])('rejects %s with AmfError', (_, bytes) => {
    expect(() => decodeAmf0All(hex(bytes))).toThrow(AmfError);
  });

  it('refuses nesting beyond MAX_AMF_DEPTH without exhausting the stack', () => {
    const buf = Buffer.alloc(5 * 10_000);
    for (let i = 0; i < 10_000; i++) {
      buf[i * 5] = 0x0a;
      buf.writeUInt32BE(1, i * 5 + 1);
    }
    expect(() => decodeAmf0(buf, 0)).toThrow(/deeper/);
  });

  it('never lets "__proto__" keys reach the prototype', () => {
    const bytes = hex('03 0009 5f5f70726f746f5f5f 01 01 000009');
    const { value } = decodeAmf0(bytes, 0);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value as object)).toEqual(['__proto__']);
  });

  it('round-trips arbitrary values (property)', () => {
    const key = fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__');
    const leaf = fc.oneof(
      fc.double({ noNaN: true }),
      fc.boolean(),
      fc.string({ maxLength: 20 }),
      fc.constant(null),
      fc.constant(undefined),
    );
    const value = fc.letrec<{ v: Amf0Value }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(key, tie('v'), { maxKeys: 4 }),
      ),
    })).v;
    fc.assert(
      fc.property(value, (v) => {
        const enc = encodeAmf0(v);
        expect(enc.length).toBe(sizeOfAmf0(v));
        const { value: back, bytesRead } = decodeAmf0(enc, 0);
        expect(bytesRead).toBe(enc.length);
        expect(Buffer.from(encodeAmf0(back)).equals(Buffer.from(enc))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('AMF3 decoder', () => {
  it('decodes integers, doubles, strings with references, arrays and dynamic objects', () => {
    // One dense array of 7: int 5, int -1, double 1.5, "ab", string ref 0 ("ab"), [true], {k: null}.
    const bytes = hex(
      '09 0f 01  04 05  04 ffffffff  05 3ff8000000000000  06 05 6162  06 00  09 03 01 03  0a 0b 01 03 6b 01 01',
    );
    const { value, bytesRead } = decodeAmf3(bytes, 0);
    expect(bytesRead).toBe(bytes.length);
    const values = value as Amf0Value[];
    expect(values.slice(0, 5)).toEqual([5, -1, 1.5, 'ab', 'ab']);
    expect(values[5]).toEqual([true]);
    expect(values[6]).toEqual({ k: null });
  });

  it('is reached from AMF0 through the avmplus marker (type 17 commands)', () => {
    const bytes = hex('11 06 0f 636f6e6e656374');
    expect(decodeAmf0(bytes, 0)).toEqual({ value: 'connect', bytesRead: bytes.length });
  });

  it.each([
    ['truncated U29', '04 ff'],
    ['string ref out of range', '06 02'],
    ['externalizable', '0a 07 01'],
    ['vector', '0d 01'],
  ])('rejects %s with AmfError', (_, bytes) => {
    expect(() => decodeAmf3(hex(bytes), 0)).toThrow(AmfError);
  });
});
