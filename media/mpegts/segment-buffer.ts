/**
 * An append-only byte buffer for one segment: writers `reserve(n)` then write at the returned
 * offset, so packets are written once, in place. Grows by doubling up to `maxBytes`.
 */
export class SegmentBuffer {
  buf: Uint8Array;
  length = 0;

  constructor(
    initialBytes = 256 * 1024,
    readonly maxBytes = 64 * 1024 * 1024,
  ) {
    this.buf = new Uint8Array(initialBytes);
  }

  /** Reserves `n` bytes and returns their offset in `this.buf` (which may have been replaced). */
  reserve(n: number): number {
    const need = this.length + n;
    if (need > this.buf.length) {
      if (need > this.maxBytes) throw new RangeError(`segment exceeds ${this.maxBytes} bytes`);
      let cap = this.buf.length * 2;
      while (cap < need) cap *= 2;
      const next = new Uint8Array(Math.min(cap, this.maxBytes));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    const at = this.length;
    this.length = need;
    return at;
  }

  /** A copy of the written bytes, sized exactly; the buffer is then emptied for reuse. */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.length);
    this.length = 0;
    return out;
  }
}
