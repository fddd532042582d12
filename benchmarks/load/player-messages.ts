import type { HistogramJson } from './histogram.js';

export type PlayerClient = 'light' | 'full';

/** Parent → player process. */
export type ToPlayers =
  | {
      t: 'start';
      protocol: 'rtmp' | 'flv';
      url: string;
      count: number;
      /** Connections opened at once. */
      concurrency: number;
      /** Sample every Nth tag per player (video keyframes are always sampled). */
      sampleEvery: number;
      connectTimeoutMs: number;
      /**
       * 'light': raw sockets reading into one shared buffer, media never copied (LightRtmpPlayer,
       * RawHttpFlvReader); 'full': RtmpClient / node:http (what an application would use).
       */
      client: PlayerClient;
    }
  | { t: 'sent'; keys: number[]; times: number[] }
  | { t: 'measure' }
  | { t: 'collect' }
  | { t: 'stop' };

export interface PlayerProcessResult {
  players: number;
  connected: number;
  failed: number;
  /** Connections lost during the measurement window. */
  closedEarly: number;
  /** Players that had at least one gap > gapMs. */
  playersWithGaps: number;
  gaps: number;
  maxGapMs: number;
  /** Players whose media timeline fell more than 1 s behind the wall clock, or had a gap, or closed. */
  notRealtime: number;
  /** Worst (wall − media advance) over the window among the players (ms). */
  maxBehindMs: number;
  tags: number;
  bytes: number;
  samples: number;
  /** Sampled arrivals whose send time never came (a server that rewrites timestamps). */
  unmatched: number;
  latency: HistogramJson;
  /** This process's CPU over the window, % of one core. */
  cpuPercent: number;
  /** Event loop delay p99 (ms): high means the client side was saturated. */
  loopDelayP99Ms: number;
  errors: string[];
}

/** Player process → parent. */
export type FromPlayers =
  | { t: 'ready'; connected: number; failed: number; errors: string[] }
  | { t: 'result'; result: PlayerProcessResult }
  | { t: 'fatal'; error: string };
