/**
 * One RTMP message as the chunk layer delivers it (5.3.1, 5.4).
 *
 * `payload` is a view: into the socket read when the message sat whole in one chunk of one read,
 * otherwise into a buffer allocated once for that message. It is never rewritten by this stack,
 * so a consumer may keep it; copy only to place it somewhere else (the stream's packet ring).
 */
export interface RtmpMessage {
  readonly typeId: number;
  /** Message stream id (little-endian on the wire). 0 is the NetConnection. */
  readonly streamId: number;
  /** 32-bit RTMP timestamp in ms, as on the wire (wraps at 2^32). */
  readonly timestamp: number;
  readonly payload: Uint8Array;
  /** Chunk stream id it arrived on (writers pick one per kind of message). */
  readonly csid: number;
}

/** Bounds on what one peer may make this stack buffer. All have config keys (engine config `rtmp.*`). */
export interface RtmpLimits {
  /** Largest message accepted (bytes). A 4K keyframe fits in 8 MiB. */
  maxMessageSize: number;
  /**
   * Largest Set Chunk Size accepted from a peer. Chunk size drives no buffering here (message
   * length does), so the default admits any chunk that a 24-bit message length can fill.
   */
  maxChunkSize: number;
  /** Most chunk streams a peer may have open at once. */
  maxChunkStreams: number;
  /** Most bytes held in partially received messages, all chunk streams together. */
  maxPendingBytes: number;
  /** A client that has not finished the handshake by then is closed (ms). */
  handshakeTimeoutMs: number;
  /** A connection with no traffic either way for this long is closed (ms). */
  idleTimeoutMs: number;
  /** Bytes queued for a slow peer beyond which the connection is closed (the stream drops frames first). */
  maxWriteBuffer: number;
  /** The chunk size this stack writes with (announced by Set Chunk Size after connect). */
  outChunkSize: number;
  /** Window Acknowledgement Size announced to peers (5.4.4). */
  windowAckSize: number;
  /** Most connections the server accepts at once (server only). */
  maxConnections: number;
}

export const DEFAULT_RTMP_LIMITS: Readonly<RtmpLimits> = Object.freeze({
  maxMessageSize: 8 * 1024 * 1024,
  maxChunkSize: 16 * 1024 * 1024,
  maxChunkStreams: 64,
  maxPendingBytes: 32 * 1024 * 1024,
  handshakeTimeoutMs: 5000,
  idleTimeoutMs: 30_000,
  maxWriteBuffer: 16 * 1024 * 1024,
  outChunkSize: 60_000,
  windowAckSize: 2_500_000,
  maxConnections: 10_000,
});
