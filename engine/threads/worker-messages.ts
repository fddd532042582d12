import { Packr } from 'msgpackr';
import type { PacketRingBuffers } from '../memory/packet-ring.js';

/**
 * The protocol between the main thread and a stream worker. Control messages are msgpackr-encoded
 * (the same encoding that crosses nodes); shared ring buffers ride beside them by structured
 * clone (a SharedArrayBuffer is shared, not copied), and large bodies (HLS segments) as
 * transferred or shared buffers, never inside the msgpack.
 */
export interface HttpLikeRequest {
  method: string;
  /** Path below the stream, e.g. `live/s.m3u8`, or the WHEP session path. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
}

export interface HttpLikeResponse {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

export type ToWorker =
  | { t: 'attach'; key: string; app: string; stream: string; domain: string; gen: number }
  | { t: 'detach'; key: string; gen: number; reason: string }
  | { t: 'players'; key: string; protocol: string; count: number }
  | { t: 'ask'; id: number; key: string; q: 'info' }
  /** The worker's egress totals, by egress kind (reply value: Record<kind, stats>). */
  | { t: 'stats'; id: number }
  | { t: 'http'; id: number; kind: 'hls' | 'whep'; key: string; req: HttpLikeRequest }
  | { t: 'init'; config: Record<string, unknown> }
  | { t: 'cleanup' }
  | { t: 'shutdown' };

export type FromWorker =
  | { t: 'ready'; index: number }
  | { t: 'reset' }
  | { t: 'reply'; id: number; ok: boolean; value?: unknown; error?: string }
  | { t: 'http'; id: number; res: HttpLikeResponse }
  | {
      t: 'log';
      level: 'debug' | 'info' | 'warn' | 'error';
      ns: string;
      msg: string;
      fields?: Record<string, unknown>;
    }
  | { t: 'event'; key: string; name: string; data?: Record<string, unknown> };

/** What goes through postMessage: the msgpack bytes plus out-of-band shared buffers/bodies. */
export interface Wire {
  m: Uint8Array;
  ring?: PacketRingBuffers;
  body?: Uint8Array;
}

const packr = new Packr({ useRecords: false, moreTypes: false });

export function encodeWire<T>(msg: T, extra?: Omit<Wire, 'm'>): Wire {
  return { m: packr.pack(msg), ...extra };
}

export function decodeWire<T>(w: Wire): T {
  return packr.unpack(w.m) as T;
}
