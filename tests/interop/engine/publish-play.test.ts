import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode, type RtsNode } from '../../../engine/node.js';
import { killTrackedChildren } from '../../support/children.js';
import { decode, publishTestPattern, type RunningFfmpeg } from '../../support/ffmpeg.js';
import { waitFor } from '../../support/wait-for.js';

describe('ffmpeg publishes over RTMP, ffmpeg plays over RTMP and HTTP-FLV', () => {
  let node: RtsNode;
  let pub: RunningFfmpeg;
  beforeAll(async () => {
    node = await createNode({
      config: { host: '127.0.0.1', rtmp: { port: 0 }, http: { port: 0 }, workers: 1 },
    });
    pub = publishTestPattern({
      url: `rtmp://127.0.0.1:${node.ports.rtmp}/live/cam`,
      seconds: 30,
      width: 640,
      height: 360,
    });
    await waitFor(async () => ((await node.streams()).length === 1 ? true : undefined), {
      timeoutMs: 10_000,
      what: 'the published stream in the API',
    });
  }, 20_000);
  afterAll(async () => {
    await pub?.stop();
    await node?.close();
    await killTrackedChildren();
  });

  it('decodes the stream over RTMP at the published resolution', async () => {
    const r = await decode(`rtmp://127.0.0.1:${node.ports.rtmp}/live/cam`, { seconds: 3 });
    expect(r.errors).toEqual([]);
    expect(r.frames).toBeGreaterThan(40);
    expect([r.width, r.height]).toEqual([640, 360]);
  }, 20_000);

  it('decodes the stream over HTTP-FLV at the published resolution', async () => {
    const r = await decode(`http://127.0.0.1:${node.ports.http}/live/cam.flv`, { seconds: 3 });
    expect(r.errors).toEqual([]);
    expect(r.frames).toBeGreaterThan(40);
    expect([r.width, r.height]).toEqual([640, 360]);
    expect(r.audioCodec).toMatch(/aac/);
  }, 20_000);

  it('reports codecs, resolution, GOP and players in the API', async () => {
    const res = await fetch(`http://127.0.0.1:${node.ports.http}/api/v1/streams/live/cam`);
    expect(res.status).toBe(200);
    const s = await res.json();
    expect(s.video).toMatchObject({ codec: 'h264', width: 640, height: 360, bFrames: false });
    expect(s.video.fps).toBeGreaterThan(20);
    expect(s.video.gopMs).toBeGreaterThan(800);
    expect(s.audio).toMatchObject({ codec: 'aac', sampleRate: 44100, channels: 2 });
    expect(s.worker).toBe(0);
  });
});
