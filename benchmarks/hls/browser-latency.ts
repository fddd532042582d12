/**
 * Live latency of hls.js in headless Chromium against our node: classic HLS and LL-HLS, hls.js
 * defaults and tuned settings. ffmpeg publishes a 720p30 2 Mbps test pattern in real time
 * (a fresh stream per scenario); after `--settle` seconds we read `hls.latency` (behind the live
 * edge, hls.js's view) and `Date.now() - hls.playingDate` (behind ingest, from PROGRAM-DATE-TIME),
 * and the time from `loadSource` to the first presented frame.
 *
 *   node --import tsx benchmarks/hls/browser-latency.ts [--settle 20] [--repeat 1] [--fps 30] [--gop 30] [--only ll]
 *     [--verbose] [--out FILE]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { launchChromium } from '../../tests/support/browser.js';
import { publishTestPattern } from '../../tests/support/ffmpeg.js';
import { machine, median, pin, round, sleep, startServer } from './common.js';

const { values: a } = parseArgs({
  options: {
    settle: { type: 'string', default: '20' },
    repeat: { type: 'string', default: '1' },
    out: { type: 'string' },
    only: { type: 'string' },
    /** Keyframe interval of the publisher, in frames (default 30: GOP 1 s at the default 30 fps). */
    gop: { type: 'string', default: '30' },
    fps: { type: 'string', default: '30' },
    /** Log hls.js warnings (console) and the first served playlists, for diagnosis. */
    verbose: { type: 'boolean', default: false },
  },
});
const settleMs = Number(a.settle) * 1000;

interface Scenario {
  name: string;
  ll: boolean;
  config: Record<string, unknown>;
}

const SCENARIOS: Scenario[] = [
  { name: 'classic, hls.js defaults', ll: false, config: {} },
  {
    name: 'classic, tuned (liveSyncDurationCount 2, maxLiveSyncPlaybackRate 1.5)',
    ll: false,
    config: { liveSyncDurationCount: 2, maxLiveSyncPlaybackRate: 1.5 },
  },
  { name: 'LL-HLS, hls.js defaults', ll: true, config: {} },
  {
    name: 'LL-HLS, tuned (lowLatencyMode, maxLiveSyncPlaybackRate 1.5)',
    ll: true,
    config: { lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5 },
  },
];

