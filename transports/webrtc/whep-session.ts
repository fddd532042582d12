import ndc from 'node-datachannel';
import type { Logger } from '../../engine/logging/logger.js';
import { WhepError } from './errors.js';
import { holdUntilClosed } from './ndc-lifetime.js';
import { parseRtcp } from './rtp/rtcp.js';
import { RtpViewer } from './rtp-viewer.js';
import { type ChosenCodec, readTransportParams } from './sdp.js';
import type { StreamFanout } from './stream-fanout.js';
import type { WhepSessionStats } from './types.js';

/**
 * The offer as handed to the stack, made to behave like an ICE-lite server:
 * - its candidates are removed, so the stack sends no early connectivity checks to a viewer that
 *   does not have our answer yet; it learns the viewer's address from the viewer's own checks
 *   (peer-reflexive), which is all a server on a public or announced address needs;
 * - `actpass` becomes `active`, so we take the DTLS server role and the viewer starts the
 *   handshake only once it holds our answer and fingerprint.
 */
export function stackOffer(offerSdp: string): string {
  return offerSdp
    .replace(/^a=(candidate|end-of-candidates)[^\r\n]*\r?\n/gm, '')
    .replace(/a=setup:actpass/g, 'a=setup:active');
}

/** How long the stack may take to produce its local description. */
const LOCAL_DESCRIPTION_TIMEOUT_MS = 3000;

export interface WhepSessionOptions {
  id: string;
  streamKey: string;
  fanout: StreamFanout;
  offerSdp: string;
  video?: ChosenCodec;
  audio?: ChosenCodec;
  udpPort: number;
  bindAddress?: string;
  logger: Logger;
  now: () => number;
  onClose: (session: WhepSession, reason: string) => void;
  /** Called for each RTCP packet that does not parse (the service counts them). */
  onRtcpError?: () => void;
}

/**
 * One WHEP viewer: a node-datachannel PeerConnection on the service's shared UDP port with a
 * send-only H.264 and/or Opus track and no media handler (we hand it finished RTP packets, it
 * does SRTP and sends; RTCP from the browser comes back on the track's onMessage).
 */
export class WhepSession {
  readonly id: string;
  readonly streamKey: string;
  readonly createdAt: number;
  connectedAt: number | undefined;
  lastRtcpAt: number | undefined;
  readonly viewer: RtpViewer;
  remoteUfrag: string | undefined;
  private readonly pc: ndc.PeerConnection;
  private readonly videoTrack: ndc.Track | undefined;
  private readonly audioTrack: ndc.Track | undefined;
  private readonly fanout: StreamFanout;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly onCloseCb: WhepSessionOptions['onClose'];
  private readonly onRtcpError: (() => void) | undefined;
  private isClosed = false;
  private attached = false;
  private rtcpErrors = 0;
  private pcState = 'new';

