import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RtsNode } from '../../../engine/node.js';
import { killTrackedChildren } from '../../support/children.js';
import { decode, publishTestPattern, type RunningFfmpeg } from '../../support/ffmpeg.js';
import { waitFor } from '../../support/wait-for.js';
import { startNode } from '../engine/engine-harness.js';

describe('HLS and LL-HLS from a stream ffmpeg publishes over RTMP', () => {
  let node: RtsNode;
  let pub: RunningFfmpeg;
  beforeAll(async () => {
    node = await startNode({ hls: { targetDurationMs: 1000, partTargetMs: 250 } });
    pub = publishTestPattern({
      url: `rtmp://127.0.0.1:${node.ports.rtmp}/live/h`,
      seconds: 40,
      width: 320,
      height: 240,
      gop: 25,
    });
    await waitFor(async () => ((await node.streams()).length === 1 ? true : undefined), {
      timeoutMs: 10_000,
      what: 'stream',
    });
  }, 20_000);
  afterAll(async () => {
    await pub?.stop();
    await node?.close();
    await killTrackedChildren();
  });

  it('ffmpeg decodes 6 s of the classic playlist without error', async () => {
    const r = await decode(`http://127.0.0.1:${node.ports.http}/live/h.m3u8`, {
      seconds: 6,
      timeoutMs: 30_000,
    });
    expect(r.errors).toEqual([]);
    expect(r.frames).toBeGreaterThanOrEqual(140);
    expect([r.width, r.height]).toEqual([320, 240]);
  }, 40_000);

  it('ffmpeg decodes 6 s of the LL-HLS playlist without error', async () => {
    const r = await decode(`http://127.0.0.1:${node.ports.http}/live/h/ll.m3u8`, {
      seconds: 6,
      timeoutMs: 30_000,
    });
    expect(r.errors).toEqual([]);
    expect(r.frames).toBeGreaterThanOrEqual(140);
  }, 40_000);

  it('the API counts HLS players', async () => {
    const s = await node.stream('_/live/h');
    expect(s?.players.hls).toBeGreaterThanOrEqual(1);
  });
});
