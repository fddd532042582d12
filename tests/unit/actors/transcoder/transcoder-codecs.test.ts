import { describe, expect, it } from 'vitest';
import {
  annexBToAvcc,
  opusPacketDurationMs,
  splitAnnexB,
  splitOpusAccessUnits,
} from '../../../../actors/transcoder/elementary.js';
import { ffmpegArgs } from '../../../../actors/transcoder/ffmpeg-args.js';
import { avcVideoBody, opusAudioBody } from '../../../../actors/transcoder/flv-bodies.js';
import { encodeFlvHeader, encodeFlvTag, writeFlvTag } from '../../../../actors/transcoder/flv-writer.js';
import { MpegTsDemuxer, type PesPacket } from '../../../../actors/transcoder/mpegts-demuxer.js';
import {
  AUDIO_OPUS_TEMPLATE,
  parseVariantStreamName,
  RTS_TEMPLATE,
  variantStreamName,
} from '../../../../actors/transcoder/templates.js';
import { iterateFlvFileTags } from '../../../../media/flv/flv-file-reader.js';

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((b) => Number.parseInt(b, 16)));

describe('flv-writer', () => {
  it('encodeFlvTag() writes header, body and PreviousTagSize, with the extended timestamp byte', () => {
    const tag = encodeFlvTag({ type: 9, timestamp: 0x01020304, body: hex('aabb') });
    expect(tag).toEqual(hex('0900000202030401000000aabb0000000d'));
  });

  it('writes files that media/flv reads back', () => {
    const bodies = [hex('1700000000'), hex('af00'), hex('2701000000ff')];
    const file = Buffer.concat([
      encodeFlvHeader({ audio: true, video: true }),
      ...bodies.map((b, i) => encodeFlvTag({ type: i === 1 ? 8 : 9, timestamp: i * 40, body: b })),
    ]);
    expect(file[4]).toBe(5);
    const tags = [...iterateFlvFileTags(file)];
    expect(tags.map((t) => [t.type, t.timestamp, Buffer.from(t.body).toString('hex')])).toEqual([
      [9, 0, '1700000000'],
      [8, 40, 'af00'],
      [9, 80, '2701000000ff'],
    ]);
  });

  it('writeFlvTag() throws RangeError on a short buffer', () => {
    expect(() => writeFlvTag({ type: 8, timestamp: 0, body: hex('00') }, new Uint8Array(10), 0)).toThrow(
      RangeError,
    );
  });
});

describe('elementary streams', () => {
  it('splitAnnexB() handles 3- and 4-byte start codes and trailing zeros', () => {
    const nals = splitAnnexB(hex('00000001090000016742000000000168ce00000165888800'));
    expect(nals.map((n) => Buffer.from(n).toString('hex'))).toEqual(['09', '6742', '68ce', '658888']);
  });

  it('annexBToAvcc() drops AUD, extracts SPS/PPS and flags IDR', () => {
    const au = annexBToAvcc(hex('0000000109f00000000167420a0000000168ce0000000165aabb'));
    expect(au.key).toBe(true);
    expect(Buffer.from(au.sps!).toString('hex')).toBe('67420a');
    expect(Buffer.from(au.pps!).toString('hex')).toBe('68ce');
    expect(Buffer.from(au.avcc).toString('hex')).toBe('0000000365aabb');
    expect(annexBToAvcc(hex('00000001419a')).key).toBe(false);
  });

  it('splitOpusAccessUnits() reads the TS control header with trims and long sizes', () => {
    const big = new Uint8Array(300).fill(0xfc);
    const data = new Uint8Array([0x7f, 0xf0, 0xff, 45, 0x00, 0x10, ...big, 0x7f, 0xe0, 0x02, 0xfc, 0x01]);
    const aus = splitOpusAccessUnits(data);
    expect(aus.map((a) => a.length)).toEqual([300, 2]);
    expect(aus[1]).toEqual(new Uint8Array([0xfc, 0x01]));
  });

  it('opusPacketDurationMs() reads the TOC (RFC 6716 3.1)', () => {
    expect(opusPacketDurationMs(new Uint8Array([0xfc]))).toBe(20); // CELT FB 20 ms, 1 frame
    expect(opusPacketDurationMs(new Uint8Array([0x0b << 3]))).toBe(60); // SILK 60 ms
    expect(opusPacketDurationMs(new Uint8Array([(0x10 << 3) | 1]))).toBe(5); // CELT 2.5 ms x2
    expect(opusPacketDurationMs(new Uint8Array([(0x1f << 3) | 3, 3]))).toBe(60); // code 3, 3 frames
  });
});

