import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HlsMuxer } from '../../../transports/hls/hls-muxer.js';
import { FFMPEG, FFPROBE, makeFlv, runTool } from '../../unit/media/ffmpeg-fixture.js';
import { flvToFrames } from '../../unit/media/flv-frames.js';

let dir: string;
let muxer: HlsMuxer;
let server: Server;
let base: string;
const unauthorised: string[] = [];

async function get(path: string): Promise<Uint8Array> {
  const r = await muxer.handle({ path, query: {} });
  expect(r.status).toBe(200);
  return r.body as Uint8Array;
}

async function probe(file: string) {
  const { stdout } = await runTool(FFPROBE, [
    '-v',
    'error',
    '-show_entries',
    'stream=codec_name,width,height,sample_rate',
    '-of',
    'json',
    file,
  ]);
  return JSON.parse(stdout).streams as Array<{
    codec_name: string;
    width?: number;
    height?: number;
    sample_rate?: string;
  }>;
}

/** Decodes with ffmpeg; returns the decoded duration (s) and stderr error lines. */
async function decode(input: string): Promise<{ seconds: number; errors: string[] }> {
  const { stderr } = await runTool(
    FFMPEG,
    ['-hide_banner', '-nostats', '-v', 'info', '-i', input, '-f', 'null', '-'],
    60_000,
  );
  const times = [...stderr.matchAll(/time=(\d+):(\d+):([\d.]+)/g)];
  const t = times.at(-1);
  const seconds = t ? Number(t[1]) * 3600 + Number(t[2]) * 60 + Number(t[3]) : 0;
  const errors = stderr.split('\n').filter((l) => /error|invalid|corrupt|non-existing PPS|missing/i.test(l));
  return { seconds, errors };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rts-hls-'));
  const flv = await makeFlv({ profile: 'high', bframes: 2, width: 320, height: 240, seconds: 10, gop: 25 });
  muxer = new HlsMuxer({ stream: 'cam' });
  for (const f of flvToFrames(flv)) muxer.push(f);
  muxer.end();
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.searchParams.get('auth_key') !== 'k1') unauthorised.push(url.pathname);
    const path = url.pathname.replace(/^\/live\//, '');
    muxer
      .handle({ path, query: Object.fromEntries(url.searchParams) }, { childQuery: 'auth_key=k1' })
      .then((r) => {
        res.writeHead(r.status, r.headers);
        res.end(r.body);
      });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/live`;
}, 60_000);

afterAll(async () => {
  muxer?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('HLS output read by ffprobe/ffmpeg', () => {
  it('a TS segment has H.264 320x240 + AAC 44.1 kHz and decodes without errors', async () => {
    const file = join(dir, 'seg-1.ts');
    writeFileSync(file, await get('cam/seg-1.ts'));
    const streams = await probe(file);
    expect(streams).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ codec_name: 'h264', width: 320, height: 240 }),
        expect.objectContaining({ codec_name: 'aac', sample_rate: '44100' }),
      ]),
    );
    const d = await decode(file);
    expect(d.errors).toEqual([]);
    expect(d.seconds).toBeGreaterThan(1.8);
  }, 30_000);

  it('the fMP4 init segment + parts of one segment decode', async () => {
    const pl = String((await muxer.handle({ path: 'cam/ll.m3u8', query: {} })).body);
    const parts = [...pl.matchAll(/URI="(ll\/part-4\.\d+\.m4s)"/g)].map((m) => m[1]);
    expect(parts.length).toBeGreaterThan(5);
    const chunks = [await get('cam/ll/init-0.mp4')];
    for (const p of parts) chunks.push(await get(`cam/${p}`));
    const file = join(dir, 'parts.mp4');
    writeFileSync(file, Buffer.concat(chunks));
    const streams = await probe(file);
    expect(streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(streams.find((s) => s.codec_name === 'h264')).toMatchObject({ width: 320, height: 240 });
    const d = await decode(file);
    expect(d.errors).toEqual([]);
    expect(d.seconds).toBeGreaterThan(1.5);
  }, 30_000);

  it('ffmpeg plays {stream}.m3u8 over HTTP for ≥ 4 s, every request authorised by the child query', async () => {
    const d = await decode(`${base}/cam.m3u8?auth_key=k1`);
    expect(d.errors).toEqual([]);
    expect(d.seconds).toBeGreaterThanOrEqual(4);
    expect(unauthorised).toEqual([]);
  }, 60_000);

  it('ffmpeg plays {stream}/ll.m3u8 (fMP4, EXT-X-MAP) over HTTP for ≥ 4 s', async () => {
    const d = await decode(`${base}/cam/ll.m3u8?auth_key=k1`);
    expect(d.errors).toEqual([]);
    expect(d.seconds).toBeGreaterThanOrEqual(4);
    expect(unauthorised).toEqual([]);
  }, 60_000);
});
