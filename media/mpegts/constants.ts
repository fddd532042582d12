/** ITU-T H.222.0 transport stream constants. */
export const TS_PACKET_SIZE = 188;
export const TS_SYNC_BYTE = 0x47;
export const TS_HEADER_SIZE = 4;
export const TS_PAYLOAD_SIZE = TS_PACKET_SIZE - TS_HEADER_SIZE;
export const PID_PAT = 0x0000;
export const PID_PMT = 0x1000;
export const PID_VIDEO = 0x0100;
export const PID_AUDIO = 0x0101;
/** stream_type values (H.222.0 Table 2-34, and ISO/IEC 13818-1 amendments). */
export const STREAM_TYPE_MPEG1_AUDIO = 0x03;
export const STREAM_TYPE_AAC_ADTS = 0x0f;
export const STREAM_TYPE_H264 = 0x1b;
export const STREAM_TYPE_H265 = 0x24;
/** PES stream_id values. */
export const STREAM_ID_VIDEO = 0xe0;
export const STREAM_ID_AUDIO = 0xc0;
/** 33-bit PTS/DTS wrap. */
export const PTS_WRAP = 2 ** 33;
/** A PES packet length is 16 bits; larger audio PES are refused, video uses length 0 (unbounded). */
export const MAX_PES_PACKET_LENGTH = 0xffff;
/** Refuse access units beyond this size (a 4K intra frame is well under it). */
export const MAX_ACCESS_UNIT_SIZE = 16 * 1024 * 1024;
/** Decoders expect DTS to lead PCR; PCR is written this far (in 90 kHz ticks) behind the DTS. */
export const PCR_DELAY_90K = 0;
