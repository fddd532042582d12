/**
 * Time to the WHEP answer of the first RTS viewer of an AAC stream, with and without
 * `transcode.opusOnPublish` (without it the answer waits for the AAC→Opus transcode to start).
 *
 *   node --import tsx benchmarks/webrtc/first-answer.ts [--repeat 3]
 */
import { parseArgs } from 'node:util';
import { publishTestPattern } from '../../tests/support/ffmpeg.js';
import { CHROME_OFFER } from '../../tests/unit/transports/webrtc/chrome-offer.js';
import { builtNodeEntry, startOurNode } from '../load/servers.js';

const { values } = parseArgs({ options: { repeat: { type: 'string', default: '3' } } });
const repeat = Math.max(1, Math.min(20, Number(values.repeat)));
const results: Record<string, number[]> = { without: [], with: [] };
for (let i = 0; i < repeat; i++) {
  for (const opusOnPublish of [false, true]) {
    const node = await startOurNode({
      entry: builtNodeEntry(),
      workers: 0,
      config: { transcode: { opusOnPublish }, log: { level: 'warn' } },
    });
    const pub = publishTestPattern({ url: node.rtmpUrl('live', 'first'), seconds: 20 });
    try {
      await new Promise((r) => setTimeout(r, 4000)); // published, analysed, (pre)warmed
      const t0 = performance.now();
      const res = await fetch(`http://127.0.0.1:${node.httpPort}/live/first`, {
        method: 'POST',
        headers: { 'content-type': 'application/sdp' },
        body: CHROME_OFFER,
      });
      await res.text();
      const ms = Math.round(performance.now() - t0);
      if (res.status !== 201) throw new Error(`WHEP answered ${res.status}`);
      results[opusOnPublish ? 'with' : 'without'].push(ms);
      console.log(`opusOnPublish=${opusOnPublish}: WHEP answer in ${ms} ms`);
    } finally {
      await pub.stop();
      await node.stop();
    }
  }
}
console.log(JSON.stringify({ benchmark: 'first-whep-answer', date: new Date().toISOString(), ms: results }));
