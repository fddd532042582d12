import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlvTagReader } from '../../../benchmarks/latency/stamped-publisher.js';
import {
  cropRgba,
  DEFAULT_LAYOUT,
  decodeStampRgba,
  paintStampYuv420p,
  STAMP_COLS,
  STAMP_ROWS,
  stampCells,
  stampReaderSource,
} from '../../../benchmarks/latency/wallclock-stamp.js';
import { ffmpegPath } from '../../support/binaries.js';

const L = DEFAULT_LAYOUT;
const GW = L.cols * L.cell;
const GH = L.rows * L.cell;

/** Y plane of a limited-range yuv420p frame → full-range grey RGBA (what a player shows). */
function yToRgba(frame: Uint8Array, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const v = Math.max(0, Math.min(255, Math.round(((frame[i] - 16) * 255) / 219)));
    out[i * 4] = v;
    out[i * 4 + 1] = v;
    out[i * 4 + 2] = v;
    out[i * 4 + 3] = 255;
  }
  return out;
}

function frameWithNoise(w: number, h: number, seed: number): Uint8Array {
  const f = new Uint8Array((w * h * 3) / 2);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < f.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    f[i] = 16 + ((s >>> 16) % 220);
  }
  return f;
}

/** Nearest-neighbour resize of an RGBA image. */
function resize(rgba: Uint8Array, w: number, h: number, nw: number, nh: number): Uint8Array {
  const out = new Uint8Array(nw * nh * 4);
  for (let y = 0; y < nh; y++) {
    for (let x = 0; x < nw; x++) {
      const sx = Math.floor((x * w) / nw);
      const sy = Math.floor((y * h) / nh);
      out.set(rgba.subarray((sy * w + sx) * 4, (sy * w + sx) * 4 + 4), (y * nw + x) * 4);
    }
  }
  return out;
}

describe('wall-clock stamp', () => {
  it('round-trips any 48-bit ms and 16-bit frame number through painted pixels', () => {
    const w = 256;
    const h = 144;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 48 - 1 }),
        fc.integer({ min: 0, max: 0xffff }),
        (ms, seq) => {
          const f = frameWithNoise(w, h, ms % 997);
          paintStampYuv420p(f, w, h, ms, seq);
          const grid = cropRgba(yToRgba(f, w, h), w, L.x, L.y, GW, GH);
          expect(decodeStampRgba(grid, GW, GH)).toEqual({ ok: true, ms, seq });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads a scaled grid (a player that renders at another size)', () => {
    const w = 256;
    const h = 144;
    const ms = Date.now();
    const f = frameWithNoise(w, h, 7);
    paintStampYuv420p(f, w, h, ms, 4242);
    const grid = cropRgba(yToRgba(f, w, h), w, L.x, L.y, GW, GH);
    for (const k of [0.5, 0.75, 1.5, 2]) {
      const nw = Math.round(GW * k);
      const nh = Math.round(GH * k);
      expect(decodeStampRgba(resize(grid, GW, GH, nw, nh), nw, nh)).toEqual({ ok: true, ms, seq: 4242 });
    }
  });

  it('refuses a misread instead of returning a wrong time', () => {
    const cells = stampCells(1_764_000_000_000, 1);
    expect(cells.length).toBe(STAMP_COLS * STAMP_ROWS);
    const w = 256;
    const h = 144;
    const f = frameWithNoise(w, h, 3);
    paintStampYuv420p(f, w, h, 1_764_000_000_000, 1);
    // invert one payload cell (cell 10: row 0, column 10)
    for (let y = L.y; y < L.y + L.cell; y++) {
      for (let x = L.x + 10 * L.cell; x < L.x + 11 * L.cell; x++)
        f[y * w + x] = f[y * w + x] > 128 ? 16 : 235;
    }
    const grid = cropRgba(yToRgba(f, w, h), w, L.x, L.y, GW, GH);
    expect(decodeStampRgba(grid, GW, GH)).toEqual({ ok: false, reason: 'crc' });
    // a flat grey area (no stamp) is refused for lack of contrast
    expect(decodeStampRgba(new Uint8Array(GW * GH * 4).fill(128), GW, GH)).toEqual({
      ok: false,
      reason: 'contrast',
    });
  });

  it('ships a reader that runs as plain source text (what the browser page gets)', () => {
    const read = new Function(`${stampReaderSource()}\nreturn decodeStampRgba;`)() as typeof decodeStampRgba;
    const w = 256;
    const h = 144;
    const f = frameWithNoise(w, h, 9);
    paintStampYuv420p(f, w, h, 1_764_104_400_123, 77);
    const grid = cropRgba(yToRgba(f, w, h), w, L.x, L.y, GW, GH);
    expect(read(grid, GW, GH)).toEqual({ ok: true, ms: 1_764_104_400_123, seq: 77 });
  });

  it('survives a real low-bitrate H.264 encode/decode, and FLV timestamps give back the frame number', () => {
    const w = 320;
    const h = 180;
    const n = 12;
    const base = 1_764_104_400_000;
    const raw = Buffer.alloc(((w * h * 3) / 2) * n);
    for (let i = 0; i < n; i++) {
      // a scrolling ramp (noise at this bitrate makes x264 skip whole frames' worth of blocks)
      const f = new Uint8Array((w * h * 3) / 2).fill(128);
      for (let p = 0; p < w * h; p++) f[p] = 40 + ((((((p % w) + p / w) | 0) + i * 4) * 3) % 160);
      paintStampYuv420p(f, w, h, base + i * 33, i);
      raw.set(f, i * f.length);
    }
    const ff = ffmpegPath();
    const enc = spawnSync(
      ff,
      [
        ...['-hide_banner', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${w}x${h}`],
        ...['-r', '30', '-i', 'pipe:0', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency'],
        ...['-profile:v', 'baseline', '-bf', '0', '-g', '30', '-b:v', '300k', '-f', 'flv', 'pipe:1'],
      ],
      { input: raw, maxBuffer: 64 << 20, timeout: 20_000 },
    );
    expect(enc.status, enc.stderr.toString()).toBe(0);
    const videoTs: number[] = [];
    new FlvTagReader((type, ts, body) => {
      if (type === 9 && body[1] === 1) videoTs.push(ts);
    }).push(enc.stdout);
    expect(videoTs.map((ts) => Math.round((ts * 30) / 1000))).toEqual([...Array(n).keys()]);
    const dec = spawnSync(
      ff,
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'flv',
        '-i',
        'pipe:0',
        '-vsync',
        '0',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgba',
        'pipe:1',
      ],
      { input: enc.stdout, maxBuffer: 64 << 20, timeout: 20_000 },
    );
    expect(dec.status, dec.stderr.toString()).toBe(0);
    const size = w * h * 4;
    expect(dec.stdout.length).toBe(size * n);
    for (let i = 0; i < n; i++) {
      const rgba = new Uint8Array(dec.stdout.buffer, dec.stdout.byteOffset + i * size, size);
      const grid = cropRgba(rgba, w, L.x, L.y, GW, GH);
      expect(decodeStampRgba(grid, GW, GH)).toEqual({ ok: true, ms: base + i * 33, seq: i });
    }
  });
});
