/**
 * msgpackr encoding of control messages that cross threads or nodes (STYLE rule 7: discriminated
 * unions that msgpackr can encode). Records are on, without shared structures: every message
 * carries its own record definitions, so any node decodes it without prior agreement, and
 * repeated shapes inside one message (lists of entries) are written compactly.
 * Byte arrays round-trip as bytes (a Node Buffer on decode).
 */
import { Packr } from 'msgpackr';

const packr = new Packr({ useRecords: true, moreTypes: false, int64AsType: 'number' });

export function encodeMessage(value: unknown): Uint8Array {
  return packr.pack(value);
}

export function decodeMessage<T = unknown>(data: Uint8Array): T {
  return packr.unpack(data) as T;
}
