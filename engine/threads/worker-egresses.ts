import type { WorkerEgress } from '../../actors/stream/stream-host.js';
import { HlsEgress, type HlsEgressConfig } from '../../transports/hls/hls-egress.js';
import type { Logger } from '../logging/logger.js';

/** The egresses every stream worker runs (HLS muxing, WebRTC); each plugs into the streams it hosts. */
export async function loadWorkerEgresses(
  _index: number,
  config: Record<string, unknown>,
  logger: Logger,
): Promise<WorkerEgress[]> {
  const egresses: WorkerEgress[] = [new HlsEgress(config.hls as HlsEgressConfig, logger.child('hls'))];
  return egresses;
}
