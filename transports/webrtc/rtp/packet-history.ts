/**
 * Per-stream ring of the RTP packets sent most recently (all viewers share it): NACKs are
 * answered from it and a new viewer (or a PLI) is started from the GOP it holds. Packets are
 * addressed by a monotonic absolute index, never by a sequence number (each viewer has its own).
 */
export class PacketHistory {
  readonly capacity: number;
  private readonly packets: (Buffer | undefined)[];
  private readonly timestamps: Uint32Array;
  private next = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 16) throw new RangeError('history capacity below 16');
    this.capacity = capacity;
    this.packets = new Array(capacity);
    this.timestamps = new Uint32Array(capacity);
  }

  /** Absolute index the next push gets. */
  get head(): number {
    return this.next;
  }

  /** Oldest index still held. */
  get tail(): number {
    return Math.max(0, this.next - this.capacity);
  }

  push(pkt: Buffer, timestamp: number): number {
    const i = this.next++;
    this.packets[i % this.capacity] = pkt;
    this.timestamps[i % this.capacity] = timestamp;
    return i;
  }

  has(index: number): boolean {
    return index >= this.tail && index < this.next;
  }

  get(index: number): Buffer | undefined {
    return this.has(index) ? this.packets[index % this.capacity] : undefined;
  }

  /** The stream RTP timestamp the packet was built with (its header is patched per viewer). */
  timestampOf(index: number): number {
    return this.timestamps[index % this.capacity];
  }

  clear(): void {
    this.packets.fill(undefined);
  }
}