  constructor(o: WhepSessionOptions) {
    this.id = o.id;
    this.streamKey = o.streamKey;
    this.fanout = o.fanout;
    this.logger = o.logger;
    this.now = o.now;
    this.onCloseCb = o.onClose;
    this.onRtcpError = o.onRtcpError;
    this.createdAt = o.now();
    this.pc = new ndc.PeerConnection(o.id, {
      iceServers: [],
      enableIceUdpMux: true,
      portRangeBegin: o.udpPort,
      portRangeEnd: o.udpPort,
      ...(o.bindAddress ? { bindAddress: o.bindAddress } : {}),
    });
    // The stack closes a track on its own threads (peer gone, DTLS alert) before the state change
    // reaches us, and a send on a closed track throws: that ends this session only.
    const sendVideo = (p: Buffer): void => {
      if (this.isClosed) return;
      try {
        this.videoTrack?.sendMessageBinary(p);
      } catch (err) {
        this.close(`video send failed: ${(err as Error).message}`);
      }
    };
    const sendAudio = (p: Buffer): void => {
      if (this.isClosed) return;
      try {
        this.audioTrack?.sendMessageBinary(p);
      } catch (err) {
        this.close(`audio send failed: ${(err as Error).message}`);
      }
    };
    this.viewer = new RtpViewer({
      sink: {
        video: sendVideo,
        audio: sendAudio,
        rtcp: (kind, p) => (kind === 'video' ? sendVideo(p) : sendAudio(p)),
      },
      videoPayloadType: o.video?.payloadType ?? 0,
      audioPayloadType: o.audio?.payloadType ?? 0,
      hasVideo: o.video !== undefined,
      hasAudio: o.audio !== undefined,
    });
    if (o.video) {
      const v = new ndc.Video(o.video.mid, 'SendOnly');
      v.addH264Codec(o.video.payloadType, o.video.fmtp);
      v.addSSRC(o.fanout.videoSsrc, o.fanout.cname, o.fanout.msid, 'video');
      this.videoTrack = this.pc.addTrack(v);
      this.wireTrack(this.videoTrack, 'video', true);
    }
    if (o.audio) {
      const a = new ndc.Audio(o.audio.mid, 'SendOnly');
      a.addOpusCodec(o.audio.payloadType);
      a.addSSRC(o.fanout.audioSsrc, o.fanout.cname, o.fanout.msid, 'audio');
      this.audioTrack = this.pc.addTrack(a);
      this.wireTrack(this.audioTrack, 'audio', !o.video);
    }
    this.pc.onStateChange((state) => {
      if (this.isClosed) return;
      this.pcState = state;
      if (state === 'connected') {
        this.connectedAt ??= this.now();
        this.lastRtcpAt ??= this.now();
        this.maybeAttach();
      } else if (state === 'disconnected' || state === 'failed' || state === 'closed') {
        this.close(`peer connection ${state}`);
      }
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get state(): string {
    return this.isClosed ? 'closed' : this.attached ? this.viewer.state : this.pcState;
  }

  /** Applies the offer and returns the stack's ICE credentials, fingerprint and DTLS role. */
  async negotiate(
    offerSdp: string,
  ): Promise<{ iceUfrag: string; icePwd: string; fingerprint: string; setup: string }> {
    const local = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new WhepError('RTS_ERR_WHEP_NEGOTIATION', 500, 'no local description')),
        LOCAL_DESCRIPTION_TIMEOUT_MS,
      );
      this.pc.onLocalDescription((sdp) => {
        clearTimeout(timer);
        resolve(sdp);
      });
      try {
        this.pc.setRemoteDescription(stackOffer(offerSdp), 'offer');
      } catch (err) {
        clearTimeout(timer);
        reject(
          new WhepError('RTS_ERR_SDP_REJECTED', 400, `offer rejected by the WebRTC stack: ${String(err)}`),
        );
        return;
      }
      const now = this.pc.localDescription();
      if (now?.sdp) {
        clearTimeout(timer);
        resolve(now.sdp);
      }
    });
    return readTransportParams(await local);
  }

  /** Trickled remote candidates (WHEP PATCH). */
  addRemoteCandidate(candidate: string, mid: string): void {
    if (this.isClosed) return;
    this.pc.addRemoteCandidate(candidate, mid);
  }

  stats(): WhepSessionStats {
    const v = this.viewer;
    return {
      id: this.id,
      stream: this.streamKey,
      state: this.state,
      videoPackets: v.videoPackets,
      audioPackets: v.audioPackets,
      bytes: v.bytes,
      nacks: v.nacks,
      retransmits: v.retransmits,
      plis: v.plis,
      firstFrameMs:
        v.firstVideoAt !== undefined && this.connectedAt !== undefined
          ? v.firstVideoAt - this.connectedAt
          : undefined,
      rtcpErrors: this.rtcpErrors,
    };
  }

  /** Closes the peer connection and detaches from the stream. Idempotent; `onClose` runs once. */
  close(reason = 'closed'): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.viewer.close();
    this.fanout.detach(this.viewer);
    // Tracks closed explicitly, on this thread: node-datachannel then drops their JS callbacks
    // now, not in a finalizer at thread exit, where releasing them aborts the process.
    for (const t of [this.videoTrack, this.audioTrack]) {
      try {
        t?.close();
      } catch {
        // already gone
      }
    }
    try {
      this.pc.close();
    } catch {
      // already gone
    }
    this.logger.debug('session closed', { id: this.id, reason });
    this.onCloseCb(this, reason);
  }

  /**
   * Every callback registered here is a thread-safe function with its own libuv async handle, and
   * libuv walks them all on each wake-up (docs/decisions/webrtc-stack.md): only the primary track
   * (video, else audio), the one maybeAttach looks at, gets an open callback.
   */
  private wireTrack(track: ndc.Track, kind: 'video' | 'audio', primary: boolean): void {
    holdUntilClosed(track, () => this.close(`${kind} track closed`));
    if (primary) track.onOpen(() => this.maybeAttach());
    track.onMessage((msg) => this.onRtcp(msg, kind));
  }

  private maybeAttach(): void {
    if (this.isClosed || this.attached) return;
    // Tracks open when DTLS-SRTP is up; the video track is the one that matters for the start.
    const t = this.videoTrack ?? this.audioTrack;
    if (!t?.isOpen()) return;
    this.attached = true;
    this.connectedAt ??= this.now();
    this.lastRtcpAt ??= this.now();
    this.fanout.attach(this.viewer);
  }

  private onRtcp(msg: Buffer, _kind: 'video' | 'audio'): void {
    if (this.isClosed) return;
    this.lastRtcpAt = this.now();
    let packets: ReturnType<typeof parseRtcp>;
    try {
      packets = parseRtcp(msg);
    } catch (err) {
      this.onRtcpError?.();
      if (this.rtcpErrors++ % 100 === 0) this.logger.debug('bad RTCP', { id: this.id, error: String(err) });
      return;
    }
    for (const p of packets) {
      switch (p.type) {
        case 'nack': {
          if (p.mediaSsrc === this.fanout.videoSsrc) this.viewer.onNack(this.fanout, p.lost);
          break;
        }
        case 'pli': {
          if (p.mediaSsrc === this.fanout.videoSsrc) this.viewer.onPictureLoss(this.fanout, this.now());
          break;
        }
        case 'fir': {
          if (p.entries.some((e) => e.ssrc === this.fanout.videoSsrc))
            this.viewer.onPictureLoss(this.fanout, this.now());
          break;
        }
        case 'bye': {
          this.close('RTCP BYE');
          return;
        }
        default: {
          break;
        }
      }
    }
  }
}