describe('flv-bodies', () => {
  it('avcVideoBody() writes legacy AVC headers with a signed cts', () => {
    expect(avcVideoBody(hex('01'), { key: true, config: true, cts: 0 })).toEqual(hex('170000000001'));
    expect(avcVideoBody(hex('aa'), { key: false, config: false, cts: -40 })).toEqual(hex('2701ffffd8aa'));
  });
  it('opusAudioBody() writes the enhanced-RTMP Opus header', () => {
    expect(opusAudioBody(hex('fc'), false)).toEqual(hex('914f707573fc'));
    expect(opusAudioBody(hex('4f'), true)[0]).toBe(0x90);
  });
});

describe('MpegTsDemuxer', () => {
  function tsPacket(pid: number, pusi: boolean, payload: Uint8Array): Uint8Array {
    const p = new Uint8Array(188).fill(0xff);
    const stuff = 184 - payload.length;
    p[0] = 0x47;
    p[1] = (pusi ? 0x40 : 0) | (pid >> 8);
    p[2] = pid & 0xff;
    if (stuff > 0) {
      p[3] = 0x30;
      p[4] = stuff - 1;
      if (stuff > 1) p[5] = 0;
      p.set(payload, 4 + stuff);
    } else {
      p[3] = 0x10;
      p.set(payload, 4);
    }
    return p;
  }
  // PAT: program 1 → PMT PID 0x1000. PMT: 0x100 H.264, 0x101 private data with registration 'Opus'.
  const pat = hex('00b00d0001c100000001f00000000000');
  const pmt = hex('02b01d0001c10000e100f0001be100f00006e101f00605044f70757300000000');

  it('finds H.264 and Opus streams and emits complete PES packets across chunk boundaries', () => {
    const got: PesPacket[] = [];
    const d = new MpegTsDemuxer((p) => got.push(p));
    // PTS 90000 = 21 00 05 bf 21; PES_packet_length 13 = 3 flag bytes + 5 PTS + 5 payload.
    const withPayload = hex('000001e0000d8080052100 05bf210000000165'.replace(/ /g, ''));
    const opusPes = hex('000001bd000d808005210005bf217fe002fc01');
    const stream = Buffer.concat([
      tsPacket(0, true, new Uint8Array([0, ...pat])),
      tsPacket(0x1000, true, new Uint8Array([0, ...pmt])),
      tsPacket(0x100, true, withPayload),
      tsPacket(0x101, true, opusPes),
    ]);
    d.push(stream.subarray(0, 200));
    d.push(stream.subarray(200, 500));
    d.push(stream.subarray(500));
    expect(got.map((g) => [g.kind, g.pts, Buffer.from(g.data).toString('hex')])).toEqual([
      ['h264', 90000, '0000000165'],
      ['opus', 90000, '7fe002fc01'],
    ]);
  });
});

describe('templates', () => {
  it('names variants {stream}_{id} and parses them back', () => {
    expect(variantStreamName('live', RTS_TEMPLATE)).toBe('live_rts');
    expect(parseVariantStreamName('cam1_rts')?.stream).toBe('cam1');
    expect(parseVariantStreamName('cam1_audio-opus')?.template).toBe(AUDIO_OPUS_TEMPLATE);
    expect(parseVariantStreamName('cam1')).toBeUndefined();
    expect(parseVariantStreamName('_rts')).toBeUndefined();
  });

  it('ffmpegArgs() asks for baseline, no B-frames, timed keyframes and Opus for rts', () => {
    const a = ffmpegArgs(RTS_TEMPLATE, { video: true, audio: true }).join(' ');
    expect(a).toContain('-profile:v baseline');
    expect(a).toContain('-bf 0');
    expect(a).toContain('-tune zerolatency');
    expect(a).toContain('gte(t,prev_forced_t+1.000)');
    expect(a).toContain('-c:a libopus -b:a 64k -ar 48000 -ac 2');
    expect(a).toContain('-copyts');
    expect(a).toMatch(/-f mpegts .*pipe:1$/);
    const b = ffmpegArgs(AUDIO_OPUS_TEMPLATE, { video: false, audio: true }).join(' ');
    expect(b).not.toContain('libx264');
  });
});
