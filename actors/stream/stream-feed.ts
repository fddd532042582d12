import type { PacketRingView } from '../../engine/memory/packet-ring.js';
import type { MediaFrame } from '../../media/frame/media-frame.js';
import type { StreamAnalysis } from './stream-analyzer.js';

/**
 * A stream as consumers on a worker thread see it: one follower of the shared ring per stream,
 * fanned out to subscribers (HLS muxer, RTP packetizer, relay, transcoder). A subscriber starts
 * with the codec config frames and the current GOP, replayed synchronously, then live frames.
 */
export interface StreamFeed {
  subscribe(onFrame: (frame: MediaFrame) => void, onEnd: (reason: string) => void): () => void;
  readonly info: StreamAnalysis;
}

interface Subscriber {
  onFrame: (frame: MediaFrame) => void;
  onEnd: (reason: string) => void;
}

export class StreamFeedHub implements StreamFeed {
  private readonly subs = new Set<Subscriber>();
  private ended = false;
  /** Listener errors, contained (never thrown into the packet path). */
  listenerErrors = 0;

  constructor(
    private readonly ring: PacketRingView,
    private readonly infoOf: () => StreamAnalysis,
    /** The next sequence the follower will push: replay stops there so nothing is seen twice. */
    private readonly livePos: () => number,
  ) {}

  get info(): StreamAnalysis {
    return this.infoOf();
  }

  get size(): number {
    return this.subs.size;
  }

  subscribe(onFrame: (frame: MediaFrame) => void, onEnd: (reason: string) => void): () => void {
    const sub: Subscriber = { onFrame, onEnd };
    if (this.ended) {
      onEnd('ended');
      return () => {};
    }
    const { configs, fromSeq } = this.ring.startFrames();
    try {
      for (const c of configs) onFrame(c);
      const end = this.livePos();
      for (let seq = fromSeq; seq < end; seq++) {
        const f = this.ring.frame(seq);
        if (f && !f.config) onFrame(f);
      }
    } catch {
      this.listenerErrors++;
    }
    this.subs.add(sub);
    return () => {
      this.subs.delete(sub);
    };
  }

  /** Called by the stream's ring follower, once per frame. */
  push(frame: MediaFrame): void {
    for (const s of this.subs) {
      try {
        s.onFrame(frame);
      } catch {
        this.listenerErrors++;
      }
    }
  }

  end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const s of [...this.subs]) {
      try {
        s.onEnd(reason);
      } catch {
        this.listenerErrors++;
      }
    }
    this.subs.clear();
  }
}
