import { InvalidStateError, RtsError } from '../../engine/errors.js';
import { type Logger, silentLogger } from '../../engine/logging/logger.js';
import {
  type AudioConfigInfo,
  describeAudioConfig,
  describeVideoConfig,
  type VideoConfigInfo,
} from '../../media/codec/analyze.js';
import type { InitTrack } from '../../media/fmp4/init-segment.js';
import type { AudioCodec, MediaFrame, VideoCodec } from '../../media/frame/media-frame.js';
import { AUDIO_TRACK_ID, LlSegmenter, VIDEO_TIMESCALE, VIDEO_TRACK_ID } from './ll-segmenter.js';
import { targetDurationOf, writeClassicPlaylist, writeLlPlaylist } from './playlist-writer.js';
import { TsSegmenter } from './ts-segmenter.js';
import {
  DEFAULT_HLS_CONFIG,
  type HlsConfig,
  type HlsHandleOptions,
  type HlsRequest,
  type HlsResponse,
  type HlsSegment,
} from './types.js';

/** Audio alone for this long with no video sequence header: the stream is audio-only. */
export const AUDIO_ONLY_AFTER_MS = 1000;
/** A keyframe this close to the target (ms) already cuts the segment. */
const CUT_TOLERANCE_MS = 50;

const MPEGURL = 'application/vnd.apple.mpegurl';
const CORS = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'Content-Length' };

export interface HlsMuxerOptions extends Partial<HlsConfig> {
  /** The stream name: playlist paths are `{stream}.m3u8` and `{stream}/ll.m3u8`. */
  stream: string;
  logger?: Logger;
  /** Wall clock for PROGRAM-DATE-TIME when frames carry no ingestTime. */
  now?: () => number;
}

interface Waiter {
  msn: number;
  part: number;
  resolve: (r: HlsResponse) => void;
  timer: ReturnType<typeof setTimeout>;
  render: () => HlsResponse;
  /** Waiters with the same key get the same response, rendered once per wake-up. */
  key: string;
}

