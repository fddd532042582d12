import type { Logger } from '../../engine/logging/logger.js';
import type { MediaFrame } from '../../media/frame/media-frame.js';

/** What a variant `{stream}_{id}` is made of. `'copy'` passes the track through untouched (no ffmpeg). */
export interface TranscodeTemplate {
  id: string;
  /** Absent means copy. */
  video?: 'copy' | { codec: 'h264'; profile: 'baseline'; gopMs: number; bitrateKbps?: number };
  audio: 'copy' | { codec: 'opus'; bitrateKbps: number };
}

export interface RestartPolicy {
  /** First back-off delay; default 500 ms. */
  initialDelayMs: number;
  /** Cap on the delay; default 30 s. */
  maxDelayMs: number;
  /** A child that lived this long and produced output resets the back-off; default 10 s. */
  stableAfterMs: number;
  /** Consecutive failed starts after which the transcoder gives up (error + close); default 10. */
  maxConsecutiveFailures: number;
}

export interface TranscoderOptions {
  template: TranscodeTemplate;
  logger?: Logger;
  /** Defaults to FFMPEG_PATH, then ffmpeg on PATH, then @ffmpeg-installer/ffmpeg. */
  ffmpegPath?: string;
  /** Bytes queued on ffmpeg's stdin above which input is dropped up to the next keyframe; default 4 MiB. */
  maxBufferedBytes?: number;
  restart?: Partial<RestartPolicy>;
  /** Extra ffmpeg output args (before the output), for tests and tuning. */
  extraOutputArgs?: string[];
}

export interface TranscoderRestartInfo {
  /** 1 for the first restart after a healthy run. */
  attempt: number;
  delayMs: number;
  exitCode: number | null;
  signal: string | null;
  /** Last ffmpeg stderr lines. */
  stderr: string;
}

export type TranscoderEvents = {
  /** An output frame (transcoded, or passed through for 'copy' tracks). Views valid during the call only. */
  frame: [MediaFrame];
  /** ffmpeg (re)started with this pid. */
  spawn: [number];
  restart: [TranscoderRestartInfo];
  /** Not fatal unless followed by 'close'. */
  error: [Error];
  close: [];
  listenererror: [Error];
};

export interface TranscoderStats {
  running: boolean;
  pid: number | undefined;
  framesIn: number;
  framesOut: number;
  bytesToFfmpeg: number;
  bytesFromFfmpeg: number;
  /** Input frames dropped because ffmpeg's stdin backed up (up to the next keyframe). */
  droppedBackpressure: number;
  /** Input frames dropped while ffmpeg was down or waiting for a keyframe after a (re)start. */
  droppedWhileStarting: number;
  restarts: number;
  /** Input frames of a codec ffmpeg 4.1 cannot read from FLV (e.g. enhanced-RTMP HEVC). */
  unsupportedFrames: number;
}
