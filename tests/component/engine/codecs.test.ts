import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RtsNode } from '../../../engine/node.js';
import { RtmpClient } from '../../../transports/rtmp/client.js';
import { readFlvTags, startNode } from '../../interop/engine/engine-harness.js';
import {
  enhancedHevcBodies,
  legacyHevcBodies,
  publishBodies as publish,
} from '../../interop/engine/enhanced-rtmp.js';
import { waitFor } from '../../support/wait-for.js';

const opusHead = new Uint8Array([
  0x4f, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64, 1, 2, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0,
]);
const enhancedOpus = {
  config: new Uint8Array([0x90, 0x4f, 0x70, 0x75, 0x73, ...opusHead]),
  packet: new Uint8Array([0x91, 0x4f, 0x70, 0x75, 0x73, 0xfc, 0xff, 0xfe]),
};

describe('codecs beyond H.264/AAC are recognised and passed through to RTMP and FLV players', () => {
  let node: RtsNode;
  beforeAll(async () => {
    node = await startNode();
  });
  afterAll(async () => {
    await node?.close();
  });

  it('H.265 over Enhanced RTMP (hvc1) with Opus audio: the API knows them, FLV players get the bodies as sent', async () => {
    const s = enhancedHevcBodies();
    const p = await publish(`rtmp://127.0.0.1:${node.ports.rtmp}/live/hevc`, s, enhancedOpus);
    try {
      const info = await waitFor(
        async () => {
          const i = await node.stream('_/live/hevc');
          return i?.video && i.video.fps > 0 && i.audio ? i : undefined;
        },
        { timeoutMs: 5000, what: 'analysis of the H.265 stream' },
      );
      expect(info.video).toMatchObject({ codec: 'h265', width: 320, height: 240 });
      expect(info.audio).toMatchObject({ codec: 'opus', channels: 2, sampleRate: 48000 });
      const bodies: Uint8Array[] = [];
      await readFlvTags(`http://127.0.0.1:${node.ports.http}/live/hevc.flv`, (t) => {
        if (t.type === 9) bodies.push(t.body.slice());
        return bodies.length >= 10;
      });
      expect(bodies[0]).toEqual(s.config);
      const known = new Set(s.frames.map((f) => Buffer.from(f.body).toString('base64')));
      for (const b of bodies.slice(1)) expect(known.has(Buffer.from(b).toString('base64'))).toBe(true);
      expect(bodies[1][0] & 0x70).toBe(0x10); // starts on a keyframe
    } finally {
      p.stop();
    }
  });

  it('legacy FLV codec id 12 (H.265) reaches RTMP players unchanged', async () => {
    const s = legacyHevcBodies();
    const p = await publish(`rtmp://127.0.0.1:${node.ports.rtmp}/live/hevc12`, s);
    try {
      await waitFor(
        async () => ((await node.stream('_/live/hevc12'))?.video?.codec === 'h265' ? true : undefined),
        {
          timeoutMs: 5000,
          what: 'legacy HEVC recognised',
        },
      );
      const player = await RtmpClient.connect(`rtmp://127.0.0.1:${node.ports.rtmp}/live/hevc12`);
      const got: Uint8Array[] = [];
      const enough = new Promise<void>((resolve) =>
        player.on('media', (m) => {
          if (m.typeId === 9) got.push(new Uint8Array(m.payload));
          if (got.length === 5) resolve();
        }),
      );
      await player.play();
      await enough;
      player.close();
      expect(got[0]).toEqual(s.config);
      expect(got[1][0]).toBe(0x1c);
    } finally {
      p.stop();
    }
  });
});
