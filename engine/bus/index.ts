/** engine/bus public door: the Bus contract, LocalBus, subject helpers and the msgpackr codec. */

export {
  type CountingSubscription,
  DEFAULT_MAX_PAYLOAD,
  DEFAULT_MAX_PENDING,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type ExtendedBus,
} from './bus-extensions.js';
export { decodeMessage, encodeMessage } from './codec.js';
export { LocalBus, type LocalBusClock, type LocalBusOptions, systemBusClock } from './local-bus.js';
export {
  decodeSubjectToken,
  encodeSubjectToken,
  matchTokens,
  parseSubscriptionSubject,
  subjectMatches,
} from './subject.js';
export type {
  Bus,
  BusKv,
  BusMessage,
  BusStatus,
  BusSubscription,
  RequestOptions,
  SubscribeOptions,
} from './types.js';
