/**
 * Origin → edge relay of one stream over any Bus (LocalBus in one process, NatsBus across nodes).
 *
 * Subjects (stream key encoded as one token, see `encodeSubjectToken`):
 * - `{prefix}.media.{key}`: every frame, published ONCE by the origin whatever the number of
 *   edges (NATS fans out), as frame-codec parts.
 * - `{prefix}.ctl.gop.{key}`: request `{ inbox }` → the origin publishes the config frames and
 *   the current GOP to `inbox`, then replies `{ parts, nextSeq }` (the snapshot may exceed
 *   max_payload, so it travels as ordinary parts; the reply says how many to expect).
 * - `{prefix}.ctl.snap.{key}.{nonce}`: the edge's snapshot inbox.
 *
 * The edge subscribes to the live subject first, buffers it while it fetches the snapshot, then
 * delivers config + GOP + live frames from `nextSeq` on, so a player starts at once on a keyframe.
 * After a loss it skips video until the next keyframe (audio and config frames pass).
 */

import { DEFAULT_MAX_PAYLOAD } from '../../engine/bus/bus-extensions.js';
import { decodeMessage, encodeMessage } from '../../engine/bus/codec.js';
import { encodeSubjectToken } from '../../engine/bus/subject.js';
import type { Bus, BusMessage, BusSubscription } from '../../engine/bus/types.js';
import { InvalidStateError, TimeoutError } from '../../engine/errors.js';
import { type Logger, silentLogger } from '../../engine/logging/logger.js';
import type { MediaFrame } from '../../media/frame/media-frame.js';
import { type DecodedFrame, decodeFrameHeader, encodeFrameParts, FrameReassembler } from './frame-codec.js';

export interface RelaySubjects {
  readonly media: string;
  readonly gop: string;
  readonly snapshotPrefix: string;
}

export function relaySubjects(streamKey: string, prefix = 'rts'): RelaySubjects {
  const tok = encodeSubjectToken(streamKey);
  return {
    media: `${prefix}.media.${tok}`,
    gop: `${prefix}.ctl.gop.${tok}`,
    snapshotPrefix: `${prefix}.ctl.snap.${tok}`,
  };
}

/** Snapshot request and reply bodies (msgpackr). */
interface SnapshotRequest {
  readonly inbox: string;
}
interface SnapshotReply {
  readonly parts: number;
  readonly nextSeq: number;
}

/** A GOP larger than this is not cached (an edge then waits for the next keyframe). */
export const DEFAULT_MAX_GOP_BYTES = 32 * 1024 * 1024;

export interface RelayPublisherOptions {
  streamKey: string;
  prefix?: string;
  /** Defaults to the bus' `maxPayload` when it has one, else 1 MiB. */
  maxPayload?: number;
  maxGopBytes?: number;
  logger?: Logger;
}

/** The origin half: publishes each frame once and answers snapshot requests. */
export class RelayPublisher {
  readonly subjects: RelaySubjects;
  readonly #bus: Bus;
  readonly #maxPayload: number;
  readonly #maxGopBytes: number;
  readonly #logger: Logger;
  readonly #ctlSub: BusSubscription;
  /** Starts at a random value so that a restarted origin is seen as a discontinuity, not loss. */
  #seq = (Math.random() * 2 ** 32) >>> 0;
  /** Encoded parts (already copies: frames are views we must not retain). */
  #configs = new Map<string, Uint8Array[]>();
  #gop: Uint8Array[][] = [];
  #gopBytes = 0;
  #gopOpen = false;
  #closed = false;
  framesPublished = 0;
  bytesPublished = 0;
  snapshotsServed = 0;
  /** Frames not sent (the bus was down): edges see a sequence gap and resync at a keyframe. */
  framesSkipped = 0;

