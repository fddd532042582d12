import { describe, expect, it } from 'vitest';
import {
  describeAudioConfig,
  describeVideoConfig,
  parseFlvAudioBody,
  parseFlvVideoBody,
} from '../../../../media/codec/analyze.js';
import { decodeFlvFileHeader, iterateFlvFileTags } from '../../../../media/flv/flv-file-reader.js';
import { FLV_TAG_AUDIO, FLV_TAG_VIDEO } from '../../../../media/frame/media-frame.js';
import { BFrameDetector } from '../../../../media/h264/b-frame-detector.js';
import { type FlvRecipe, makeFlv, makeMp4Hevc } from '../ffmpeg-fixture.js';

async function analyse(r: FlvRecipe) {
  const file = await makeFlv(r);
  const header = decodeFlvFileHeader(file, 0).value;
  let video: ReturnType<typeof describeVideoConfig> | undefined;
  let audio: ReturnType<typeof describeAudioConfig> | undefined;
  const detector = new BFrameDetector();
  let frames = 0;
  let keys = 0;
  let nonZeroCts = 0;
  for (const tag of iterateFlvFileTags(file)) {
    if (tag.type === FLV_TAG_VIDEO) {
      const v = parseFlvVideoBody(tag.body);
      if (v.config) {
        video = describeVideoConfig(v.codec, v.payload);
      } else if (v.packet === 'frame') {
        frames++;
        if (v.key) keys++;
        if (v.cts !== 0) nonZeroCts++;
        detector.push(v.codec, tag.timestamp, tag.timestamp + v.cts, v.payload, video?.nalLengthSize ?? 4);
      }
    } else if (tag.type === FLV_TAG_AUDIO) {
      const a = parseFlvAudioBody(tag.body);
      if (a.config) audio = describeAudioConfig(a.codec, a.payload);
    }
  }
  return { header, video, audio, bframes: detector.detected, frames, keys, nonZeroCts };
}

describe('codec analysis of ffmpeg-made FLV files', () => {
  it('H.264 baseline 320x240 + AAC 44.1 kHz: no B-frames', async () => {
    const r = await analyse({
      profile: 'baseline',
      bframes: 0,
      width: 320,
      height: 240,
      seconds: 2,
      level: '3.0',
    });
    expect(r.header).toMatchObject({ hasAudio: true, hasVideo: true });
    expect(r.video).toMatchObject({ width: 320, height: 240, level: '3' });
    expect(r.video?.profile).toMatch(/Baseline/);
    expect(r.video?.codecString).toMatch(/^avc1\.42[0-9a-f]{2}1e$/);
    expect(r.audio).toMatchObject({
      profile: 'LC',
      sampleRate: 44100,
      channels: 2,
      codecString: 'mp4a.40.2',
    });
    expect(r.frames).toBe(50);
    expect(r.keys).toBe(2);
    expect(r.bframes).toBe(false);
  }, 30_000);

  it('H.264 high 640x360 (cropped) with -bf 2 + AAC 48 kHz: B-frames detected', async () => {
    const r = await analyse({
      profile: 'high',
      bframes: 2,
      width: 640,
      height: 360,
      seconds: 2,
      audioRate: 48000,
    });
    expect(r.video).toMatchObject({
      profile: 'High',
      level: '3.1',
      width: 640,
      height: 360,
      codecString: 'avc1.64001f',
    });
    expect(r.audio).toMatchObject({ sampleRate: 48000, channels: 2 });
    expect(r.nonZeroCts).toBeGreaterThan(0);
    expect(r.bframes).toBe(true);
  }, 30_000);

  it('H.265 640x360 Main: hvcC from an ffmpeg MP4 gives profile, level, size and codec string', async () => {
    const mp4 = await makeMp4Hevc(640, 360);
    const at = Buffer.from(mp4).indexOf('hvcC');
    expect(at).toBeGreaterThan(4);
    const size = new DataView(mp4.buffer, mp4.byteOffset).getUint32(at - 4);
    const info = describeVideoConfig('h265', mp4.subarray(at + 4, at - 4 + size));
    expect(info).toMatchObject({ profile: 'Main', width: 640, height: 360, nalLengthSize: 4 });
    expect(info.codecString).toMatch(/^hvc1\.1\.6\.L\d+\.[0-9A-F]+/);
  }, 30_000);
});
