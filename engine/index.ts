/** The public surface of rts-engine: the only import path for embedders. */

export type { MediaFrame } from '../media/frame/media-frame.js';
export { AccessPolicy, type PlayProtocol } from './access/access-policy.js';
export { makeAuthKey, signUrl, verifyAuthKey } from './access/auth-key.js';
export {
  type Config,
  type ConfigInput,
  DEFAULT_CONFIG,
  type DomainConfig,
  resolveConfig,
} from './config/config.js';
export {
  AuthError,
  DomainError,
  InvalidStateError,
  ProtocolError,
  RefusedError,
  RtsError,
  TimeoutError,
  UnsupportedCodecError,
} from './errors.js';
export { createLogger, type Logger, silentLogger, stderrSink } from './logging/logger.js';
export {
  createNode,
  type NodeEvents,
  type NodeHooks,
  type NodeOptions,
  type PlayContext,
  type PublishContext,
  RtsNode,
  type StreamSummary,
} from './node.js';
