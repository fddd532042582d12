/** HLS / LL-HLS configuration; every field has a default (see DEFAULT_HLS_CONFIG). */
export interface HlsConfig {
  /** Segment target; segments are cut on the first keyframe at or after it. */
  targetDurationMs: number;
  /** Segments listed in a playlist (sliding window). */
  windowSegments: number;
  /** LL-HLS part target (EXT-X-PART-INF:PART-TARGET); every part is at most this long. */
  partTargetMs: number;
  /** A blocked playlist reload is answered 503 after this long (default 3 × target duration). */
  blockingTimeoutMs: number;
  /** Blocked playlist/part requests held at once per stream; more are answered 503 at once. */
  maxBlockedRequests: number;
  /** Segments kept after leaving the playlist, for players that fetched it just before (RFC 8216 6.2.2). */
  extraSegmentsKept: number;
  /** Produce the classic TS playlist. */
  ts: boolean;
  /** Produce the LL-HLS fMP4 playlist. */
  llhls: boolean;
  /**
   * When the first LL-HLS playlist is served: `segment` (default) once a whole segment exists,
   * which hls.js requires (a playlist of parts only is a levelEmptyError there), about one GOP
   * after the first keyframe; `part` as soon as the first part exists (RFC 8216bis allows it;
   * the first part is out within ~60 ms of the first keyframe) for players that accept it.
   */
  llStartWith: 'segment' | 'part';
}

export const DEFAULT_HLS_CONFIG: Readonly<HlsConfig> = Object.freeze({
  targetDurationMs: 2000,
  windowSegments: 6,
  partTargetMs: 250,
  blockingTimeoutMs: 6000,
  maxBlockedRequests: 2000,
  extraSegmentsKept: 2,
  ts: true,
  llhls: true,
  llStartWith: 'segment',
});

/** The part of the URL after `/{app}/`, plus the parsed query. */
export interface HlsRequest {
  path: string;
  query: Record<string, string>;
}

export interface HlsHandleOptions {
  /** Query string (without `?`) appended to every URL written into a playlist response. */
  childQuery?: string;
}

export interface HlsResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

/** One finished media segment (TS or fMP4). */
export interface HlsSegment {
  msn: number;
  durationMs: number;
  /** Wall clock (ms since epoch) of the first sample: EXT-X-PROGRAM-DATE-TIME. */
  programDateTime: number;
  discontinuity: boolean;
  data: Uint8Array;
  /** LL-HLS only: the init segment id (EXT-X-MAP) this segment needs. */
  initId: number;
  /** LL-HLS only: the parts, while they are still listed. */
  parts?: HlsPart[];
}

export interface HlsPart {
  durationMs: number;
  independent: boolean;
  data: Uint8Array;
}
