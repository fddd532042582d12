/**
 * The player SDK in headless Chromium against Node-Media-Server 4.4 (HTTP-FLV) and ffmpeg-made
 * HLS, served with the page from a tiny static server that also plays the WHEP endpoint (and
 * refuses it, to drive the fallback).
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collectPageLog, launchChromium } from '../../support/browser.js';
import { killTrackedChildren } from '../../support/children.js';
import { publishTestPattern, type RunningFfmpeg } from '../../support/ffmpeg.js';
import { type NodeMediaServer, startNodeMediaServer } from '../../support/nms.js';
import { freePort } from '../../support/ports.js';
import { waitFor } from '../../support/wait-for.js';

const root = resolve(import.meta.dirname, '../../..');
const hlsDir = mkdtempSync(join(tmpdir(), 'rts-player-hls-'));
const STATIC: Record<string, string> = {
  '/player/index.html': join(root, 'player/index.html'),
  '/player/sdk.js': join(root, 'player/dist/sdk.js'),
  '/player/vendor/mpegts.js': join(root, 'node_modules/mpegts.js/dist/mpegts.js'),
  '/player/vendor/hls.js': join(root, 'node_modules/hls.js/dist/hls.mjs'),
};
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
};

let nms: NodeMediaServer;
let publisher: RunningFfmpeg;
let hlsWriter: RunningFfmpeg;
let server: Server;
let port: number;
let browser: Browser;
let page: Page | undefined;
/** What the static server does for the WHEP POST and the FLV GET. */
const behaviour = { whepStatus: 403, flv: true };
const whepPosts: string[] = [];

function startStaticServer(): Promise<Server> {
  const srv = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST' && url.pathname === '/live/test') {
      whepPosts.push(req.headers['content-type'] ?? '');
      req.resume();
      if (behaviour.whepStatus === 0) return; // hang: the player must give up on its own
      res.writeHead(behaviour.whepStatus, { 'Content-Type': 'text/plain' });
      res.end('stream not available over WebRTC');
      return;
    }
    if (url.pathname === '/live/test.flv') {
      if (!behaviour.flv) {
        res.writeHead(404).end();
        return;
      }
      const up = request(`${nms.flvUrl('live', 'test')}`, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, { 'Content-Type': 'video/x-flv' });
        upRes.pipe(res);
      });
      up.on('error', () => res.destroy());
      res.on('close', () => up.destroy());
      up.end();
      return;
    }
    const file =
      STATIC[url.pathname] ?? (url.pathname.startsWith('/live/') ? join(hlsDir, url.pathname.slice(6)) : '');
    if (!file || file.includes('..') || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Cache-Control': 'no-store',
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((r) => srv.listen(port, '127.0.0.1', () => r(srv)));
}

async function flvFlowing(url: string): Promise<boolean> {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), 1500);
  try {
    const res = await fetch(url, { signal: ac.signal });
    if (!res.ok || !res.body) return false;
    const reader = res.body.getReader();
    let n = 0;
    while (n < 20_000) {
      const { value, done } = await reader.read();
      if (done) return false;
      n += value.length;
    }
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(t);
    ac.abort();
  }
}

interface PageEvent {
  type: string;
  protocol?: string;
  from?: string;
  to?: string;
  reason?: string;
  code?: string;
}

async function openPlayer(
  url: string,
  init?: () => void,
  query = '',
): Promise<{ page: Page; log: () => string }> {
  const p = await browser.newPage();
  page = p;
  const log = collectPageLog(p);
  if (init) await p.addInitScript(init);
  await p.goto(`http://127.0.0.1:${port}/player/index.html?url=${encodeURIComponent(url)}${query}`);
  return { page: p, log };
}

function events(p: Page): Promise<PageEvent[]> {
  return p.evaluate(() => (window as unknown as { rtsEvents: PageEvent[] }).rtsEvents ?? []);
}

async function expectTimeAdvances(p: Page, log: () => string): Promise<number> {
  const t0 = await p.evaluate(() => document.querySelector('video')!.currentTime);
  await waitFor(
    async () => {
      const t = await p.evaluate(() => document.querySelector('video')!.currentTime);
      return t - t0 >= 1.5 || `missing: currentTime advanced ${(t - t0).toFixed(2)} s of 1.5 s`;
    },
    { timeoutMs: 6000, what: `video time to advance (page log:\n${log()})` },
  );
  return p.evaluate(() => document.querySelector('video')!.currentTime);
}

beforeAll(async () => {
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'player/tsconfig.player.json')],
    {
      stdio: 'inherit',
      timeout: 60_000,
    },
  );
  port = await freePort();
  nms = await startNodeMediaServer();
  publisher = publishTestPattern({ url: nms.rtmpUrl('live', 'test'), seconds: 120, width: 320, height: 240 });
  hlsWriter = publishTestPattern({
    url: join(hlsDir, 'test.m3u8'),
    seconds: 120,
    width: 320,
    height: 240,
    format: 'hls',
    extraArgs: ['-hls_time', '1', '-hls_list_size', '6', '-hls_flags', 'delete_segments+omit_endlist'],
  });
  server = await startStaticServer();
  browser = await launchChromium();
  await waitFor(() => flvFlowing(nms.flvUrl('live', 'test')), {
    timeoutMs: 15_000,
    what: `HTTP-FLV from node-media-server (${nms.output()} ${publisher.stderr()})`,
  });
  await waitFor(() => readdirSync(hlsDir).filter((f) => f.endsWith('.ts')).length >= 3, {
    timeoutMs: 15_000,
    what: 'three HLS segments',
  });
}, 90_000);

