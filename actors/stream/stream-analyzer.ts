import { BFrameDetector, describeAudioConfig, describeVideoConfig } from '../../media/codec/index.js';
import type { AudioCodec, MediaFrame, VideoCodec } from '../../media/frame/media-frame.js';

/** What the API and the RTS rules know about a stream, measured from its frames once per stream. */
export interface StreamAnalysis {
  video?: {
    codec: string;
    profile: string;
    level: string;
    width: number;
    height: number;
    codecString: string;
    fps: number;
    bitrateKbps: number;
    /** Longest keyframe interval seen in the recent window, in ms. */
    gopMs: number;
    bFrames: boolean;
  };
  audio?: {
    codec: string;
    profile: string;
    sampleRate: number;
    channels: number;
    codecString: string;
    bitrateKbps: number;
  };
  bitrateKbps: number;
  framesIn: number;
  bytesIn: number;
  lastKeyframeDts: number;
}

const WINDOW_MS = 5000;

/** Sliding-window rate meter over stream time (dts), so a paused publisher reads as paused. */
class RateWindow {
  private readonly samples: { t: number; bytes: number }[] = [];
  private total = 0;
  push(t: number, bytes: number): void {
    this.samples.push({ t, bytes });
    this.total += bytes;
    while (this.samples.length > 1 && t - this.samples[0].t > WINDOW_MS)
      this.total -= this.samples.shift()!.bytes;
  }
  get span(): number {
    return this.samples.length > 1 ? this.samples[this.samples.length - 1].t - this.samples[0].t : 0;
  }
  get count(): number {
    return this.samples.length;
  }
  kbps(): number {
    const s = this.span;
    return s > 0 ? Math.round((this.total * 8) / s) : 0;
  }
  perSecond(): number {
    const s = this.span;
    return s > 0 ? Math.round(((this.samples.length - 1) * 1000 * 100) / s) / 100 : 0;
  }
}

export class StreamAnalyzer {
  private video?: NonNullable<StreamAnalysis['video']>;
  private audio?: NonNullable<StreamAnalysis['audio']>;
  private readonly vRate = new RateWindow();
  private readonly aRate = new RateWindow();
  private readonly bframes = new BFrameDetector();
  private nalLengthSize = 4;
  private lastKeyDts = -1;
  private gops: number[] = [];
  framesIn = 0;
  bytesIn = 0;
  /** Analysis errors (bad sequence headers) seen; the stream still flows. */
  errors = 0;

  push(f: MediaFrame): void {
    this.framesIn++;
    this.bytesIn += f.body.length;
    if (f.kind === 'video') {
      if (f.config) {
        try {
          const info = describeVideoConfig(f.codec as VideoCodec, f.payload);
          this.nalLengthSize = info.nalLengthSize;
          this.video = {
            codec: f.codec,
            profile: info.profile,
            level: info.level,
            width: info.width,
            height: info.height,
            codecString: info.codecString,
            fps: 0,
            bitrateKbps: 0,
            gopMs: 0,
            bFrames: false,
          };
          this.bframes.reset();
        } catch {
          this.errors++;
        }
        return;
      }
      this.vRate.push(f.dts, f.body.length);
      if (f.key) {
        if (this.lastKeyDts >= 0 && f.dts > this.lastKeyDts) {
          this.gops.push(f.dts - this.lastKeyDts);
          if (this.gops.length > 8) this.gops.shift();
        }
        this.lastKeyDts = f.dts;
      }
      if (f.codec === 'h264' || f.codec === 'h265') {
        try {
          this.bframes.push(f.codec, f.dts, f.pts, f.payload, this.nalLengthSize);
        } catch {
          this.errors++;
        }
      }
    } else if (f.kind === 'audio') {
      if (f.config) {
        try {
          const info = describeAudioConfig(f.codec as AudioCodec, f.payload);
          this.audio = { codec: f.codec, ...info, bitrateKbps: 0 };
        } catch {
          this.errors++;
        }
        return;
      }
      if (!this.audio)
        this.audio = {
          codec: f.codec,
          profile: '',
          sampleRate: 0,
          channels: 0,
          codecString: f.codec,
          bitrateKbps: 0,
        };
      this.aRate.push(f.dts, f.body.length);
    }
  }

  /** Keyframe interval now running: counts toward the GOP rule before the next keyframe comes. */
  snapshot(nowDts?: number): StreamAnalysis {
    const video = this.video ? { ...this.video } : undefined;
    if (video) {
      video.fps = this.vRate.perSecond();
      video.bitrateKbps = this.vRate.kbps();
      const open = nowDts !== undefined && this.lastKeyDts >= 0 ? nowDts - this.lastKeyDts : 0;
      video.gopMs = Math.max(open, ...this.gops, 0);
      video.bFrames = this.bframes.detected;
    }
    const audio = this.audio ? { ...this.audio, bitrateKbps: this.aRate.kbps() } : undefined;
    return {
      video,
      audio,
      bitrateKbps: (video?.bitrateKbps ?? 0) + (audio?.bitrateKbps ?? 0),
      framesIn: this.framesIn,
      bytesIn: this.bytesIn,
      lastKeyframeDts: this.lastKeyDts,
    };
  }
}
