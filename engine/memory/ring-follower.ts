import type { MediaFrame } from '../../media/frame/media-frame.js';
import { PacketRingReader, type PacketRingView } from './packet-ring.js';

/**
 * Follows a ring from another thread than the writer's: wakes on the writer's `Atomics.notify`
 * (waitAsync, so the thread's event loop keeps running), hands each new frame to `onFrame` in
 * order, and reports the end of the stream. A follower that was overrun resumes at the latest
 * keyframe (PacketRingReader) and counts what it skipped.
 */
export class RingFollower {
  private readonly reader: PacketRingReader;
  private stopped = false;
  private waiting = false;
  /** Longest wait before re-checking (guards against a missed notify). */
  static readonly POLL_MS = 250;
  /** Longest run of frames handed out in one go before letting the thread's event loop turn. */
  static readonly SLICE_MS = 20;

  constructor(
    readonly ring: PacketRingView,
    private readonly onFrame: (frame: MediaFrame) => void,
    private readonly onEnd: () => void,
    fromSeq?: number,
  ) {
    this.reader = new PacketRingReader(ring, fromSeq);
  }

  get skipped(): number {
    return this.reader.skipped;
  }

  /** The next sequence this follower will hand out. */
  get position(): number {
    return this.reader.position;
  }

  start(): void {
    this.pump();
  }

  stop(): void {
    this.stopped = true;
  }

  private pump(): void {
    if (this.stopped) return;
    const signal = this.ring.signal;
    const started = performance.now();
    for (;;) {
      const f = this.reader.next();
      if (!f) break;
      this.onFrame(f);
      if (this.stopped) return;
      // Behind (a fan-out slower than the frame rate): the thread's messages, timers and native
      // callbacks must still run (found by rts bench --protocol whep at 500 viewers).
      if (performance.now() - started > RingFollower.SLICE_MS) {
        setImmediate(() => this.pump());
        return;
      }
    }
    if (this.ring.ended) {
      this.stopped = true;
      this.onEnd();
      return;
    }
    if (this.waiting) return;
    this.waiting = true;
    const w = Atomics.waitAsync(this.ring.signalArray, 0, signal, RingFollower.POLL_MS);
    const resume = () => {
      this.waiting = false;
      this.pump();
    };
    if (w.async) void w.value.then(resume);
    // More frames came meanwhile: go on after the event loop's I/O turn, not in a microtask (same reason).
    else setImmediate(resume);
  }
}
