import { describe, expect, it } from 'vitest';
import { ProtocolError, UnsupportedCodecError } from '../../../../engine/errors.js';
import {
  describeAudioConfig,
  describeVideoConfig,
  parseFlvAudioBody,
  parseFlvVideoBody,
} from '../../../../media/codec/analyze.js';
import { encodeAvcConfig } from '../../../../media/h264/avc-config.js';
import { BFrameDetector, h264FirstSliceType } from '../../../../media/h264/b-frame-detector.js';
import { iterateAvccNalUnits, sizeOfAnnexB, writeAnnexB } from '../../../../media/h264/nal-units.js';
import { RbspReader } from '../../../../media/h264/rbsp-reader.js';
import { encodeOpusHead } from '../../../../media/opus/opus-head.js';

const hex = (s: string) =>
  Uint8Array.from((s.replace(/\s+/g, '').match(/../g) ?? []).map((h) => Number.parseInt(h, 16)));

// x264 baseline 320x240 level 3.0 SPS/PPS (captured from ffmpeg).
const SPS_BASELINE_320x240 = hex(
  '6742c01e d9014 1fb0110 0000030010 0000030320 f162e48'.replace(/ /g, '') + '0',
);
const PPS = hex('68cb83cb20');

describe('parseFlvVideoBody()', () => {
  const table: Array<[string, string, Partial<ReturnType<typeof parseFlvVideoBody>>, number]> = [
    [
      'legacy AVC sequence header',
      '1700000000 01',
      { codec: 'h264', key: true, config: true, cts: 0, packet: 'config' },
      1,
    ],
    [
      'legacy AVC keyframe, cts 40',
      '1701000028 00000001 65',
      { codec: 'h264', key: true, config: false, cts: 40 },
      5,
    ],
    ['legacy AVC inter frame, negative cts', '2701ffffd8 00000001 41', { key: false, cts: -40 }, 5],
    ['legacy HEVC (codec id 12)', '1c01000000 aa', { codec: 'h265', key: true, packet: 'frame' }, 1],
    ['legacy AVC end of sequence', '1702000000', { packet: 'end', config: false }, 0],
    [
      'enhanced hvc1 SequenceStart',
      '90 68766331 01',
      { codec: 'h265', config: true, key: true, enhanced: true },
      1,
    ],
    [
      'enhanced hvc1 CodedFrames with cts',
      '91 68766331 000021 bbcc',
      { codec: 'h265', cts: 33, packet: 'frame' },
      2,
    ],
    ['enhanced hvc1 CodedFramesX (no cts)', 'a3 68766331 bbcc', { codec: 'h265', key: false, cts: 0 }, 2],
    ['enhanced av01 CodedFrames (no cts)', '91 61763031 0a0b', { codec: 'av1', key: true, cts: 0 }, 2],
    ['enhanced vp09 SequenceEnd', '92 76703039', { codec: 'vp9', packet: 'end' }, 0],
    ['enhanced avc1 Metadata', '94 61766331 02', { codec: 'h264', packet: 'metadata' }, 1],
  ];
  for (const [name, bytes, expected, payloadLen] of table) {
    it(`reads ${name}`, () => {
      const r = parseFlvVideoBody(hex(bytes));
      expect(r).toMatchObject(expected);
      expect(r.payload.length).toBe(payloadLen);
    });
  }

  it('returns a view, not a copy', () => {
    const body = hex('1701000000 00000001 65');
    const r = parseFlvVideoBody(body);
    expect(r.payload.buffer).toBe(body.buffer);
    expect(r.payload.byteOffset).toBe(5);
  });

  for (const bytes of ['', '17', '170100', '91 687663', '91 68766331 00']) {
    it(`throws RTS_ERR_FLV_TRUNCATED on "${bytes}"`, () => {
      expect(() => parseFlvVideoBody(hex(bytes || ''))).toThrowError(
        expect.objectContaining({ code: 'RTS_ERR_FLV_TRUNCATED' }),
      );
    });
  }

  it('throws UnsupportedCodecError for Sorenson (codec id 2) and unknown FourCCs', () => {
    expect(() => parseFlvVideoBody(hex('2200'))).toThrow(UnsupportedCodecError);
    expect(() => parseFlvVideoBody(hex('91 78787878 00'))).toThrow(UnsupportedCodecError);
  });
});

describe('parseFlvAudioBody()', () => {
  it('reads AAC sequence header and raw frames', () => {
    expect(parseFlvAudioBody(hex('af00 1210'))).toMatchObject({
      codec: 'aac',
      config: true,
      packet: 'config',
    });
    const f = parseFlvAudioBody(hex('af01 214c'));
    expect(f).toMatchObject({ codec: 'aac', config: false });
    expect([...f.payload]).toEqual([0x21, 0x4c]);
  });
  it('reads MP3 with the legacy rate and channel bits', () => {
    expect(parseFlvAudioBody(hex('2f fffb'))).toMatchObject({ codec: 'mp3', sampleRate: 44100, channels: 2 });
    expect(parseFlvAudioBody(hex('2a fff3'))).toMatchObject({ codec: 'mp3', sampleRate: 22050, channels: 1 });
  });
  it('reads enhanced Opus and mp4a (sound format 9)', () => {
    expect(parseFlvAudioBody(hex('90 4f707573 4f707573'))).toMatchObject({
      codec: 'opus',
      config: true,
      enhanced: true,
    });
    expect(parseFlvAudioBody(hex('91 4f707573 fc'))).toMatchObject({ codec: 'opus', config: false });
    expect(parseFlvAudioBody(hex('90 6d703461 1210'))).toMatchObject({ codec: 'aac', config: true });
  });
  it('throws ProtocolError on truncated bodies', () => {
    expect(() => parseFlvAudioBody(new Uint8Array(0))).toThrow(ProtocolError);
    expect(() => parseFlvAudioBody(hex('af'))).toThrowError(
      expect.objectContaining({ code: 'RTS_ERR_FLV_TRUNCATED' }),
    );
    expect(() => parseFlvAudioBody(hex('90 4f70'))).toThrowError(
      expect.objectContaining({ code: 'RTS_ERR_FLV_TRUNCATED' }),
    );
  });
});

