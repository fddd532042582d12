/**
 * A wall-clock stamp painted into video frames, and read back from rendered pixels.
 *
 * The publisher paints `Date.now()` (48 bits of milliseconds) and a 16-bit frame number into each
 * raw YUV420p frame as a grid of black/white 16x16 blocks (macroblock-aligned, so H.264 keeps
 * them sharp even at a low bitrate), with a CRC-16 over both so a misread is detected rather than
 * reported as a latency. The grid starts with one white and one black reference cell: the reader
 * thresholds at their midpoint, so a player's colour range (limited vs full) or a dim decode does
 * not matter.
 *
 * ```
 *  cell 0: white ref | cell 1: black ref | cells 2..81: 80 bits MSB first
 *  bits: timestamp ms (48) | frame number (16) | CRC-16/CCITT-FALSE over those 8 bytes (16)
 *  grid: 12 columns x 7 rows (84 cells; the last 2 are a white/black pair again)
 * ```
 *
 * The reader works on RGBA pixels of the grid's region only (a canvas `getImageData` of the stamp
 * area, scaled to any size: it samples the middle half of each cell), so it runs in a browser.
 * `decodeStampRgba` and `crc16` are self-contained (no imports, no closures) because the benchmark
 * ships their source text to the page.
 */

/** Where the grid sits in the frame, in pixels of the published frame. */
export interface StampLayout {
  x: number;
  y: number;
  cell: number;
  cols: number;
  rows: number;
}

export const STAMP_COLS = 12;
export const STAMP_ROWS = 7;
export const STAMP_BITS = 80;

/** The default grid: 16 px cells at (16, 16); 192 x 112 px, fits a 256x144 frame and up. */
export const DEFAULT_LAYOUT: StampLayout = { x: 16, y: 16, cell: 16, cols: STAMP_COLS, rows: STAMP_ROWS };

/** Limited-range luma of black and white (what an encoder and a player expect for yuv420p). */
const Y_BLACK = 16;
const Y_WHITE = 235;

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xffff) of `bytes`. Self-contained: shipped to the page. */
export function crc16(bytes: ArrayLike<number>): number {
  let crc = 0xffff;
  for (let i = 0; i < bytes.length; i++) {
    crc ^= (bytes[i] & 0xff) << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The 80 payload bits (0/1), MSB first, of a stamp. `ms` must be an integer in [0, 2^48). */
export function stampBits(ms: number, seq: number): Uint8Array {
  if (!Number.isInteger(ms) || ms < 0 || ms >= 2 ** 48) throw new RangeError(`stamp out of range: ${ms}`);
  const bytes = new Uint8Array(10);
  let v = ms;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = v % 256;
    v = Math.floor(v / 256);
  }
  bytes[6] = (seq >>> 8) & 0xff;
  bytes[7] = seq & 0xff;
  const crc = crc16(bytes.subarray(0, 8));
  bytes[8] = crc >>> 8;
  bytes[9] = crc & 0xff;
  const bits = new Uint8Array(STAMP_BITS);
  for (let i = 0; i < STAMP_BITS; i++) bits[i] = (bytes[i >> 3] >> (7 - (i & 7))) & 1;
  return bits;
}

/** Cell values (1 = white) of the whole grid, in raster order: references then payload. */
export function stampCells(ms: number, seq: number): Uint8Array {
  const bits = stampBits(ms, seq);
  const cells = new Uint8Array(STAMP_COLS * STAMP_ROWS);
  cells[0] = 1;
  cells[1] = 0;
  cells.set(bits, 2);
  cells[82] = 1;
  cells[83] = 0;
  return cells;
}

/**
 * Paints the stamp into a YUV420p frame (`frame` = Y plane, then U, then V, `width` x `height`),
 * in place: luma 16/235 blocks, neutral chroma under the grid.
 */
export function paintStampYuv420p(
  frame: Uint8Array,
  width: number,
  height: number,
  ms: number,
  seq: number,
  layout: StampLayout = DEFAULT_LAYOUT,
): void {
  const { x, y, cell, cols, rows } = layout;
  if (x + cols * cell > width || y + rows * cell > height) {
    throw new RangeError(`stamp grid does not fit a ${width}x${height} frame`);
  }
  if (frame.length < (width * height * 3) / 2) throw new RangeError('frame buffer too small');
  const cells = stampCells(ms, seq);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = cells[r * cols + c] ? Y_WHITE : Y_BLACK;
      const x0 = x + c * cell;
      for (let yy = y + r * cell; yy < y + (r + 1) * cell; yy++)
        frame.fill(v, yy * width + x0, yy * width + x0 + cell);
    }
  }
  const cw = width >> 1;
  const uOff = width * height;
  const vOff = uOff + cw * (height >> 1);
  for (let yy = y >> 1; yy < (y + rows * cell) >> 1; yy++) {
    frame.fill(128, uOff + yy * cw + (x >> 1), uOff + yy * cw + ((x + cols * cell) >> 1));
    frame.fill(128, vOff + yy * cw + (x >> 1), vOff + yy * cw + ((x + cols * cell) >> 1));
  }
}

