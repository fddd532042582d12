export { ChunkReader, type ChunkReaderLimits, MAX_CHUNK_HEADER_SIZE } from './chunk/chunk-reader.js';
export {
  encodeChunks,
  encodeChunksFlat,
  type OutgoingMessage,
  sizeOfChunks,
  sizeOfType0Header,
  writeType0Header,
} from './chunk/chunk-writer.js';
export { RtmpClient, type RtmpClientEvents, type RtmpClientOptions, type RtmpStatus } from './client.js';
export {
  encodeMediaChunks,
  RtmpPlayer,
  type RtmpPlayHandle,
  type RtmpPublishHandle,
  RtmpServerConnection,
  type RtmpServerHandler,
} from './connection.js';
export * from './constants.js';
export { type RtmpErrorCode, RtmpProtocolError, RtmpStatusError } from './errors.js';
export { RtmpClientHandshake } from './handshake/client-handshake.js';
export { type HandshakeStep, RtmpServerHandshake } from './handshake/server-handshake.js';
export { commandMessage, decodeCommand, type RtmpCommand } from './message/command-message.js';
export { decodeData, encodeMetadataBody, type RtmpData } from './message/data-message.js';
export { onStatusMessage, STATUS } from './message/status.js';
export { RtmpServer, type RtmpServerOptions } from './server.js';
export {
  csidForType,
  MAX_STREAMS_PER_CONNECTION,
  type RtmpMediaMessage,
  RtmpServerSession,
  type RtmpSessionOutput,
  type RtmpStreamRequest,
  rtmpStatusForError,
} from './session.js';
export { DEFAULT_RTMP_LIMITS, type RtmpLimits, type RtmpMessage } from './types.js';
export { parseRtmpUrl, type RtmpUrl, splitQuery } from './url.js';