function text(status: number, body: string): HlsResponse {
  return {
    status,
    headers: { ...CORS, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' },
    body,
  };
}

/**
 * One per stream: fed every MediaFrame once, whatever the number of players, it keeps the
 * classic TS playlist and the LL-HLS fMP4 playlist (segments, parts) in memory and answers
 * HTTP-agnostic requests, including LL-HLS blocking playlist reloads.
 *
 * Paths (relative to `/{app}/`): `{s}.m3u8`, `{s}/seg-{msn}.ts`, `{s}/ll.m3u8`,
 * `{s}/ll/init-{id}.mp4`, `{s}/ll/seg-{msn}.m4s`, `{s}/ll/part-{msn}.{part}.m4s`.
 */
export class HlsMuxer {
  readonly config: Readonly<HlsConfig>;
  readonly stream: string;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly ts: TsSegmenter;
  private readonly ll: LlSegmenter;

  private videoCodec: VideoCodec | undefined;
  private audioCodec: AudioCodec | undefined;
  private videoConfig: Uint8Array | undefined;
  private audioConfig: Uint8Array | undefined;
  private videoInfo: VideoConfigInfo | undefined;
  private audioInfo: AudioConfigInfo | undefined;
  private tracksDirty = true;
  private firstAudioDts = -1;
  private audioOnly = false;

  private msn = 0;
  /** Segments cut since the muxer (re)started or the last discontinuity. */
  private segmentsSinceStart = 0;
  private segOpen = false;
  private segStartDts = 0;
  private lastVideoDts = -1;
  private lastFrameGap = 40;
  private wallAnchor: number | undefined;

  private readonly tsSegments: HlsSegment[] = [];
  private readonly llSegments: HlsSegment[] = [];
  private tsDiscontinuitySeq = 0;
  private llDiscontinuitySeq = 0;
  private readonly inits = new Map<number, Uint8Array>();
  private maxTsMs = 0;
  private maxLlMs = 0;
  private ended = false;
  private isClosed = false;
  /** True inside cutSegment(): wake-ups wait until the cut is complete. */
  private cutting = false;
  private readonly waiters = new Set<Waiter>();
  /** Frames dropped (before the first keyframe, unsupported codec, malformed): counted, not logged per frame. */
  dropped = 0;

  constructor(opts: HlsMuxerOptions) {
    const { stream, logger, now, ...cfg } = opts;
    const merged = { ...DEFAULT_HLS_CONFIG, ...cfg };
    if (cfg.blockingTimeoutMs === undefined) merged.blockingTimeoutMs = merged.targetDurationMs * 3;
    this.config = Object.freeze(merged);
    this.stream = stream;
    this.log = logger ?? silentLogger;
    this.now = now ?? Date.now;
    this.ts = new TsSegmenter();
    this.ll = new LlSegmenter(this.config.partTargetMs);
    this.ll.onPart = () => this.wake();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** RFC 6381 codecs of the stream (for a multivariant playlist), e.g. `avc1.64001f,mp4a.40.2`. */
  get codecs(): string {
    return [this.videoInfo?.codecString, this.audioInfo?.codecString].filter(Boolean).join(',');
  }

  get mediaSequence(): number {
    return this.msn;
  }

  /** Feeds one frame. Never throws for bad media: such frames are dropped and counted. */
  push(frame: MediaFrame): void {
    if (this.isClosed) throw new InvalidStateError('HlsMuxer is closed');
    if (this.ended) return;
    try {
      if (frame.kind === 'video') this.pushVideo(frame);
      else if (frame.kind === 'audio') this.pushAudio(frame);
    } catch (err) {
      this.dropped++;
      if (!(err instanceof RtsError) && !(err instanceof RangeError)) throw err;
      if (this.dropped === 1 || this.dropped % 1000 === 0) {
        this.log.warn('hls frame dropped', {
          stream: this.stream,
          dropped: this.dropped,
          code: (err as RtsError).code,
          error: err.message,
        });
      }
    }
  }

  private wallOf(frame: MediaFrame): number {
    if (this.wallAnchor === undefined) this.wallAnchor = (frame.ingestTime || this.now()) - frame.dts;
    return this.wallAnchor + frame.dts;
  }

  private pushVideo(f: MediaFrame): void {
    const codec = f.codec as VideoCodec;
    if (f.config) {
      if (codec !== 'h264' && codec !== 'h265') {
        this.dropped++;
        return;
      }
      if (this.videoConfig && this.videoCodec === codec && bytesEqual(this.videoConfig, f.payload)) return;
      const info = describeVideoConfig(codec, f.payload);
      if (this.videoConfig || this.audioOnly) this.discontinuity();
      this.videoCodec = codec;
      this.videoConfig = f.payload.slice();
      this.videoInfo = info;
      this.ts.muxer.setVideoConfig(codec, this.videoConfig);
      this.audioOnly = false;
      this.tracksDirty = true;
      return;
    }
    if (!this.videoConfig || codec !== this.videoCodec || f.payload.length === 0) {
      this.dropped++;
      return;
    }
    if (this.lastVideoDts >= 0 && f.dts > this.lastVideoDts) this.lastFrameGap = f.dts - this.lastVideoDts;
    this.lastVideoDts = f.dts;
    if (!this.segOpen) {
      if (!f.key) {
        this.dropped++;
        return;
      }
      this.startSegment(f);
    } else if (f.key && f.dts - this.segStartDts >= this.cutAfterMs()) {
      // The keyframe opens the next segment: LL needs it first, to commit the previous held-back sample.
      if (this.config.llhls) this.ll.addVideo(f.dts, f.pts, f.key, f.payload);
      this.cutSegment(f.dts, f);
      if (this.config.ts) this.ts.video(f.payload, f.dts, f.pts, f.key);
      return;
    }
    if (this.config.ts) this.ts.video(f.payload, f.dts, f.pts, f.key);
    if (this.config.llhls) this.ll.addVideo(f.dts, f.pts, f.key, f.payload);
  }

  private pushAudio(f: MediaFrame): void {
    const codec = f.codec as AudioCodec;
    if (f.config) {
      if (this.audioConfig && this.audioCodec === codec && bytesEqual(this.audioConfig, f.payload)) return;
      const info = describeAudioConfig(codec, f.payload);
      if (this.audioConfig || this.segOpen) this.discontinuity();
      this.audioCodec = codec;
      this.audioConfig = f.payload.slice();
      this.audioInfo = info;
      if (codec === 'aac' || codec === 'mp3') this.ts.muxer.setAudioConfig(codec, this.audioConfig);
      this.tracksDirty = true;
      return;
    }
    if (codec === 'mp3' && !this.audioCodec) {
      // MP3 has no sequence header: its first frame describes it.
      this.audioCodec = 'mp3';
      this.audioInfo = describeAudioConfig('mp3', f.payload);
      this.ts.muxer.setAudioConfig('mp3');
      this.tracksDirty = true;
    }
    if (!this.audioCodec || codec !== this.audioCodec) {
      this.dropped++;
      return;
    }
    if (!this.videoConfig && !this.audioOnly) {
      if (this.firstAudioDts < 0) this.firstAudioDts = f.dts;
      if (f.dts - this.firstAudioDts < AUDIO_ONLY_AFTER_MS) {
        this.dropped++;
        return;
      }
      this.audioOnly = true;
      this.tracksDirty = true;
    }
    if (this.audioOnly) {
      if (!this.segOpen) this.startSegment(f);
      else if (f.dts - this.segStartDts >= this.config.targetDurationMs - CUT_TOLERANCE_MS) {
        this.cutSegment(f.dts, f, false);
      }
    } else if (!this.segOpen) {
      this.dropped++;
      return;
    }
    if (this.config.ts && this.ts.muxer.hasAudio) this.ts.audio(f.payload, f.dts);
    if (this.config.llhls) this.ll.addAudio(f.dts, f.payload);
  }

  private buildTracks(): void {
    const tracks: InitTrack[] = [];
    const v = this.videoInfo;
    if (
      !this.audioOnly &&
      v &&
      this.videoConfig &&
      (this.videoCodec === 'h264' || this.videoCodec === 'h265')
    ) {
      tracks.push({
        kind: 'video',
        trackId: VIDEO_TRACK_ID,
        codec: this.videoCodec,
        timescale: VIDEO_TIMESCALE,
        width: v.width,
        height: v.height,
        config: this.videoConfig,
      });
    }
    const a = this.audioInfo;
    if (a && this.audioConfig && (this.audioCodec === 'aac' || this.audioCodec === 'opus')) {
      tracks.push({
        kind: 'audio',
        trackId: AUDIO_TRACK_ID,
        codec: this.audioCodec,
        timescale: this.audioCodec === 'opus' ? 48000 : a.sampleRate,
        sampleRate: a.sampleRate,
        channels: a.channels,
        config: this.audioConfig,
      });
    }
    this.ll.setTracks(tracks);
    if (this.ll.init) this.inits.set(this.ll.initId, this.ll.init);
    // Keep only the init segments still referenced.
    const live = new Set([this.ll.initId, ...this.llSegments.map((s) => s.initId)]);
    for (const id of this.inits.keys()) if (!live.has(id)) this.inits.delete(id);
    this.tracksDirty = false;
  }

  /**
   * A keyframe at least this far (ms) into the open segment cuts it. The first segment after a
   * (re)start is cut at the next keyframe whatever its length: a muxer started on demand begins
   * with the stream's cached GOP, and a player (hls.js) needs one whole segment in its first
   * playlist, so a short first segment lists sooner. Later segments follow the target.
   */
  private cutAfterMs(): number {
    if (this.segmentsSinceStart === 0)
      return Math.min(this.config.partTargetMs, this.config.targetDurationMs);
    return this.config.targetDurationMs - CUT_TOLERANCE_MS;
  }

  private startSegment(f: MediaFrame, afterCut = false): void {
    if (this.tracksDirty && !afterCut && this.config.llhls) this.buildTracks();
    this.segOpen = true;
    this.segStartDts = f.dts;
    const wall = this.wallOf(f);
    if (this.config.ts) this.ts.start(f.dts, wall);
    if (this.config.llhls) this.ll.start(wall);
  }

  /**
   * Closes the open segment at `endDts` (the next segment's first frame), or at its last frame.
   * With `next`, the next segment opens on that frame before blocked requests are answered, so the
   * playlist they get already lists the new segment's preload hint.
   */
  private cutSegment(endDts?: number, next?: MediaFrame, afterCut = true): void {
    if (!this.segOpen) return;
    this.segOpen = false;
    this.cutting = true;
    this.segmentsSinceStart++;
    const msn = this.msn++;
    if (this.config.ts) {
      const seg = this.ts.finish(msn, endDts, this.lastFrameGap);
      if (seg) {
        this.tsSegments.push(seg);
        this.maxTsMs = Math.max(this.maxTsMs, seg.durationMs);
        this.trim(this.tsSegments, 'ts');
      }
    }
    if (this.config.llhls) {
      if (endDts === undefined) this.ll.drain();
      const seg = this.ll.finish(msn);
      if (seg) {
        this.llSegments.push(seg);
        this.maxLlMs = Math.max(this.maxLlMs, seg.durationMs);
        this.trim(this.llSegments, 'll');
      }
    }
    if (next) this.startSegment(next, afterCut);
    this.cutting = false;
    this.wake();
  }

  private trim(list: HlsSegment[], which: 'ts' | 'll'): void {
    const keep = this.config.windowSegments + this.config.extraSegmentsKept;
    while (list.length > keep) {
      const gone = list.shift();
      if (gone?.discontinuity) {
        if (which === 'ts') this.tsDiscontinuityBase++;
        else this.llDiscontinuityBase++;
      }
    }
    // Segments beyond the window stay fetchable, but only the last few keep their parts.
    if (which === 'll') for (let i = 0; i < list.length - 3; i++) list[i].parts = undefined;
    // EXT-X-DISCONTINUITY-SEQUENCE counts the discontinuity tags that have left the playlist.
    const firstVisible = Math.max(0, list.length - this.config.windowSegments);
    let d = 0;
    for (let i = 0; i < firstVisible; i++) if (list[i].discontinuity) d++;
    if (which === 'ts') this.tsDiscontinuitySeq = this.tsDiscontinuityBase + d;
    else this.llDiscontinuitySeq = this.llDiscontinuityBase + d;
  }

  private tsDiscontinuityBase = 0;
  private llDiscontinuityBase = 0;

  private visible(list: HlsSegment[]): HlsSegment[] {
    return list.slice(Math.max(0, list.length - this.config.windowSegments));
  }

  /**
   * Publisher reconnect or codec change: closes the open segment; the next one starts with
   * EXT-X-DISCONTINUITY (and a new EXT-X-MAP when the tracks changed).
   */
  discontinuity(): void {
    if (this.isClosed) return;
    this.cutSegment();
    this.ts.markDiscontinuity();
    this.ll.markDiscontinuity();
    this.wallAnchor = undefined;
    this.segmentsSinceStart = 0;
    this.lastVideoDts = -1;
    this.firstAudioDts = -1;
    this.tracksDirty = true;
  }

  /** End of stream (after the engine's grace period): closes the segment, appends EXT-X-ENDLIST. */
  end(): void {
    if (this.isClosed || this.ended) return;
    this.cutSegment();
    this.ended = true;
    this.wake();
  }

  /** Releases everything; blocked requests are answered 404. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(text(404, 'stream closed'));
    }
    this.waiters.clear();
    this.tsSegments.length = 0;
    this.llSegments.length = 0;
    this.inits.clear();
  }

  // ---- requests ---------------------------------------------------------------------------

  /** Answers one request for this stream's playlists, segments or parts. */
  handle(req: HlsRequest, opts: HlsHandleOptions = {}): Promise<HlsResponse> {
    if (this.isClosed) return Promise.resolve(text(404, 'stream closed'));
    const q = (opts.childQuery ?? '').replace(/^\?/, '');
    const s = this.stream;
    const path = req.path.replace(/^\/+/, '');
    if (path === `${s}.m3u8`) return Promise.resolve(this.classicPlaylist(q));
    if (!path.startsWith(`${s}/`)) return Promise.resolve(text(404, 'not found'));
    const rest = path.slice(s.length + 1);
    if (rest === 'll.m3u8') return this.llPlaylistRequest(req.query, q);
    let m = /^seg-(\d+)\.ts$/.exec(rest);
    if (m) return Promise.resolve(this.segment(this.tsSegments, Number(m[1]), 'video/mp2t'));
    m = /^ll\/seg-(\d+)\.m4s$/.exec(rest);
    if (m) return Promise.resolve(this.segment(this.llSegments, Number(m[1]), 'video/mp4'));
    m = /^ll\/init-(\d+)\.mp4$/.exec(rest);
    if (m) {
      const init = this.inits.get(Number(m[1]));
      return Promise.resolve(init ? media(init, 'video/mp4') : text(404, 'no such init segment'));
    }
    m = /^ll\/part-(\d+)\.(\d+)\.m4s$/.exec(rest);
    if (m) return this.partRequest(Number(m[1]), Number(m[2]));
    return Promise.resolve(text(404, 'not found'));
  }

  private classicPlaylist(q: string): HlsResponse {
    if (!this.config.ts || this.tsSegments.length === 0) return text(404, 'no segment yet');
    // A player starts a playlist shorter than its hold-back at its first segment; with one short
    // segment (the first, cut at the second keyframe) it runs dry before the next one is listed.
    const first = this.tsSegments[0];
    if (
      this.tsSegments.length < 2 &&
      !this.ended &&
      first.durationMs < this.config.targetDurationMs - CUT_TOLERANCE_MS
    )
      return text(404, 'no second segment yet');
    const segments = this.visible(this.tsSegments);
    const body = writeClassicPlaylist({
      stream: this.stream,
      targetDuration: targetDurationOf(this.config.targetDurationMs, this.maxTsMs),
      mediaSequence: segments[0].msn,
      discontinuitySequence: this.tsDiscontinuitySeq,
      segments,
      ended: this.ended,
      childQuery: q,
    });
    return playlist(body);
  }

  private renderLl(q: string): HlsResponse {
    const segments = this.visible(this.llSegments);
    const current = this.ll.isOpen
      ? {
          msn: this.msn,
          parts: this.ll.parts,
          programDateTime: 0,
          discontinuity: this.ll.discontinuityPending,
          initId: this.ll.initId,
        }
      : undefined;
    if (current)
      current.programDateTime =
        this.wallAnchor !== undefined ? this.wallAnchor + this.segStartDts : this.now();
    // hls.js rejects a live playlist without one whole segment (levelEmptyError): by default wait
    // for the first; with llStartWith 'part' the first part is enough (RFC 8216bis).
    if (!this.llReady) return text(404, 'no segment yet');
    const body = writeLlPlaylist({
      targetDuration: targetDurationOf(this.config.targetDurationMs, this.maxLlMs),
      partTargetMs: this.config.partTargetMs,
      mediaSequence: segments[0]?.msn ?? this.msn,
      discontinuitySequence: this.llDiscontinuitySeq,
      segments,
      current,
      partsFromMsn: this.msn - 3,
      ended: this.ended,
      childQuery: q,
    });
    return playlist(body);
  }

  /**
   * Is part `part` of segment `msn` (or anything later) published? part < 0: the whole segment.
   * Nothing is, before the first whole segment: no playlist is served without one.
   */
  private has(msn: number, part: number): boolean {
    if (!this.llReady) return false;
    if (msn < this.msn) return true;
    if (msn > this.msn) return false;
    return part >= 0 && this.ll.isOpen && this.ll.parts.length > part;
  }

  private llPlaylistRequest(query: Record<string, string>, q: string): Promise<HlsResponse> {
    if (!this.config.llhls) return Promise.resolve(text(404, 'LL-HLS disabled'));
    const msnQ = query._HLS_msn;
    const partQ = query._HLS_part;
    if (msnQ === undefined) {
      if (partQ !== undefined) return Promise.resolve(text(400, '_HLS_part without _HLS_msn'));
      return Promise.resolve(this.renderLl(q));
    }
    const msn = Number(msnQ);
    const part = partQ === undefined ? -1 : Number(partQ);
    if (!Number.isInteger(msn) || msn < 0 || !Number.isInteger(part) || part < -1) {
      return Promise.resolve(text(400, 'bad _HLS_msn/_HLS_part'));
    }
    if (msn > this.msn + 2) return Promise.resolve(text(400, '_HLS_msn too far ahead'));
    if (this.ended || this.has(msn, part)) return Promise.resolve(this.renderLl(q));
    return this.block(msn, part, `ll?${q}`, () => this.renderLl(q));
  }

  private partRequest(msn: number, part: number): Promise<HlsResponse> {
    const found = this.findPart(msn, part);
    if (found) return Promise.resolve(media(found.data, 'video/mp4'));
    // A preload-hinted part (the next one) blocks until it exists; anything else is gone or unknown.
    const next =
      (msn === this.msn && this.ll.isOpen && part === this.ll.parts.length) ||
      (msn === this.msn + 1 && part === 0) ||
      (msn === this.msn && !this.ll.isOpen && part === 0);
    if (!next || this.ended) return Promise.resolve(text(404, 'no such part'));
    return this.block(msn, part, `part-${msn}.${part}`, () => {
      const p = this.findPart(msn, part);
      return p ? media(p.data, 'video/mp4') : text(404, 'no such part');
    });
  }

  private findPart(msn: number, part: number): { data: Uint8Array } | undefined {
    if (msn === this.msn && this.ll.isOpen) return this.ll.parts[part];
    for (let i = this.llSegments.length - 1; i >= 0; i--) {
      const s = this.llSegments[i];
      if (s.msn === msn) return s.parts?.[part];
      if (s.msn < msn) break;
    }
    return undefined;
  }

  private block(msn: number, part: number, key: string, render: () => HlsResponse): Promise<HlsResponse> {
    if (this.waiters.size >= this.config.maxBlockedRequests) {
      return Promise.resolve(text(503, 'too many blocked requests'));
    }
    return new Promise((resolve) => {
      const w: Waiter = {
        msn,
        part,
        resolve,
        render,
        key,
        timer: setTimeout(() => {
          this.waiters.delete(w);
          resolve(text(503, 'blocking reload timed out'));
        }, this.config.blockingTimeoutMs),
      };
      w.timer.unref?.();
      this.waiters.add(w);
    });
  }

  private wake(): void {
    // During a segment cut the parts and the media sequence are briefly out of step: wait for the end.
    if (this.waiters.size === 0 || this.cutting) return;
    const rendered = new Map<string, HlsResponse>();
    for (const w of this.waiters) {
      if (this.ended || this.has(w.msn, w.part)) {
        clearTimeout(w.timer);
        this.waiters.delete(w);
        let res = rendered.get(w.key);
        if (!res) {
          res = w.render();
          rendered.set(w.key, res);
        }
        w.resolve(res);
      }
    }
  }

  private segment(list: HlsSegment[], msn: number, type: string): HlsResponse {
    for (let i = list.length - 1; i >= 0; i--) if (list[i].msn === msn) return media(list[i].data, type);
    return text(404, 'no such segment');
  }

  /** True once the LL-HLS playlist can be served: a whole segment listed, or a part with llStartWith 'part'. */
  get llReady(): boolean {
    if (this.llSegments.length > 0) return true;
    return this.config.llStartWith === 'part' && this.ll.isOpen && this.ll.parts.length > 0;
  }

  /** Blocked requests now (for metrics and tests). */
  get blockedRequests(): number {
    return this.waiters.size;
  }
}

function playlist(body: string): HlsResponse {
  return { status: 200, headers: { ...CORS, 'Content-Type': MPEGURL, 'Cache-Control': 'no-cache' }, body };
}

function media(body: Uint8Array, type: string): HlsResponse {
  return {
    status: 200,
    headers: {
      ...CORS,
      'Content-Type': type,
      'Cache-Control': 'max-age=60, immutable',
      'Content-Length': String(body.length),
    },
    body,
  };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
