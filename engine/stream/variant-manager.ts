import {
  BUILTIN_TEMPLATES,
  parseVariantStreamName,
  Transcoder,
  type TranscodeTemplate,
} from '../../actors/transcoder/index.js';
import type { MediaFrame } from '../../media/frame/media-frame.js';
import type { FrameWire } from '../../transports/flv/frame-wire.js';
import type { Logger } from '../logging/logger.js';
import type { LiveStream } from './live-stream.js';
import type { StreamPlayer } from './stream-player.js';

/** What the variant manager needs of the node. */
export interface VariantHost {
  liveStream(key: string): LiveStream | undefined;
  openRelayedStream(key: string, app: string, name: string, domain: string, origin: string): LiveStream;
  endPublish(stream: LiveStream, reason: string): void;
  /** Players of a stream on every protocol (main-thread TCP players and the worker's HLS/RTS ones). */
  playersOf(key: string): Promise<number>;
}

/** Feeds a source stream's frames to a transcoder: a player of the source, on the main thread. */
class TranscoderTap implements StreamPlayer {
  readonly protocol = 'rtmp' as const;
  bytesOut = 0;
  constructor(
    readonly id: string,
    private readonly transcoder: Transcoder,
    private readonly onEnd: (reason: string) => void,
  ) {}
  deliver(frame: MediaFrame): void {
    // the transcoder copies what it keeps (FLV tags to ffmpeg's stdin)
    if (this.transcoder.push(frame)) this.bytesOut += frame.body.length;
  }
  deliverBatch(frames: readonly FrameWire[]): void {
    for (const w of frames) this.deliver(w.frame);
  }
  streamEnded(reason: string): void {
    this.onEnd(reason);
  }
}

interface Variant {
  key: string;
  source: LiveStream;
  stream: LiveStream;
  transcoder: Transcoder;
  tap: TranscoderTap;
  idleSince: number;
  /** Kept while its source lives, players or not (transcode.opusOnPublish). */
  keep: boolean;
}

/**
 * Transcoded variants `{stream}_{templateId}`: started on demand when a player asks for one
 * (or when RTS needs Opus from an AAC publisher), produced once per node whatever the number of
 * players, served on every protocol as an ordinary stream, stopped when nobody has played it for
 * `idleStopMs`. The transcoder actor's heavy work is the ffmpeg child process; its JS side sits
 * next to the ring writer on the main thread (docs/architecture.md).
 */
export class VariantManager {
  private readonly variants = new Map<string, Variant>();
  private readonly timer: NodeJS.Timeout;
  readonly templates: Map<string, TranscodeTemplate>;

  constructor(
    private readonly host: VariantHost,
    private readonly logger: Logger,
    extraTemplates: readonly TranscodeTemplate[] = [],
    private readonly idleStopMs = 15_000,
  ) {
    this.templates = new Map(BUILTIN_TEMPLATES);
    for (const t of extraTemplates) this.templates.set(t.id, t);
    this.timer = setInterval(() => void this.reapIdle(), Math.max(500, Math.min(5000, idleStopMs / 2)));
    this.timer.unref();
  }

  /** Splits a stream key `{domain}/{app}/{name}` into its parts. */
  private static split(key: string): { prefix: string; name: string } {
    const i = key.lastIndexOf('/');
    return { prefix: key.slice(0, i), name: key.slice(i + 1) };
  }

  /** The variant for a key like `_/live/cam_rts`, started if its source is live; undefined otherwise. */
  ensureByKey(key: string): LiveStream | undefined {
    const running = this.variants.get(key);
    if (running) return running.stream;
    const { prefix, name } = VariantManager.split(key);
    const parsed = parseVariantStreamName(name, this.templates);
    if (!parsed) return undefined;
    const source = this.host.liveStream(`${prefix}/${parsed.stream}`);
    if (!source || source.publisher.protocol === 'transcoder') return undefined;
    return this.start(source, parsed.template, key, name);
  }

  /**
   * The variant of `source` for a template (e.g. `audio-opus` for RTS of an AAC publisher); with
   * `keep` it is not stopped for want of players (it ends with its source).
   */
  ensure(source: LiveStream, templateId: string, opts: { keep?: boolean } = {}): LiveStream | undefined {
    const stream = this.ensureByKey(`${source.key}_${templateId}`);
    const v = this.variants.get(`${source.key}_${templateId}`);
    if (v && opts.keep) v.keep = true;
    return stream;
  }

  private start(source: LiveStream, template: TranscodeTemplate, key: string, name: string): LiveStream {
    const stream = this.host.openRelayedStream(
      key,
      source.app,
      name,
      source.domain,
      `transcoder:${template.id}`,
    );
    (stream.publisher as { protocol: string }).protocol = 'transcoder';
    const transcoder = new Transcoder({ template, logger: this.logger.child(`transcoder[${key}]`) });
    transcoder.on('frame', (f) => {
      try {
        stream.ingest(f.kind === 'video' ? 9 : f.kind === 'audio' ? 8 : 18, f.dts, f.body, f.config);
      } catch (err) {
        this.logger.warn('transcoder frame dropped', { stream: key, error: String(err) });
      }
    });
    transcoder.on('restart', (r) =>
      this.logger.warn('transcoder restarted', { stream: key, attempt: r.attempt, exitCode: r.exitCode }),
    );
    transcoder.on('error', (e) => this.logger.error('transcoder failed', { stream: key, error: e.message }));
    const tap = new TranscoderTap(`transcode-${key}`, transcoder, (reason) =>
      this.stop(key, `source ended: ${reason}`),
    );
    const v: Variant = { key, source, stream, transcoder, tap, idleSince: Date.now(), keep: false };
    this.variants.set(key, v);
    transcoder.start();
    source.addPlayer(tap);
    this.logger.info('transcoded variant started', { stream: key, template: template.id });
    return stream;
  }

  stop(key: string, reason: string): void {
    const v = this.variants.get(key);
    if (!v) return;
    this.variants.delete(key);
    v.source.removePlayer(v.tap);
    v.transcoder.close();
    this.host.endPublish(v.stream, reason);
    this.logger.info('transcoded variant stopped', { stream: key, reason });
  }

  get running(): string[] {
    return [...this.variants.keys()];
  }

  private async reapIdle(): Promise<void> {
    const now = Date.now();
    for (const v of [...this.variants.values()]) {
      if (v.keep) continue;
      let players = 0;
      try {
        players = await this.host.playersOf(v.key);
      } catch {
        continue;
      }
      if (players > 0) v.idleSince = now;
      else if (now - v.idleSince >= this.idleStopMs) this.stop(v.key, 'no players');
    }
  }

  close(): void {
    clearInterval(this.timer);
    for (const key of [...this.variants.keys()]) this.stop(key, 'node shutting down');
  }
}
