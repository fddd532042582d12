import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { launchChromium } from '../../support/browser.js';
import { killTrackedChildren, trackedChildren } from '../../support/children.js';
import { decode, makeTestFile, probe, publishTestPattern } from '../../support/ffmpeg.js';
import { freePort, freeUdpPorts } from '../../support/ports.js';
import { waitFor } from '../../support/wait-for.js';

const dir = mkdtempSync(join(tmpdir(), 'rts-support-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  expect(await killTrackedChildren()).toBe(0);
});

describe('tests/support', () => {
  it('makeTestFile() writes H.264+AAC FLV that decode() and probe() read back', async () => {
    const file = await makeTestFile({ url: join(dir, 'a.flv'), seconds: 2, width: 320, height: 240 });
    const d = await decode(file, { seconds: 5 });
    expect(d.exitCode).toBe(0);
    expect(d.frames).toBe(50);
    expect([d.width, d.height]).toEqual([320, 240]);
    expect(d.videoCodec).toMatch(/^h264/);
    expect(d.audioCodec).toMatch(/^aac/);
    const p = await probe(file, { showPackets: true });
    expect(p.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(p.packets?.length).toBeGreaterThan(50);
  });

  it('publishTestPattern().stop() kills a running publisher', async () => {
    const run = publishTestPattern({ url: join(dir, 'b.flv'), seconds: 30 });
    expect(trackedChildren()).toContain(run.proc);
    await run.stop();
    expect(trackedChildren()).not.toContain(run.proc);
  });

  it('freePort() and freeUdpPorts() return usable distinct ports', async () => {
    const p = await freePort();
    expect(p).toBeGreaterThan(0);
    const u = await freeUdpPorts(3);
    expect(new Set(u).size).toBe(3);
  });

  it('waitFor() says what was missing on timeout', async () => {
    await expect(waitFor(() => 'missing: the thing', { timeoutMs: 50, what: 'x' })).rejects.toThrow(
      /waiting for x; missing: the thing/,
    );
    expect(await waitFor(() => 42)).toBe(42);
  });

  it('launchChromium() opens a page', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      expect(await page.evaluate(() => typeof RTCPeerConnection)).toBe('function');
      expect(await page.evaluate(() => navigator.userAgent)).not.toMatch(/HeadlessChrome\/[0-9.]+ .*old/);
    } finally {
      await browser.close();
    }
  }, 30_000);
});
