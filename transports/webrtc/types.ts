import type { Logger } from '../../engine/logging/logger.js';
import type { LatencySummary } from '../../engine/telemetry/metrics.js';
import type { MediaFrame } from '../../media/frame/media-frame.js';

export interface StreamInfo {
  video?: { codec: string; width: number; height: number; bFrames: boolean; gopMs: number };
  audio?: { codec: string; sampleRate: number; channels: number };
}

/** What the engine offers per stream in the thread the service runs in (one subscription per stream). */
export interface StreamFeed {
  /**
   * Replays the codec config frames and the current GOP (from the latest keyframe) synchronously,
   * then live frames as they arrive. Returns an unsubscribe function. Frames are views valid only
   * during the call.
   */
  subscribe(onFrame: (frame: MediaFrame) => void, onEnd: (reason: string) => void): () => void;
  readonly info: StreamInfo;
}

export type ResolveFeed = (app: string, stream: string) => StreamFeed | undefined;

/** Returns a one-line reason when the stream cannot be played over WebRTC, undefined when it can. */
export type CheckPlayable = (info: StreamInfo) => string | undefined;

/** An HTTP request, framework-agnostic: the integrator's router fills it. */
export interface WhepRequest {
  method: string;
  /** `/{app}/{stream}` (POST, OPTIONS) or a session path `/{app}/{stream}/session/{id}` (PATCH, DELETE). */
  path: string;
  query: Record<string, string>;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  body: Uint8Array;
}

export interface WhepResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

export interface WhepServiceOptions {
  /** The one UDP port every peer connection of this service shares (ICE UDP mux). */
  udpPort: number;
  /** IP announced in the answer's host candidate; default 127.0.0.1. */
  announceIp?: string;
  /** Port announced in the host candidate when a NAT/relay forwards another one; default udpPort. */
  announcePort?: number;
  /** Local address to bind; default all interfaces (undefined). */
  bindAddress?: string;
  resolveFeed: ResolveFeed;
  checkPlayable?: CheckPlayable;
  logger?: Logger;
  /** Prefix of the Location header (the mount point of the WHEP routes), e.g. `/rtc/v1/whep`; default ''. */
  locationPrefix?: string;
  /** `Access-Control-Allow-Origin`; default `*`. */
  corsOrigin?: string;
  /** Viewers above this get 503; default 2000. */
  maxSessions?: number;
  /** A session not connected after this is reaped; default 15 s. */
  connectTimeoutMs?: number;
  /** A connected session that sent no RTCP for this long is reaped (browsers send RR every ~1 s); default 15 s. */
  rtcpTimeoutMs?: number;
  /** Wall clock in ms (tests); default Date.now. */
  now?: () => number;
  /** RTP payload bytes per packet; default 1188. */
  maxPayload?: number;
  /** Video packets kept per stream for NACK and GOP replay; default 4096. */
  historyPackets?: number;
}

export interface WhepSessionStats {
  id: string;
  stream: string;
  state: string;
  videoPackets: number;
  audioPackets: number;
  bytes: number;
  nacks: number;
  retransmits: number;
  plis: number;
  /** ms from ICE/DTLS connected to the first video packet sent (the cached keyframe). */
  firstFrameMs: number | undefined;
  /** RTCP packets from this viewer that decrypted but did not parse (dropped). */
  rtcpErrors: number;
}

/** A WhepService's totals (the node's API shows them). */
export interface WhepServiceStats {
  /** Sessions open (connecting or connected). */
  sessions: number;
  connected: number;
  /** Streams with a feed subscription. */
  streams: number;
  /** RTP packets sent to the open sessions so far (media + retransmissions); closed sessions drop out. */
  packetsSent: number;
  retransmits: number;
  nacks: number;
  /** RTCP packets that decrypted but did not parse, dropped, since the service started. */
  rtcpErrors: number;
  /**
   * Frame ingested on the main thread → returned from the send of its last RTP packet to the last
   * viewer (SRTP and sendto run inside that send). Buckets: [upper bound ms, count], to diff two readings.
   */
  serverLatencyMs: LatencySummary & { buckets: [number, number][] };
}
