/** RTMP constants (Adobe "RTMP Specification 1.0", December 2012; section numbers refer to it). */

export const RTMP_DEFAULT_PORT = 1935;
/** Handshake version byte C0/S0 (5.2.2): plain RTMP. */
export const RTMP_VERSION = 3;
/** C1/S1/C2/S2 size (5.2.3). */
export const HANDSHAKE_SIZE = 1536;

/** Chunk size every peer starts with (5.4.1). */
export const DEFAULT_CHUNK_SIZE = 128;
/** Protocol bound of Set Chunk Size (5.4.1: 31 bits). */
export const MAX_PROTOCOL_CHUNK_SIZE = 0x7fffffff;
/** Message length is a 24-bit field (5.3.1.2.1). */
export const MAX_PROTOCOL_MESSAGE_LENGTH = 0xffffff;

/** Message type ids (5.4, 6.2, 7.1). */
export const MSG_SET_CHUNK_SIZE = 1;
export const MSG_ABORT = 2;
export const MSG_ACKNOWLEDGEMENT = 3;
export const MSG_USER_CONTROL = 4;
export const MSG_WINDOW_ACK_SIZE = 5;
export const MSG_SET_PEER_BANDWIDTH = 6;
export const MSG_AUDIO = 8;
export const MSG_VIDEO = 9;
export const MSG_DATA_AMF3 = 15;
export const MSG_SHARED_OBJECT_AMF3 = 16;
export const MSG_COMMAND_AMF3 = 17;
export const MSG_DATA_AMF0 = 18;
export const MSG_SHARED_OBJECT_AMF0 = 19;
export const MSG_COMMAND_AMF0 = 20;
export const MSG_AGGREGATE = 22;

/** User control event types (7.1.7). */
export const UC_STREAM_BEGIN = 0;
export const UC_STREAM_EOF = 1;
export const UC_STREAM_DRY = 2;
export const UC_SET_BUFFER_LENGTH = 3;
export const UC_STREAM_IS_RECORDED = 4;
export const UC_PING_REQUEST = 6;
export const UC_PING_RESPONSE = 7;

/** Chunk stream ids this stack writes on. 2 is reserved for protocol control (5.3.1.1). */
export const CSID_PROTOCOL = 2;
export const CSID_COMMAND = 3;
export const CSID_AUDIO = 4;
export const CSID_DATA = 5;
export const CSID_VIDEO = 6;

/** Set Peer Bandwidth limit types (5.4.5). */
export const PEER_BW_HARD = 0;
export const PEER_BW_SOFT = 1;
export const PEER_BW_DYNAMIC = 2;
