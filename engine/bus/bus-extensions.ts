/**
 * What both bus implementations offer beyond `types.ts` (kept in a separate file so that the
 * shared interface stays unchanged; the integrator may fold these into `Bus`).
 */
import type { Bus, BusSubscription } from './types.js';

/** A subscription that counts what it dropped because its pending bound was reached. */
export interface CountingSubscription extends BusSubscription {
  /** Messages dropped (oldest first) because `maxPending` was reached. */
  readonly dropped: number;
  /** Messages buffered and not yet delivered. */
  readonly pending: number;
}

export interface ExtendedBus extends Bus {
  subscribe(...args: Parameters<Bus['subscribe']>): CountingSubscription;
  /** The largest message payload in bytes (NATS: the server's `max_payload`). */
  readonly maxPayload: number;
  /** Deletes a KV bucket and its entries; false if it did not exist. */
  deleteKv(bucket: string): Promise<boolean>;
  /** Resolves once the bus is closed, with the error that closed it if any; never rejects. */
  whenClosed(): Promise<Error | undefined>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Default bound of buffered messages per subscription. */
export const DEFAULT_MAX_PENDING = 8192;
/** Default request timeout. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
/** NATS' own default `max_payload`; also the LocalBus frame-split size so both behave alike. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
