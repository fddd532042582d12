import ndc from 'node-datachannel';
import type { StreamFeedHub } from '../../actors/stream/stream-feed.js';
import type { EgressResponse, WorkerEgress } from '../../actors/stream/stream-host.js';
import type { Logger } from '../../engine/logging/logger.js';
import type { HttpLikeRequest } from '../../engine/threads/worker-messages.js';
import { holdUntilClosed } from './ndc-lifetime.js';
import type { StreamFeed, StreamInfo } from './types.js';
import { whepKeyOf } from './whep-path.js';
import { WhepService } from './whep-service.js';

export interface WhepEgressConfig {
  port: number;
  announce?: string;
  host?: string;
}

/**
 * The node's WebRTC egress, in one of its RTC processes (node-datachannel can be loaded by one
 * thread per process: docs/decisions/webrtc-stack.md), on UDP port rtc.port + index. The node
 * attaches a stream here when an RTS viewer is placed on this process (after the RTS rules); this
 * process follows its own ring of that stream (written from the frames the node forwards) and
 * builds RTP once per stream for every viewer.
 *
 * WHEP paths name a stream as `/{domain}~{app}/{stream}` (whep-path.ts).
 */
export class WhepEgress implements WorkerEgress {
  readonly kind = 'whep' as const;
  private readonly feeds = new Map<string, StreamFeedHub>();
  private readonly service: WhepService;
  /**
   * A peer connection that never connects, holding the shared (ICE UDP mux) port open. Without it,
   * when the last viewer leaves libjuice releases the port asynchronously and the next viewers'
   * candidate gathering fails ("Failed to gather local ICE candidates").
   */
  private readonly anchor: InstanceType<typeof ndc.PeerConnection>;
  private readonly anchorTrack: ndc.Track;

  constructor(config: WhepEgressConfig, logger: Logger) {
    const bindAddress = config.host === '0.0.0.0' ? undefined : config.host;
    this.anchor = new ndc.PeerConnection('rts-udp-anchor', {
      iceServers: [],
      enableIceUdpMux: true,
      portRangeBegin: config.port,
      portRangeEnd: config.port,
      ...(bindAddress ? { bindAddress } : {}),
    });
    // A send-only track makes it gather its (muxed) host candidate.
    const media = new ndc.Video('anchor', 'SendOnly');
    media.addH264Codec(96);
    this.anchorTrack = holdUntilClosed(this.anchor.addTrack(media));
    this.anchor.setLocalDescription();
    this.service = new WhepService({
      udpPort: config.port,
      announceIp: config.announce ?? (config.host && config.host !== '0.0.0.0' ? config.host : '127.0.0.1'),
      bindAddress: config.host === '0.0.0.0' ? undefined : config.host,
      resolveFeed: (app, stream) => this.resolve(app, stream),
      logger: logger.child('whep'),
    });
  }

  private resolve(app: string, stream: string): StreamFeed | undefined {
    const hub = this.feeds.get(whepKeyOf(app, stream));
    if (!hub) return undefined;
    return {
      subscribe: (onFrame, onEnd) => hub.subscribe(onFrame, onEnd),
      get info(): StreamInfo {
        const a = hub.info;
        return {
          video: a.video && {
            codec: a.video.codecString,
            width: a.video.width,
            height: a.video.height,
            bFrames: a.video.bFrames,
            gopMs: a.video.gopMs,
          },
          audio: a.audio && {
            codec: a.audio.codec,
            sampleRate: a.audio.sampleRate,
            channels: a.audio.channels,
          },
        };
      },
    };
  }

  streamAttached(key: string, feed: StreamFeedHub): void {
    this.feeds.set(key, feed);
  }

  streamDetached(key: string): void {
    this.feeds.delete(key);
  }

  players(key: string): number {
    const [domain, app, ...name] = key.split('/');
    const id = `${domain}~${app}/${name.join('/')}`;
    let n = 0;
    for (const s of this.service.sessionStats()) if (s.stream === id && s.state !== 'closed') n++;
    return n;
  }

  stats(): Record<string, unknown> {
    return { ...this.service.stats() };
  }

  async handle(_key: string, req: HttpLikeRequest, body?: Uint8Array): Promise<EgressResponse> {
    const res = await this.service.handle({
      method: req.method,
      path: req.path,
      query: req.query,
      headers: req.headers,
      body: body ?? new Uint8Array(0),
    });
    return res;
  }

  close(): void {
    this.service.close();
    this.anchorTrack.close();
    this.anchor.close();
  }
}
