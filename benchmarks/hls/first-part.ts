/**
 * Time from the first keyframe written by the publisher to a playable LL-HLS playlist: a new
 * stream is published with our RtmpClient (real-time replay of the 720p30 source file); from the
 * moment the first keyframe is written, `ll.m3u8` is requested (the node holds a first request
 * until the playlist lists a part) until it lists a part, and the init segment and that part are
 * fetched. Repeated on new stream names; reports the median. Run with hls.onDemand (the
 * default: the muxer starts on the first request), with muxing from publish, and with
 * hls.llStartWith 'part' (first playlist at the first part instead of the first whole segment).
 *
 *   node --import tsx benchmarks/hls/first-part.ts [--repeat 5] [--out FILE]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  machine,
  median,
  parsePlaylist,
  pin,
  publish,
  readFlvFrames,
  sleep,
  sourceFile,
  startServer,
} from './common.js';

const { values: a } = parseArgs({
  options: { repeat: { type: 'string', default: '5' }, out: { type: 'string' } },
});

async function once(
  port: number,
  rtmpPort: number,
  stream: string,
  frames: ReturnType<typeof readFlvFrames>,
) {
  const pub = await publish(`rtmp://127.0.0.1:${rtmpPort}/live/${stream}`, frames, 1);
  try {
    const t0 = await pub.firstKey;
    const base = `http://127.0.0.1:${port}/live/${stream}/`;
    let playlistAt = 0;
    let text = '';
    let tries = 0;
    while (Date.now() - t0 < 10_000) {
      tries++;
      const r = await fetch(`${base}ll.m3u8`);
      text = await r.text();
      if (r.status === 200 && parsePlaylist(text).parts.length > 0) {
        playlistAt = Date.now();
        break;
      }
      await sleep(10);
    }
    if (!playlistAt) return { stream, error: `no part listed: ${text.slice(0, 200)}` };
    const pl = parsePlaylist(text);
    const [init, part] = await Promise.all([fetch(base + pl.map), fetch(base + pl.parts[0].uri)]);
    const ok = init.status === 200 && part.status === 200;
    await Promise.all([init.arrayBuffer(), part.arrayBuffer()]);
    const doneAt = Date.now();
    return {
      stream,
      playlistMs: playlistAt - t0,
      playableMs: doneAt - t0,
      firstPartUri: pl.parts[0].uri,
      fetchedOk: ok,
      playlistRequests: tries,
    };
  } finally {
    pub.stop();
  }
}

async function main(): Promise<void> {
  pin(process.pid, '1');
  const frames = readFlvFrames(await sourceFile(60));
  const out: Record<string, unknown> = {
    kind: 'll-first-part',
    date: new Date().toISOString(),
    machine: machine(),
    command: `node --import tsx benchmarks/hls/first-part.ts ${process.argv.slice(2).join(' ')}`,
  };
  const variants: { name: string; onDemand: boolean; llStartWith: 'segment' | 'part' }[] = [
    { name: 'onDemand', onDemand: true, llStartWith: 'segment' },
    { name: 'muxFromPublish', onDemand: false, llStartWith: 'segment' },
    { name: 'onDemandStartWithPart', onDemand: true, llStartWith: 'part' },
  ];
  for (const { name, onDemand, llStartWith } of variants) {
    const server = await startServer({ hls: { onDemand, llStartWith } });
    const runs = [];
    try {
      for (let i = 0; i < Number(a.repeat); i++) {
        const r = await once(server.httpPort, server.rtmpPort, `fp-${name}-${i}`, frames);
        console.log(JSON.stringify({ variant: name, ...r }));
        runs.push(r);
        await sleep(500);
      }
    } finally {
      await server.stop();
    }
    const ok = runs.filter((r) => 'playableMs' in r) as { playableMs: number; playlistMs: number }[];
    out[name] = {
      runs,
      medianPlaylistMs: median(ok.map((r) => r.playlistMs)),
      medianPlayableMs: median(ok.map((r) => r.playableMs)),
    };
  }
  console.log(JSON.stringify(out, null, 2));
  if (a.out) {
    mkdirSync('benchmarks/results', { recursive: true });
    writeFileSync(a.out, JSON.stringify(out, null, 2));
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