async function main(): Promise<void> {
  pin(process.pid, '1');
  const server = await startServer();
  const browser = await launchChromium();
  const base = `http://127.0.0.1:${server.httpPort}`;
  const runs: Record<string, unknown>[] = [];
  let n = 0;
  try {
    for (let rep = 0; rep < Number(a.repeat); rep++) {
      for (const sc of SCENARIOS) {
        if (a.only && !sc.name.toLowerCase().includes(a.only.toLowerCase())) continue;
        const stream = `lat${n++}`;
        const ff = publishTestPattern({
          url: `rtmp://127.0.0.1:${server.rtmpPort}/live/${stream}`,
          seconds: Math.ceil(settleMs / 1000) + 30,
          width: 1280,
          height: 720,
          fps: Number(a.fps),
          gop: Number(a.gop),
          videoKbps: 2000,
        });
        // Let the stream run a few segments first, as a viewer joining a live stream would.
        await sleep(4000);
        const page = await browser.newPage();
        try {
          await page.goto(`${base}/player/`);
          await page.addScriptTag({ url: `${base}/player/vendor/hls.js` });
          const src = sc.ll ? `${base}/live/${stream}/ll.m3u8` : `${base}/live/${stream}.m3u8`;
          await page.evaluate(
            ({ src, config, verbose }) => {
              const w = window as any;
              document.body.innerHTML = '';
              const video = document.createElement('video');
              video.muted = true;
              video.autoplay = true;
              document.body.appendChild(video);
              const st: any = { errors: [], waiting: 0, firstFrameMs: null };
              w.__st = st;
              video.addEventListener('waiting', () => st.waiting++);
              st.warnings = [];
              st.trace = [];
              // (no named function here: tsx would wrap it in a helper the page does not have)
              const debug: Record<string, (...m: unknown[]) => void> | false = verbose ? {} : false;
              if (debug) {
                for (const k of ['trace', 'debug', 'info']) debug[k] = () => {};
                debug.log = (...m: unknown[]) => {
                  const line = m.map(String).join(' ');
                  if (st.trace.length < 3000)
                    st.trace.push(`${Math.round(performance.now())} ${line.slice(0, 240)}`);
                };
                for (const k of ['warn', 'error'])
                  debug[k] = (...m: unknown[]) => {
                    if (st.warnings.length < 200) st.warnings.push(m.map(String).join(' ').slice(0, 300));
                  };
              }
              const hls = new w.Hls({ debug, ...config });
              w.__hls = hls;
              hls.on(w.Hls.Events.ERROR, (_e: unknown, d: any) =>
                st.errors.push(
                  `${d.fatal ? 'FATAL ' : ''}${d.type}/${d.details} ${d.response?.code ?? ''} ${String(d.part?.url ?? d.frag?.url ?? d.url ?? '').split('/live/')[1] ?? ''}`.trim(),
                ),
              );
              const t0 = performance.now();
              (video as any).requestVideoFrameCallback(() => {
                st.firstFrameMs = performance.now() - t0;
              });
              hls.loadSource(src);
              hls.attachMedia(video);
              video.play().catch(() => {});
            },
            { src, config: sc.config, verbose: a.verbose },
          );
          const samples: { latency: number; wall: number; rate: number }[] = [];
          const tEnd = Date.now() + settleMs;
          while (Date.now() < tEnd) {
            await sleep(1000);
            const s = await page.evaluate(() => {
              const w = window as any;
              const h = w.__hls;
              const pd = h.playingDate as Date | null;
              return {
                latency: h.latency as number,
                wall: pd ? Date.now() - pd.getTime() : Number.NaN,
                rate: (document.querySelector('video') as HTMLVideoElement).playbackRate,
              };
            });
            samples.push(s);
          }
          const st = await page.evaluate(() => {
            const w = window as any;
            return {
              ...w.__st,
              targetLatency: w.__hls.targetLatency,
              currentTime: document.querySelector('video')!.currentTime,
            };
          });
          const last = samples.at(-1)!;
          const lastFive = samples.slice(-5);
          const r = {
            scenario: sc.name,
            stream,
            latencyS: round(last.latency, 2),
            latencyLast5MedianS: round(median(lastFive.map((x) => x.latency)), 2),
            behindIngestS: round(last.wall / 1000, 2),
            targetLatencyS: round(st.targetLatency ?? Number.NaN, 2),
            firstFrameMs: st.firstFrameMs === null ? null : round(st.firstFrameMs),
            waitingEvents: st.waiting,
            errors: [...new Set(st.errors as string[])].slice(0, 12),
            errorCount: (st.errors as string[]).length,
            latencyTrace: samples.map((x) => round(x.latency, 2)),
            behindIngestTrace: samples.map((x) => round(x.wall / 1000, 2)),
            ...(a.verbose
              ? { warnings: [...new Set(st.warnings as string[])].slice(0, 40), trace: st.trace }
              : {}),
          };
          console.log(JSON.stringify(r));
          runs.push(r);
        } finally {
          await page.close();
          await ff.stop();
        }
      }
    }
  } finally {
    await browser.close();
    await server.stop();
  }
  const result = {
    kind: 'browser-latency',
    date: new Date().toISOString(),
    machine: machine(),
    hlsjs: JSON.parse(readFileSync('node_modules/hls.js/package.json', 'utf8')).version,
    command: `node --import tsx benchmarks/hls/browser-latency.ts ${process.argv.slice(2).join(' ')}`,
    settleS: settleMs / 1000,
    runs,
  };
  if (a.out) {
    mkdirSync('benchmarks/results', { recursive: true });
    writeFileSync(a.out, JSON.stringify(result, null, 2));
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