export type StampRead =
  | { ok: true; ms: number; seq: number }
  | { ok: false; reason: 'contrast' | 'crc' | 'reference' };

/**
 * Reads a stamp from RGBA pixels covering exactly the grid (`width` x `height`, any scale).
 * Self-contained apart from `crc16` (both are shipped to the browser as source text).
 */
export function decodeStampRgba(
  rgba: ArrayLike<number>,
  width: number,
  height: number,
  cols = 12,
  rows = 7,
): StampRead {
  const cw = width / cols;
  const ch = height / rows;
  const means: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // middle half of the cell
      const x0 = Math.floor(c * cw + cw / 4);
      const x1 = Math.max(x0 + 1, Math.ceil((c + 1) * cw - cw / 4));
      const y0 = Math.floor(r * ch + ch / 4);
      const y1 = Math.max(y0 + 1, Math.ceil((r + 1) * ch - ch / 4));
      let sum = 0;
      let n = 0;
      for (let yy = y0; yy < y1; yy++) {
        for (let xx = x0; xx < x1; xx++) {
          const i = (yy * width + xx) * 4;
          sum += 0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2];
          n++;
        }
      }
      means.push(sum / n);
    }
  }
  const white = (means[0] + means[82]) / 2;
  const black = (means[1] + means[83]) / 2;
  if (white - black < 48) return { ok: false, reason: 'contrast' };
  const thr = (white + black) / 2;
  if (means[0] < thr || means[82] < thr || means[1] >= thr || means[83] >= thr) {
    return { ok: false, reason: 'reference' };
  }
  const bytes: number[] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < 80; i++) if (means[i + 2] >= thr) bytes[i >> 3] |= 1 << (7 - (i & 7));
  const crc = crc16(bytes.slice(0, 8));
  if (crc !== ((bytes[8] << 8) | bytes[9])) return { ok: false, reason: 'crc' };
  let ms = 0;
  for (let i = 0; i < 6; i++) ms = ms * 256 + bytes[i];
  return { ok: true, ms, seq: (bytes[6] << 8) | bytes[7] };
}

/** Copies the RGBA pixels of a rectangle out of a `width`-wide RGBA image (tests, Node readers). */
export function cropRgba(
  rgba: Uint8Array,
  width: number,
  x: number,
  y: number,
  w: number,
  h: number,
): Uint8Array {
  const out = new Uint8Array(w * h * 4);
  for (let r = 0; r < h; r++)
    out.set(rgba.subarray(((y + r) * width + x) * 4, ((y + r) * width + x + w) * 4), r * w * 4);
  return out;
}

/** Source text of the page-side reader: `crc16` and `decodeStampRgba` as plain functions. */
export function stampReaderSource(): string {
  return `${crc16.toString()}\n${decodeStampRgba.toString()}`;
}
