import { ProtocolError } from '../../engine/errors.js';

/**
 * Bit reader over a NAL unit's RBSP that removes emulation prevention bytes on the fly
 * (ITU-T H.264 7.4.1 / H.265 7.4.2: `00 00 03` → `00 00`), so no unescaped copy is made.
 * Reusable: `reset()` points it at a new range, so a hot path keeps one instance.
 */
export class RbspReader {
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private end = 0;
  private zeros = 0;
  private cur = 0;
  private bitsLeft = 0;

  constructor(buf?: Uint8Array, start = 0, end = buf?.length ?? 0) {
    if (buf) this.reset(buf, start, end);
  }

  reset(buf: Uint8Array, start = 0, end = buf.length): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.zeros = 0;
    this.cur = 0;
    this.bitsLeft = 0;
    return this;
  }

  private nextByte(): number {
    if (this.pos >= this.end) throw new ProtocolError('RTS_ERR_BITSTREAM_TRUNCATED', 'bitstream ended early');
    let b = this.buf[this.pos++];
    if (this.zeros >= 2 && b === 3) {
      this.zeros = 0;
      if (this.pos >= this.end)
        throw new ProtocolError('RTS_ERR_BITSTREAM_TRUNCATED', 'bitstream ended early');
      b = this.buf[this.pos++];
    }
    this.zeros = b === 0 ? this.zeros + 1 : 0;
    return b;
  }

  /** One bit, u(1). */
  bit(): number {
    if (this.bitsLeft === 0) {
      this.cur = this.nextByte();
      this.bitsLeft = 8;
    }
    this.bitsLeft--;
    return (this.cur >> this.bitsLeft) & 1;
  }

  /** u(n), n ≤ 32. */
  bits(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.bit();
    return v;
  }

  skip(n: number): void {
    for (let i = 0; i < n; i++) this.bit();
  }

  /** ue(v), Exp-Golomb (H.264 9.1). */
  ue(): number {
    let lz = 0;
    while (this.bit() === 0) {
      if (++lz > 31) throw new ProtocolError('RTS_ERR_BITSTREAM_INVALID', 'exp-Golomb code too long');
    }
    return lz === 0 ? 0 : 2 ** lz - 1 + this.bits(lz);
  }

  /** se(v). */
  se(): number {
    const k = this.ue();
    return k & 1 ? (k + 1) / 2 : -(k / 2);
  }
}
