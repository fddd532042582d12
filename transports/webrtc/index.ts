export { type ArtcUrl, parseArtcUrl, whepUrlOf } from './artc-url.js';
export { RtcpError, SdpError, WhepError } from './errors.js';
export { forwardWhepToPort, serveWhepOnPort, type WhepPortMessage } from './rtc-worker-host.js';
export { shutdownWebrtcRuntime } from './runtime.js';
export type {
  CheckPlayable,
  ResolveFeed,
  StreamFeed,
  StreamInfo,
  WhepRequest,
  WhepResponse,
  WhepServiceOptions,
  WhepServiceStats,
  WhepSessionStats,
} from './types.js';
export { WhepService } from './whep-service.js';
