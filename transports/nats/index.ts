/** transports/nats public door: the NATS bus, the media relay, the stream directory. */

export {
  type DecodedFrame,
  decodeFrame,
  decodeFrameHeader,
  encodeFrameParts,
  FRAME_HEADER_SIZE,
  FrameCodecError,
  type FrameHeader,
  FrameReassembler,
  type FrameReassemblerOptions,
} from './frame-codec.js';
export { NatsBus, type NatsBusConnectOptions } from './nats-bus.js';
export {
  DEFAULT_DIRECTORY_TTL_MS,
  directoryBucketName,
  StreamDirectory,
  type StreamDirectoryOptions,
  type StreamEntry,
} from './stream-directory.js';
export {
  RelayPublisher,
  type RelayPublisherOptions,
  RelaySubscriber,
  type RelaySubscriberOptions,
  relaySubjects,
} from './stream-relay.js';
