import { randomBytes } from 'node:crypto';
import { RefusedError } from '../../engine/errors.js';
import { type Logger, silentLogger } from '../../engine/logging/logger.js';
import { LatencyHistogram } from '../../engine/telemetry/metrics.js';
import { SdpError, WhepError } from './errors.js';
import { buildAnswer, chooseH264, chooseOpus, parseSdp, parseSdpFragment, type SdpOffer } from './sdp.js';
import { StreamFanout } from './stream-fanout.js';
import type {
  WhepRequest,
  WhepResponse,
  WhepServiceOptions,
  WhepServiceStats,
  WhepSessionStats,
} from './types.js';
import { WhepSession } from './whep-session.js';

const HOUSEKEEPING_INTERVAL_MS = 1000;
const SESSION_SEGMENT = 'session';
const NAME_RE = /^[A-Za-z0-9_.~-]{1,128}$/;
/** Attempts at a peer connection whose ICE gathering failed (a transient libdatachannel error). */
const GATHER_ATTEMPTS = 4;

/**
 * WHEP egress (draft-ietf-wish-whep), HTTP-agnostic: the integrator's router passes requests to
 * `handle()`. One feed subscription per stream whatever the number of viewers; every peer
 * connection shares the service's one UDP port. Runs in whichever thread constructs it, but
 * node-datachannel can only be loaded in ONE thread per process (see
 * docs/decisions/webrtc-stack.md): run one service per process.
 *
 * Routes: `POST /{app}/{stream}` (application/sdp) → 201 + answer + Location
 * `{locationPrefix}/{app}/{stream}/session/{id}`; `PATCH` that (application/trickle-ice-sdpfrag)
 * → 204, or 405 for an ICE restart; `DELETE` it → 200; `OPTIONS` → 204 with CORS.
 */
export class WhepService {
  private readonly opts: WhepServiceOptions;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly sessions = new Map<string, WhepSession>();
  private readonly streams = new Map<string, StreamFanout>();
  private readonly timer: NodeJS.Timeout;
  /** Server-added latency of every frame sent to viewers, all streams (see StreamFanout). */
  private readonly latency = new LatencyHistogram();
  private isClosed = false;

