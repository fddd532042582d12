/**
 * transcode.opusOnPublish: an AAC publisher gets its `audio-opus` variant at once, kept without
 * players while the stream lives, so the first RTS viewer does not wait for ffmpeg to start.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { RtsNode } from '../../../engine/index.js';
import { killTrackedChildren } from '../../support/children.js';
import { publishTestPattern, type RunningFfmpeg } from '../../support/ffmpeg.js';
import { waitFor } from '../../support/wait-for.js';
import { CHROME_OFFER } from '../../unit/transports/webrtc/chrome-offer.js';
import { startNode } from '../engine/engine-harness.js';

let node: RtsNode | undefined;
const pubs: RunningFfmpeg[] = [];
afterAll(async () => {
  for (const p of pubs) await p.stop();
  await node?.close();
  await killTrackedChildren();
});

describe('transcode.opusOnPublish', () => {
  it('starts the Opus transcode of an AAC publisher without a viewer, keeps it idle, ends it with the stream', async () => {
    node = await startNode({ transcode: { templates: [], idleStopMs: 1000, opusOnPublish: true } });
    const n = node;
    const url = (s: string) => `rtmp://127.0.0.1:${n.ports.rtmp}/live/${s}`;
    const aac = publishTestPattern({ url: url('warm'), seconds: 60, width: 320, height: 240 });
    pubs.push(aac);
    pubs.push(publishTestPattern({ url: url('mute'), seconds: 60, width: 320, height: 240, audio: 'none' }));
    await waitFor(() => n.variants.running.includes('_/live/warm_audio-opus') || 'missing: the variant', {
      timeoutMs: 15_000,
      what: 'the audio-opus variant of the AAC stream',
    });
    // well past idleStopMs without a player: still running; the stream without audio got none
    await new Promise((r) => setTimeout(r, 3000));
    expect(n.variants.running).toEqual(['_/live/warm_audio-opus']);
    // a WHEP viewer is answered from the running transcode
    const res = await fetch(`http://127.0.0.1:${n.ports.http}/live/warm`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: CHROME_OFFER,
    });
    expect(res.status, await res.text()).toBe(201);
    // the publisher leaves: the kept variant ends with its source
    await aac.stop();
    await waitFor(() => !n.variants.running.includes('_/live/warm_audio-opus') || 'missing: the stop', {
      timeoutMs: 15_000,
      what: 'the variant to end with its source',
    });
  }, 60_000);
});
