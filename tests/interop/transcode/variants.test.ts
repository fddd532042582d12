import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RtsNode } from '../../../engine/node.js';
import { killTrackedChildren } from '../../support/children.js';
import { decode, publishTestPattern, type RunningFfmpeg } from '../../support/ffmpeg.js';
import { waitFor } from '../../support/wait-for.js';
import { readFlvTags, startNode } from '../engine/engine-harness.js';

describe('transcoded variants {stream}_{templateId}', () => {
  let node: RtsNode;
  let pub: RunningFfmpeg;
  beforeAll(async () => {
    node = await startNode({ transcode: { templates: [], idleStopMs: 1500 } });
    // High profile with B-frames and a 2 s GOP: not playable over RTS as it is
    pub = publishTestPattern({
      url: `rtmp://127.0.0.1:${node.ports.rtmp}/live/v`,
      seconds: 60,
      width: 320,
      height: 240,
      bframes: 2,
      gop: 50,
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

  it('pulling {stream}_rts starts one transcoder: H.264 baseline, no B-frames, 1 s GOP, Opus', async () => {
    let tags = 0;
    const r = await readFlvTags(
      `http://127.0.0.1:${node.ports.http}/live/v_rts.flv`,
      () => ++tags > 150,
      20_000,
    );
    expect(r.status).toBe(200);
    expect(node.variants.running).toEqual(['_/live/v_rts']);
    const s = await waitFor(
      async () => {
        const info = await node.stream('_/live/v_rts');
        return info?.video && info.video.gopMs > 0 && info.audio?.codec === 'opus' ? info : undefined;
      },
      { timeoutMs: 10_000, what: 'variant analysis' },
    );
    expect(s.video).toMatchObject({ codec: 'h264', bFrames: false, width: 320, height: 240 });
    expect(s.video!.profile).toMatch(/Baseline/);
    expect(s.video!.gopMs).toBeLessThanOrEqual(1100);
    const source = await node.stream('_/live/v');
    expect(source?.video?.bFrames).toBe(true);
  }, 40_000);

  it('the variant plays on other protocols too (LL-HLS with Opus), and stops when nobody plays it', async () => {
    const url = `http://127.0.0.1:${node.ports.http}/live/v_rts/ll.m3u8`;
    // ffmpeg 4.1 reads only whole segments of an LL-HLS playlist (it ignores parts): wait for one
    await waitFor(async () => ((await (await fetch(url)).text()).includes('#EXTINF') ? true : undefined), {
      timeoutMs: 15_000,
      what: 'a whole LL-HLS segment of the variant',
    });
    const d = await decode(url, { seconds: 3, timeoutMs: 25_000 });
    expect(d.errors).toEqual([]);
    expect(d.frames).toBeGreaterThan(30);
    expect(d.audioCodec).toMatch(/opus/);
    await waitFor(() => (node.variants.running.length === 0 ? true : undefined), {
      timeoutMs: 40_000,
      what: 'variant stopped when idle',
    });
  }, 80_000);
});