describe('describeAudioConfig()', () => {
  const table: Array<[string, string, object]> = [
    [
      'AAC-LC 44.1 kHz stereo',
      '1210',
      { profile: 'LC', sampleRate: 44100, channels: 2, codecString: 'mp4a.40.2' },
    ],
    ['AAC-LC 48 kHz mono', '1188', { profile: 'LC', sampleRate: 48000, channels: 1 }],
    ['AAC-LC explicit frequency 44100', '1780562210', { sampleRate: 44100, channels: 2 }],
    [
      'HE-AAC (SBR) 24→48 kHz',
      '2b098800',
      { profile: 'HE-AAC', sampleRate: 48000, channels: 1, codecString: 'mp4a.40.5' },
    ],
  ];
  for (const [name, bytes, expected] of table) {
    it(`reads ${name}`, () => expect(describeAudioConfig('aac', hex(bytes))).toMatchObject(expected));
  }
  it('reads an OpusHead', () => {
    expect(describeAudioConfig('opus', encodeOpusHead(2))).toEqual({
      profile: 'Opus',
      sampleRate: 48000,
      channels: 2,
      codecString: 'opus',
    });
  });
  it('throws on a truncated AudioSpecificConfig', () => {
    expect(() => describeAudioConfig('aac', hex('12'))).toThrow(ProtocolError);
  });
});

describe('describeVideoConfig()', () => {
  it('reads an avcC built from a 320x240 baseline SPS', () => {
    const avcc = encodeAvcConfig({ nalLengthSize: 4, sps: [SPS_BASELINE_320x240], pps: [PPS] });
    expect(describeVideoConfig('h264', avcc)).toMatchObject({
      profile: 'Constrained Baseline',
      level: '3',
      width: 320,
      height: 240,
      codecString: 'avc1.42c01e',
      nalLengthSize: 4,
    });
  });
  it('throws RTS_ERR_AVCC_TRUNCATED on a short record', () => {
    expect(() => describeVideoConfig('h264', hex('0164001f'))).toThrowError(
      expect.objectContaining({ code: 'RTS_ERR_AVCC_TRUNCATED' }),
    );
  });
});

describe('RbspReader', () => {
  it('removes emulation prevention bytes and reads exp-Golomb codes', () => {
    // 00 00 03 01 → RBSP 00 00 01; then 0b1 = ue 0, 0b010 = ue 1, 0b011 = ue 2, 0b00100 = ue 3
    const r = new RbspReader(hex('000003 01 a6 40'));
    expect(r.bits(24)).toBe(1);
    expect([r.ue(), r.ue(), r.ue(), r.ue()]).toEqual([0, 1, 2, 3]);
    // se: '010' → +1, '011' → -1
    const s = new RbspReader(hex('4c'));
    expect([s.se(), s.se()]).toEqual([1, -1]);
  });
  it('throws a ProtocolError past the end', () => {
    expect(() => new RbspReader(hex('00')).ue()).toThrow(ProtocolError);
  });
});

describe('AVCC NAL units', () => {
  const au = hex('00000002 0910 00000003 65 8884');
  it('iterates as views and converts to Annex-B', () => {
    expect([...iterateAvccNalUnits(au, 4)].map((n) => n.length)).toEqual([2, 3]);
    const out = new Uint8Array(sizeOfAnnexB(au, 4));
    writeAnnexB(au, 4, out, 0);
    expect([...out]).toEqual([0, 0, 0, 1, 0x09, 0x10, 0, 0, 0, 1, 0x65, 0x88, 0x84]);
  });
  it('throws on a length running past the end', () => {
    expect(() => [...iterateAvccNalUnits(hex('00000009 65'), 4)]).toThrow(ProtocolError);
  });
  it('reads slice_type: B (1), P (0), I (7 → 2)', () => {
    // first_mb=0 ('1'), slice_type ue: 1 → '010', 0 → '1', 7 → '0001000'
    expect(h264FirstSliceType(hex('00000002 01 a0'), 4)).toBe(1);
    expect(h264FirstSliceType(hex('00000002 41 c0'), 4)).toBe(0);
    expect(h264FirstSliceType(hex('00000002 65 88'), 4)).toBe(2);
    expect(h264FirstSliceType(hex('00000002 0910'), 4)).toBe(-1);
  });
  it('BFrameDetector flags B slices for H.264 and reordering for others', () => {
    const d = new BFrameDetector();
    expect(d.push('h264', 0, 0, hex('00000002 41 c0'))).toBe(false);
    expect(d.push('h264', 40, 80, hex('00000002 01 a0'))).toBe(true);
    expect(d.detected).toBe(true);
    const h = new BFrameDetector();
    expect(h.push('h265', 0, 80, new Uint8Array(0))).toBe(false);
    expect(h.push('h265', 40, 40, new Uint8Array(0))).toBe(true);
  });
});
