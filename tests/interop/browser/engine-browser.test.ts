import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RtsNode } from '../../../engine/node.js';
import { collectPageLog, launchChromium } from '../../support/browser.js';
import { killTrackedChildren } from '../../support/children.js';
import { publishTestPattern, type RunningFfmpeg } from '../../support/ffmpeg.js';
import { waitFor } from '../../support/wait-for.js';
import { startNode } from '../engine/engine-harness.js';

/** Playback in headless Chromium of what a node serves: mpegts.js (HTTP-FLV, WS-FLV) and hls.js (HLS, LL-HLS). */
describe('Chromium plays what the node serves', () => {
  let node: RtsNode;
  let pub: RunningFfmpeg;
  let browser: Browser;
  let page: Page | undefined;
  let base: string;
  beforeAll(async () => {
    // The node's default HLS settings (target 2 s, LL-HLS parts of 250 ms): what players get.
    node = await startNode();
    base = `http://127.0.0.1:${node.ports.http}`;
    pub = publishTestPattern({
      url: `rtmp://127.0.0.1:${node.ports.rtmp}/live/b`,
      seconds: 120,
      width: 480,
      height: 270,
      gop: 25,
    });
    await waitFor(async () => ((await node.streams()).length === 1 ? true : undefined), {
      timeoutMs: 10_000,
      what: 'stream',
    });
    browser = await launchChromium();
  }, 40_000);
  afterEach(async () => {
    await page?.close();
    page = undefined;
  });
  afterAll(async () => {
    await browser?.close();
    await pub?.stop();
    await node?.close();
    await killTrackedChildren();
  });

  /** Watches video.currentTime for `ms`: returns the largest wall-clock stall and the final size. */
  async function watch(p: Page, ms: number) {
    return p.evaluate(async (ms) => {
      const v = document.querySelector('video') as HTMLVideoElement;
      const t0 = performance.now();
      let last = v.currentTime;
      let lastMove = performance.now();
      let maxStall = 0;
      while (performance.now() - t0 < ms) {
        await new Promise((r) => setTimeout(r, 100));
        if (v.currentTime !== last) {
          maxStall = Math.max(maxStall, performance.now() - lastMove);
          last = v.currentTime;
          lastMove = performance.now();
        }
      }
      maxStall = Math.max(maxStall, performance.now() - lastMove);
      return { maxStall, currentTime: v.currentTime, width: v.videoWidth, height: v.videoHeight };
    }, ms);
  }

  async function openPage(): Promise<Page> {
    page = await browser.newPage();
    await page.goto(`${base}/player/`);
    await page.evaluate(() => {
      document.body.innerHTML = '<video muted autoplay playsinline></video>';
    });
    return page;
  }

  for (const transport of ['http', 'ws'] as const) {
    it(`mpegts.js plays ${transport === 'http' ? 'HTTP-FLV' : 'WebSocket-FLV'} for 10 s without a stall`, async () => {
      const p = await openPage();
      const log = collectPageLog(p);
      const url = `${transport === 'http' ? base : base.replace('http', 'ws')}/live/b.flv`;
      await p.addScriptTag({ url: `${base}/player/vendor/mpegts.js` });
      const started = await p.evaluate(async (url) => {
        const m = (window as unknown as { mpegts: any }).mpegts;
        const v = document.querySelector('video') as HTMLVideoElement;
        const t0 = performance.now();
        const player = m.createPlayer({ type: 'flv', isLive: true, url }, { enableStashBuffer: false });
        player.attachMediaElement(v);
        player.load();
        await v.play().catch(() => {});
        while (v.currentTime === 0 && performance.now() - t0 < 8000)
          await new Promise((r) => setTimeout(r, 20));
        return performance.now() - t0;
      }, url);
      expect(started, log()).toBeLessThan(8000);
      const w = await watch(p, 10_000);
      expect(w.maxStall, log()).toBeLessThan(1000);
      expect([w.width, w.height]).toEqual([480, 270]);
    }, 40_000);
  }

  for (const playlist of ['b.m3u8', 'b/ll.m3u8']) {
    it(`hls.js plays ${playlist} for 10 s without a stall and reports its latency`, async () => {
      const p = await openPage();
      const log = collectPageLog(p);
      const url = `${base}/live/${playlist}`;
      await p.addScriptTag({ url: `${base}/player/vendor/hls.js` });
      const started = await p.evaluate(
        async ({ url, low }) => {
          const Hls = (window as unknown as { Hls: any }).Hls;
          const v = document.querySelector('video') as HTMLVideoElement;
          const t0 = performance.now();
          const hls = new Hls({ lowLatencyMode: low });
          const errors: string[] = [];
          type ErrorData = {
            fatal: boolean;
            type: string;
            details: string;
            part?: { url: string };
            frag?: { url: string };
          };
          hls.on(Hls.Events.ERROR, (_e: unknown, d: ErrorData) =>
            errors.push(
              `${d.fatal ? 'FATAL ' : ''}${d.type}/${d.details} ${String(d.part?.url ?? d.frag?.url ?? '').split('/live/')[1] ?? ''} @${v.currentTime.toFixed(2)}`.trim(),
            ),
          );
          (window as unknown as { hls: unknown; hlsErrors: string[] }).hls = hls;
          (window as unknown as { hlsErrors: string[] }).hlsErrors = errors;
          hls.loadSource(url);
          hls.attachMedia(v);
          await v.play().catch(() => {});
          while (v.currentTime === 0 && performance.now() - t0 < 15_000)
            await new Promise((r) => setTimeout(r, 50));
          return performance.now() - t0;
        },
        { url, low: playlist.endsWith('ll.m3u8') },
      );
      expect(started, log()).toBeLessThan(15_000);
      const w = await watch(p, 10_000);
      const { latency, behindPdt, errors } = await p.evaluate(() => {
        const win = window as unknown as {
          hls: { latency: number; playingDate: Date | null };
          hlsErrors: string[];
        };
        const pd = win.hls.playingDate;
        return {
          latency: win.hls.latency,
          // Wall clock vs the EXT-X-PROGRAM-DATE-TIME of the frame on screen (same host clock).
          behindPdt: pd ? (Date.now() - pd.getTime()) / 1000 : Number.NaN,
          errors: win.hlsErrors,
        };
      });
      console.log(
        `hls.js ${playlist}: started after ${Math.round(started)} ms, hls.latency ${latency.toFixed(2)} s, ` +
          `behind PROGRAM-DATE-TIME ${behindPdt.toFixed(2)} s, max stall ${Math.round(w.maxStall)} ms, ` +
          `errors [${errors.join(', ')}]`,
      );
      expect(
        errors.filter((e) => e.startsWith('FATAL')),
        log(),
      ).toEqual([]);
      expect(w.maxStall, `${log()} ${errors.join(', ')}`).toBeLessThan(1000);
      expect(w.width).toBe(480);
      expect(latency).toBeGreaterThan(0);
      if (playlist.endsWith('ll.m3u8')) {
        // The first playlist has a whole segment (hls.js: levelEmptyError otherwise). A rare
        // bufferSeekOverHole (a part skipped by hls.js, about 1 run in 10 on a busy 2-core host) is
        // logged above, not failed: the stall bound catches a hole that costs playback.
        expect(errors.filter((e) => /levelEmptyError/.test(e))).toEqual([]);
        // A sanity bound, not the goal (figures: BENCHMARKS.md): a player whose timeline is off by a
        // segment (the old levelEmptyError start) sat 4.7 s behind ingest; LL plays at 1-2 s.
        expect(latency).toBeLessThan(4.5);
        expect(behindPdt).toBeLessThan(4.5);
      }
    }, 60_000);
  }
});