  constructor(bus: Bus, opts: RelayPublisherOptions) {
    this.#bus = bus;
    this.subjects = relaySubjects(opts.streamKey, opts.prefix);
    this.#maxPayload =
      opts.maxPayload ?? (bus as Partial<{ maxPayload: number }>).maxPayload ?? DEFAULT_MAX_PAYLOAD;
    this.#maxGopBytes = opts.maxGopBytes ?? DEFAULT_MAX_GOP_BYTES;
    this.#logger = (opts.logger ?? silentLogger).child(`relay-pub[${opts.streamKey}]`);
    this.#ctlSub = bus.subscribe(this.subjects.gop, { callback: (m) => this.#onSnapshotRequest(m) });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The seq the next frame will carry. */
  get nextSeq(): number {
    return this.#seq;
  }

  publish(frame: MediaFrame): void {
    if (this.#closed) throw new InvalidStateError('relay publisher is closed');
    const parts = encodeFrameParts(frame, this.#maxPayload, this.#seq);
    this.#seq = (this.#seq + 1) >>> 0;
    for (const p of parts) {
      this.#bus.publish(this.subjects.media, p);
      this.bytesPublished += p.length;
    }
    this.framesPublished++;
    this.#remember(frame, parts);
  }

  /**
   * A frame that is not sent (the bus is down, or sending failed): it still takes a sequence
   * number, so edges see the gap and resync at the next keyframe, and it still enters the
   * GOP cache, so a snapshot after the outage is current.
   */
  skip(frame: MediaFrame): void {
    if (this.#closed) throw new InvalidStateError('relay publisher is closed');
    const parts = encodeFrameParts(frame, this.#maxPayload, this.#seq);
    this.#seq = (this.#seq + 1) >>> 0;
    this.framesSkipped++;
    this.#remember(frame, parts);
  }

  #remember(frame: MediaFrame, parts: Uint8Array[]): void {
    if (frame.config) {
      this.#configs.set(frame.kind, parts);
      return;
    }
    if (frame.kind === 'video' && frame.key) {
      this.#gop = [parts];
      this.#gopBytes = frame.body.length;
      this.#gopOpen = true;
      return;
    }
    if (!this.#gopOpen) return;
    this.#gopBytes += frame.body.length;
    if (this.#gopBytes > this.#maxGopBytes) {
      this.#logger.warn('GOP too large to cache; edges will wait for the next keyframe', {
        bytes: this.#gopBytes,
      });
      this.#gop = [];
      this.#gopBytes = 0;
      this.#gopOpen = false;
      return;
    }
    this.#gop.push(parts);
  }

  #onSnapshotRequest(msg: BusMessage): void {
    if (this.#closed || msg.reply === undefined) return;
    let req: SnapshotRequest;
    try {
      req = decodeMessage<SnapshotRequest>(msg.data);
      if (typeof req?.inbox !== 'string') throw new TypeError('no inbox');
    } catch (err) {
      this.#logger.warn('bad snapshot request', { err: String(err) });
      return;
    }
    let n = 0;
    for (const parts of [...this.#configs.values(), ...this.#gop]) {
      for (const p of parts) {
        this.#bus.publish(req.inbox, p);
        n++;
      }
    }
    const reply: SnapshotReply = { parts: n, nextSeq: this.#seq };
    this.#bus.respond(msg, encodeMessage(reply));
    this.snapshotsServed++;
  }

  /** Stops answering snapshots and drops the cache. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ctlSub.unsubscribe();
    this.#configs.clear();
    this.#gop = [];
  }
}

export interface RelaySubscriberOptions {
  streamKey: string;
  prefix?: string;
  /** Frames in order; `body`/`payload` are views valid during the call only. */
  onFrame: (frame: DecodedFrame) => void;
  /** Frames missing on the live subject (aggregate them before logging). */
  onLoss?: (lost: number) => void;
  snapshotTimeoutMs?: number;
  /** Live parts buffered while the snapshot is fetched; the oldest are dropped past it. */
  maxBufferedParts?: number;
  logger?: Logger;
}

let nonceCounter = 0;

/** The edge half: snapshot first, then live frames in order, with loss detection and resync. */
export class RelaySubscriber {
  readonly subjects: RelaySubjects;
  readonly #bus: Bus;
  readonly #opts: RelaySubscriberOptions;
  readonly #logger: Logger;
  readonly #reassembler: FrameReassembler;
  #liveSub: BusSubscription | undefined;
  #phase: 'idle' | 'snapshot' | 'live' | 'closed' = 'idle';
  #buffered: Uint8Array[] = [];
  #needKeyframe = false;
  #sawVideo = false;
  framesDelivered = 0;
  /** Live frames missing (sequence gaps). */
  lost = 0;
  /** Video frames skipped while waiting for a keyframe after a loss. */
  skipped = 0;
  /** Keyframes at which delivery resumed after a loss. */
  resyncs = 0;
  /** Live parts dropped because the pre-snapshot buffer was full. */
  bufferOverflows = 0;

  constructor(bus: Bus, opts: RelaySubscriberOptions) {
    this.#bus = bus;
    this.#opts = opts;
    this.subjects = relaySubjects(opts.streamKey, opts.prefix);
    this.#logger = (opts.logger ?? silentLogger).child(`relay-sub[${opts.streamKey}]`);
    this.#reassembler = new FrameReassembler({
      onLoss: (n) => this.#onLoss(n),
      onDiscontinuity: () => {
        this.#logger.info('origin restarted (sequence discontinuity)');
        this.#needKeyframe = this.#sawVideo;
      },
    });
  }

  get closed(): boolean {
    return this.#phase === 'closed';
  }

  /**
   * Subscribes, fetches the config + GOP snapshot, delivers it, then goes live. Rejects with
   * NoRespondersError (no origin), TimeoutError, or InvalidStateError if closed meanwhile;
   * the subscriber is then closed.
   */
  async start(): Promise<{ snapshotFrames: number }> {
    if (this.#phase !== 'idle') throw new InvalidStateError(`relay subscriber already ${this.#phase}`);
    this.#phase = 'snapshot';
    const inbox = `${this.subjects.snapshotPrefix}.${process.pid.toString(36)}${(++nonceCounter).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const snapParts: Uint8Array[] = [];
    let snapSub: BusSubscription | undefined;
    try {
      this.#liveSub = this.#bus.subscribe(this.subjects.media, { callback: (m) => this.#onLivePart(m.data) });
      snapSub = this.#bus.subscribe(inbox, { callback: (m) => snapParts.push(m.data) });
      const timeoutMs = this.#opts.snapshotTimeoutMs ?? 3000;
      const deadline = Date.now() + timeoutMs;
      const replyMsg = await this.#bus.request(
        this.subjects.gop,
        encodeMessage({ inbox } satisfies SnapshotRequest),
        {
          timeoutMs,
        },
      );
      const reply = decodeMessage<SnapshotReply>(replyMsg.data);
      while (snapParts.length < reply.parts) {
        if (this.closed) throw new InvalidStateError('relay subscriber closed during start');
        if (Date.now() > deadline) {
          throw new TimeoutError(`snapshot: ${snapParts.length}/${reply.parts} parts after ${timeoutMs} ms`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      snapSub.unsubscribe();
      if (this.closed) throw new InvalidStateError('relay subscriber closed during start');
      const snapshotFrames = this.#deliverSnapshot(snapParts);
      this.#goLive(reply.nextSeq >>> 0);
      return { snapshotFrames };
    } catch (err) {
      snapSub?.unsubscribe();
      this.close();
      throw err;
    }
  }

  #deliverSnapshot(parts: Uint8Array[]): number {
    // Config frames carry old seqs: reassemble each frame on its own.
    const r = new FrameReassembler({ maxPendingFrames: 1 });
    let lastSeq: number | undefined;
    let n = 0;
    for (const p of parts) {
      const seq = decodeFrameHeader(p, 0).value.seq;
      if (seq !== lastSeq) r.reset();
      lastSeq = seq;
      const f = r.push(p);
      if (f !== undefined) {
        this.#deliver(f);
        n++;
      }
    }
    return n;
  }

  #goLive(nextSeq: number): void {
    this.#reassembler.expect(nextSeq);
    const buffered = this.#buffered;
    this.#buffered = [];
    this.#phase = 'live';
    for (const p of buffered) {
      let seq: number;
      try {
        seq = decodeFrameHeader(p, 0).value.seq;
      } catch {
        continue;
      }
      // Frames before nextSeq are in the snapshot already.
      const behind = (nextSeq - seq) >>> 0;
      if (behind > 0 && behind < 2 ** 31) continue;
      this.#onLivePart(p);
    }
  }

  #onLivePart(part: Uint8Array): void {
    switch (this.#phase) {
      case 'snapshot': {
        this.#buffered.push(part);
        if (this.#buffered.length > (this.#opts.maxBufferedParts ?? 10_000)) {
          this.#buffered.shift();
          this.bufferOverflows++;
        }
        return;
      }
      case 'live': {
        const f = this.#reassembler.push(part);
        if (f === undefined) return;
        if (this.#needKeyframe && f.kind === 'video' && !f.config) {
          if (!f.key) {
            this.skipped++;
            return;
          }
          this.#needKeyframe = false;
          this.resyncs++;
        }
        this.#deliver(f);
        return;
      }
      default: {
        return;
      }
    }
  }

  #deliver(f: DecodedFrame): void {
    if (f.kind === 'video') this.#sawVideo = true;
    this.framesDelivered++;
    try {
      this.#opts.onFrame(f);
    } catch (err) {
      this.#logger.error('onFrame threw', { err: String(err) });
    }
  }

  #onLoss(n: number): void {
    this.lost += n;
    if (this.#sawVideo) this.#needKeyframe = true;
    try {
      this.#opts.onLoss?.(n);
    } catch (err) {
      this.#logger.error('onLoss threw', { err: String(err) });
    }
  }

  /** Stops delivery. Idempotent. */
  close(): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'closed';
    this.#liveSub?.unsubscribe();
    this.#buffered = [];
  }
}