  constructor(opts: WhepServiceOptions) {
    if (!Number.isInteger(opts.udpPort) || opts.udpPort <= 0 || opts.udpPort > 65535) {
      throw new RangeError(`udpPort ${opts.udpPort}`);
    }
    this.opts = opts;
    this.logger = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.timer = setInterval(() => this.housekeeping(), HOUSEKEEPING_INTERVAL_MS);
    this.timer.unref();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Streams with a live feed subscription. */
  get streamCount(): number {
    return this.streams.size;
  }

  /** RTCP packets that decrypted but did not parse, over all sessions so far. */
  private rtcpErrors = 0;

  sessionStats(): WhepSessionStats[] {
    return [...this.sessions.values()].map((s) => s.stats());
  }

  /** Totals for the API: viewers, packets sent so far, server-added latency. */
  stats(): WhepServiceStats {
    let packetsSent = 0;
    let retransmits = 0;
    let nacks = 0;
    let connected = 0;
    for (const s of this.sessions.values()) {
      const st = s.stats();
      packetsSent += st.videoPackets + st.audioPackets + st.retransmits;
      retransmits += st.retransmits;
      nacks += st.nacks;
      if (s.connectedAt !== undefined) connected++;
    }
    return {
      sessions: this.sessions.size,
      connected,
      streams: this.streams.size,
      packetsSent,
      retransmits,
      nacks,
      rtcpErrors: this.rtcpErrors,
      serverLatencyMs: { ...this.latency.summary(), buckets: this.latency.buckets() },
    };
  }

  async handle(req: WhepRequest): Promise<WhepResponse> {
    try {
      return await this.route(req);
    } catch (err) {
      if (err instanceof WhepError) return this.text(err.status, err.message, { 'x-rts-error': err.code });
      if (err instanceof SdpError) return this.text(400, err.message, { 'x-rts-error': err.code });
      if (err instanceof RefusedError) return this.text(err.status, err.message, { 'x-rts-error': err.code });
      this.logger.error('WHEP request failed', { error: String(err) });
      return this.text(500, 'internal error');
    }
  }

  private async route(req: WhepRequest): Promise<WhepResponse> {
    const method = req.method.toUpperCase();
    if (method === 'OPTIONS') return this.preflight();
    if (this.isClosed) return this.text(503, 'shutting down');
    const parts = req.path.split('?')[0].split('/').filter(Boolean).map(decodeURIComponent);
    if (parts.length === 2) {
      if (method !== 'POST')
        return this.text(405, `${method} not allowed on a WHEP endpoint`, { allow: 'POST, OPTIONS' });
      return this.post(parts[0], parts[1], req);
    }
    if (parts.length === 4 && parts[2] === SESSION_SEGMENT) {
      const session = this.sessions.get(parts[3]);
      if (!session || session.streamKey !== `${parts[0]}/${parts[1]}`)
        return this.text(404, 'no such session');
      if (method === 'DELETE') {
        session.close('DELETE');
        return this.text(200, '');
      }
      if (method === 'PATCH') return this.patch(session, req);
      return this.text(405, `${method} not allowed on a WHEP session`, { allow: 'PATCH, DELETE, OPTIONS' });
    }
    return this.text(404, 'not a WHEP path: expected /{app}/{stream}');
  }

  private async post(app: string, stream: string, req: WhepRequest): Promise<WhepResponse> {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/sdp') return this.text(415, 'Content-Type must be application/sdp');
    if (!NAME_RE.test(app) || !NAME_RE.test(stream)) return this.text(400, 'bad app or stream name');
    const offerSdp = new TextDecoder().decode(req.body);
    const offer = parseSdp(offerSdp);
    const key = `${app}/${stream}`;
    const feed = this.opts.resolveFeed(app, stream);
    if (!feed) return this.text(404, `stream ${key} not found`);
    const refusal = this.opts.checkPlayable?.(feed.info);
    if (refusal) return this.text(406, `stream ${key} cannot be played over WebRTC: ${refusal}`);
    if (this.sessions.size >= (this.opts.maxSessions ?? 2000))
      return this.text(503, 'too many WebRTC viewers');
    const { video, audio } = this.choose(offer, feed.info);

    let fanout = this.streams.get(key);
    if (!fanout || fanout.closed) {
      fanout = new StreamFanout({
        key,
        feed,
        logger: this.logger.child(`whep[${key}]`),
        now: this.now,
        maxPayload: this.opts.maxPayload,
        historyPackets: this.opts.historyPackets,
        latency: this.latency,
        onEnd: (reason) => this.endStream(key, reason),
      });
      if (fanout.closed) return this.text(404, `stream ${key} ended`);
      this.streams.set(key, fanout);
    }
    // libdatachannel now and then fails to gather its (muxed) host candidate right after other peers
    // closed on the same port: that attempt is dropped and made again, at most a few times.
    let session!: WhepSession;
    let transport!: Awaited<ReturnType<WhepSession['negotiate']>>;
    let id = '';
    for (let attempt = 1; ; attempt++) {
      id = randomBytes(12).toString('hex');
      session = new WhepSession({
        id,
        streamKey: key,
        fanout,
        offerSdp,
        video,
        audio,
        udpPort: this.opts.udpPort,
        bindAddress: this.opts.bindAddress,
        logger: this.logger,
        now: this.now,
        onClose: (s, reason) => this.onSessionClose(s, reason),
        onRtcpError: () => this.rtcpErrors++,
      });
      this.sessions.set(id, session);
      session.remoteUfrag = offer.iceUfrag ?? offer.media[0].iceUfrag;
      try {
        transport = await session.negotiate(offerSdp);
        break;
      } catch (err) {
        session.close('negotiation failed');
        if (attempt >= GATHER_ATTEMPTS || !String(err).includes('gather local ICE candidates')) throw err;
        this.logger.debug('ICE gathering failed, trying again', { stream: key, attempt });
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
    const answer = buildAnswer({
      offer,
      video: video && { codec: video, ssrc: fanout.videoSsrc, trackId: 'video' },
      audio: audio && { codec: audio, ssrc: fanout.audioSsrc, trackId: 'audio' },
      streamId: fanout.msid,
      cname: fanout.cname,
      ...transport,
      candidates: [
        { ip: this.opts.announceIp ?? '127.0.0.1', port: this.opts.announcePort ?? this.opts.udpPort },
      ],
    });
    const location = `${this.opts.locationPrefix ?? ''}/${encodeURIComponent(app)}/${encodeURIComponent(stream)}/${SESSION_SEGMENT}/${id}`;
    this.logger.info('viewer joined', { stream: key, id, viewers: fanout.viewerCount + 1 });
    return {
      status: 201,
      headers: {
        ...this.cors(),
        'content-type': 'application/sdp',
        location,
        etag: `"${id}"`,
      },
      body: answer,
    };
  }

  private choose(offer: SdpOffer, info: { video?: { codec: string }; audio?: { codec: string } }) {
    const videoMedia = offer.media.find(
      (m) => m.kind === 'video' && m.port !== 0 && m.direction !== 'sendonly' && m.direction !== 'inactive',
    );
    const audioMedia = offer.media.find(
      (m) => m.kind === 'audio' && m.port !== 0 && m.direction !== 'sendonly' && m.direction !== 'inactive',
    );
    const preferred = /^avc1\.([0-9a-f]{6})$/i.exec(info.video?.codec ?? '')?.[1];
    const video = info.video && videoMedia ? chooseH264(videoMedia, preferred) : undefined;
    if (info.video && !video) {
      throw new WhepError(
        'RTS_ERR_WHEP_NO_H264',
        406,
        'offer has no H.264 packetization-mode=1 video to receive',
      );
    }
    const audioIsOpus = /^opus$/i.test(info.audio?.codec ?? '');
    const audio = audioIsOpus && audioMedia ? chooseOpus(audioMedia) : undefined;
    if (!video && !audio)
      throw new WhepError('RTS_ERR_WHEP_NO_CODEC', 406, 'offer has nothing this stream can send');
    return { video, audio };
  }

  private patch(session: WhepSession, req: WhepRequest): WhepResponse {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/trickle-ice-sdpfrag') {
      return this.text(415, 'Content-Type must be application/trickle-ice-sdpfrag');
    }
    const frag = parseSdpFragment(new TextDecoder().decode(req.body));
    if (frag.iceUfrag !== undefined && frag.iceUfrag !== session.remoteUfrag) {
      return this.text(405, 'ICE restart is not supported: start a new session', {
        allow: 'DELETE, OPTIONS',
      });
    }
    for (const c of frag.candidates) session.addRemoteCandidate(c.candidate, c.mid);
    return { status: 204, headers: this.cors(), body: '' };
  }

  private onSessionClose(s: WhepSession, reason: string): void {
    this.sessions.delete(s.id);
    this.logger.info('viewer left', { stream: s.streamKey, id: s.id, reason });
    const fanout = this.streams.get(s.streamKey);
    // The last viewer gone: drop the subscription (the feed's GOP replay restarts a newcomer at once).
    if (
      fanout &&
      fanout.viewerCount === 0 &&
      ![...this.sessions.values()].some((x) => x.streamKey === s.streamKey)
    ) {
      fanout.close();
      this.streams.delete(s.streamKey);
    }
  }

  private endStream(key: string, reason: string): void {
    this.streams.delete(key);
    for (const s of [...this.sessions.values()]) if (s.streamKey === key) s.close(`stream ended: ${reason}`);
  }

  private housekeeping(): void {
    const now = this.now();
    const connectTimeout = this.opts.connectTimeoutMs ?? 15_000;
    const rtcpTimeout = this.opts.rtcpTimeoutMs ?? 15_000;
    for (const s of [...this.sessions.values()]) {
      if (s.connectedAt === undefined) {
        if (now - s.createdAt > connectTimeout) s.close('not connected in time');
      } else if (now - (s.lastRtcpAt ?? s.connectedAt) > rtcpTimeout) {
        s.close('no RTCP from the viewer');
      }
    }
    for (const f of this.streams.values()) f.sendReports(now);
  }

  private cors(): Record<string, string> {
    return {
      'access-control-allow-origin': this.opts.corsOrigin ?? '*',
      'access-control-expose-headers': 'Location, ETag, Link, Accept-Post',
    };
  }

  private preflight(): WhepResponse {
    return {
      status: 204,
      headers: {
        ...this.cors(),
        'access-control-allow-methods': 'POST, PATCH, DELETE, OPTIONS',
        'access-control-allow-headers': 'Content-Type, Authorization, If-Match',
        'access-control-max-age': '86400',
        'accept-post': 'application/sdp',
      },
      body: '',
    };
  }

  private text(status: number, message: string, extra: Record<string, string> = {}): WhepResponse {
    return {
      status,
      headers: { ...this.cors(), 'content-type': 'text/plain; charset=utf-8', ...extra },
      body: message === '' ? '' : `${message}\n`,
    };
  }

  /** Closes every session and subscription. Idempotent. Does not unload the native stack (see shutdownWebrtcRuntime). */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    clearInterval(this.timer);
    for (const s of [...this.sessions.values()]) s.close('service closed');
    for (const f of this.streams.values()) f.close();
    this.streams.clear();
  }
}
