import type { WorkerEgress } from '../../actors/stream/stream-host.js';
import { HlsEgress, type HlsEgressConfig } from '../../transports/hls/hls-egress.js';
import type { Logger } from '../logging/logger.js';

export type WorkerRole = 'streams' | 'rtc';

/**
 * The egresses a worker runs. Stream workers: HLS muxing for the streams placed on them. The RTC
 * worker: WebRTC (node-datachannel loads in one thread per process), for the streams attached to
 * it when their first RTS viewer arrives.
 */
export async function loadWorkerEgresses(
  role: WorkerRole,
  config: Record<string, unknown>,
  logger: Logger,
): Promise<WorkerEgress[]> {
  if (role === 'rtc') {
    const { WhepEgress } = await import('../../transports/webrtc/whep-egress.js');
    const rtc = config.rtc as { port: number; announce?: string };
    return [
      new WhepEgress(
        { port: rtc.port, announce: rtc.announce, host: config.host as string },
        logger.child('rtc'),
      ),
    ];
  }
  return [new HlsEgress(config.hls as HlsEgressConfig, logger.child('hls'))];
}
