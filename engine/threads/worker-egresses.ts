import type { WorkerEgress } from '../../actors/stream/stream-host.js';
import type { Logger } from '../logging/logger.js';

/** The egresses every stream worker runs (HLS muxing, WebRTC); each plugs into the streams it hosts. */
export async function loadWorkerEgresses(
  _index: number,
  _config: Record<string, unknown>,
  _logger: Logger,
): Promise<WorkerEgress[]> {
  return [];
}