afterEach(async () => {
  await page?.close();
  page = undefined;
  behaviour.whepStatus = 403;
  behaviour.flv = true;
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server?.closeAllConnections();
  await publisher?.stop();
  await hlsWriter?.stop();
  await nms?.stop();
  await killTrackedChildren();
  rmSync(hlsDir, { recursive: true, force: true });
});

describe('RtsPlayer in Chromium', () => {
  it('falls back from WHEP to HTTP-FLV when the WHEP POST answers 403, and plays', async () => {
    const { page: p, log } = await openPlayer(`artc://127.0.0.1:${port}/live/test?auth_key=abc`);
    await waitFor(async () => (await events(p)).some((e) => e.type === 'playing'), {
      timeoutMs: 10_000,
      what: `playing event (page log:\n${log()})`,
    });
    const ev = await events(p);
    const fb = ev.find((e) => e.type === 'fallback');
    expect(fb).toMatchObject({ from: 'webrtc', to: 'flv', code: 'WHEP_HTTP_403' });
    expect(fb?.reason).toContain('403');
    expect(fb?.reason).toContain('stream not available over WebRTC');
    expect(ev.find((e) => e.type === 'playing')?.protocol).toBe('flv');
    expect(whepPosts.at(-1)).toBe('application/sdp');
    await expectTimeAdvances(p, log);
    const stats = await p.evaluate(() =>
      (window as unknown as { rtsPlayer: { stats(): Promise<unknown> } }).rtsPlayer.stats(),
    );
    expect(stats).toMatchObject({ protocol: 'flv', fallbacks: 1 });
    const s = stats as { framesDecoded: number; timeToFirstFrameMs: number; bufferedAheadMs: number };
    expect(s.framesDecoded).toBeGreaterThan(20);
    console.log(
      `WHEP 403 → FLV: first frame after ${s.timeToFirstFrameMs} ms, buffered ahead ${Math.round(s.bufferedAheadMs)} ms`,
    );
    // The page shows the stats.
    await waitFor(async () => (await p.textContent('#stats'))?.includes('protocol           flv'), {
      timeoutMs: 2000,
      what: 'stats panel showing flv',
    });
  }, 30_000);

  it('goes on to HLS when HTTP-FLV is unavailable too', async () => {
    behaviour.flv = false;
    behaviour.whepStatus = 404;
    const { page: p, log } = await openPlayer(`artc://127.0.0.1:${port}/live/test`);
    await waitFor(async () => (await events(p)).some((e) => e.type === 'playing'), {
      timeoutMs: 20_000,
      what: `playing event (page log:\n${log()})`,
    });
    const ev = await events(p);
    const fallbacks = ev.filter((e) => e.type === 'fallback');
    expect(fallbacks.map((e) => [e.from, e.to, e.code])).toEqual([
      ['webrtc', 'flv', 'WHEP_HTTP_404'],
      ['flv', 'hls', 'FLV_ERROR'],
    ]);
    expect(ev.find((e) => e.type === 'playing')?.protocol).toBe('hls');
    await expectTimeAdvances(p, log);
    const s = (await p.evaluate(() =>
      (window as unknown as { rtsPlayer: { stats(): Promise<unknown> } }).rtsPlayer.stats(),
    )) as { protocol: string; timeToFirstFrameMs: number };
    expect(s.protocol).toBe('hls');
    console.log(`WHEP 404 → FLV 404 → HLS: first frame after ${s.timeToFirstFrameMs} ms`);
  }, 40_000);

  it('falls back to HTTP-FLV when RTCPeerConnection is missing', async () => {
    const { page: p, log } = await openPlayer(`artc://127.0.0.1:${port}/live/test`, () => {
      // biome-ignore lint/suspicious/noExplicitAny: removing a browser global for the test
      delete (window as any).RTCPeerConnection;
    });
    await waitFor(async () => (await events(p)).some((e) => e.type === 'playing'), {
      timeoutMs: 10_000,
      what: `playing event (page log:\n${log()})`,
    });
    const fb = (await events(p)).find((e) => e.type === 'fallback');
    expect(fb).toMatchObject({ from: 'webrtc', to: 'flv', code: 'WHEP_UNSUPPORTED' });
    await expectTimeAdvances(p, log);
  }, 30_000);

  it('plays an http(s) .flv URL directly without trying WHEP', async () => {
    const before = whepPosts.length;
    const { page: p, log } = await openPlayer(`http://127.0.0.1:${port}/live/test.flv`);
    await waitFor(async () => (await events(p)).some((e) => e.type === 'playing'), {
      timeoutMs: 10_000,
      what: `playing event (page log:\n${log()})`,
    });
    const ev = await events(p);
    expect(ev.filter((e) => e.type === 'fallback')).toEqual([]);
    expect(ev.find((e) => e.type === 'playing')?.protocol).toBe('flv');
    expect(whepPosts.length).toBe(before);
    await expectTimeAdvances(p, log);
  }, 30_000);

  it('gives up on a WHEP endpoint that never answers after firstFrameTimeoutMs and falls back', async () => {
    behaviour.whepStatus = 0;
    const { page: p, log } = await openPlayer(
      `artc://127.0.0.1:${port}/live/test`,
      undefined,
      '&timeout=1500',
    );
    await waitFor(async () => (await events(p)).some((e) => e.type === 'playing'), {
      timeoutMs: 10_000,
      what: `playing event (page log:\n${log()})`,
    });
    const ev = (await events(p)) as (PageEvent & { t: number })[];
    const fb = ev.find((e) => e.type === 'fallback');
    expect(fb).toMatchObject({ from: 'webrtc', to: 'flv', code: 'WHEP_NETWORK' });
    const play = ev.find((e) => e.type === 'play')!;
    expect((fb as { t: number }).t - play.t).toBeGreaterThanOrEqual(1400);
    expect((fb as { t: number }).t - play.t).toBeLessThan(4000);
  }, 30_000);
});
