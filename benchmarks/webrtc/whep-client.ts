/**
 * Headless WHEP viewer on node-datachannel: offers recvonly H.264 + Opus, counts RTP packets,
 * sequence gaps (loss), retransmissions (duplicates), and time to first video packet. Used by
 * the tests and by the load run (one child process holds many of them).
 * node-datachannel loads in ONE thread per process: use it from the thread that owns it.
 */
import ndc from 'node-datachannel';
import { encodeNack, encodePli } from '../../transports/webrtc/rtp/rtcp.js';
import { readRtpHeader } from '../../transports/webrtc/rtp/rtp-header.js';

export type WhepPost = (offer: string) => Promise<{ status: number; location?: string; answer: string }>;

/** POST to a WHEP URL with fetch. */
export function httpPost(url: string): WhepPost {
  return async (offer) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: offer,
    });
    return {
      status: res.status,
      location: res.headers.get('location') ?? undefined,
      answer: await res.text(),
    };
  };
}

export interface TrackCounters {
  packets: number;
  bytes: number;
  /** Sequence numbers (extended) never seen between the lowest and highest received. */
  lost: number;
  minExt: number;
  maxExt: number;
  duplicates: number;
  highest: number;
  ssrc: number;
}

export class WhepViewerClient {
  readonly video: TrackCounters = {
    packets: 0,
    bytes: 0,
    lost: 0,
    duplicates: 0,
    highest: -1,
    ssrc: 0,
    minExt: 0,
    maxExt: -1,
  };
  readonly audio: TrackCounters = {
    packets: 0,
    bytes: 0,
    lost: 0,
    duplicates: 0,
    highest: -1,
    ssrc: 0,
    minExt: 0,
    maxExt: -1,
  };
  rtcpIn = 0;
  startedAt = 0;
  connectedAt: number | undefined;
  firstVideoAt: number | undefined;
  /** Arrival of the latest video packet, and the longest wait between two (since resetGap). */
  lastVideoAt = 0;
  maxVideoGapMs = 0;
  /** Seen video sequence numbers (extended), for loss/duplicate accounting. */
  readonly seenVideo = new Set<number>();
  location: string | undefined;
  status = 0;
  state = 'new';
  /** Drop every video packet whose seq matches this (tests: force NACKs). */
  dropVideo: ((seq: number) => boolean) | undefined;
  private pc: ndc.PeerConnection;
  private vTrack: ndc.Track;
  private aTrack: ndc.Track;
  private seenAudio = new Set<number>();

  constructor(readonly name = 'viewer') {
    this.pc = new ndc.PeerConnection(name, { iceServers: [], bindAddress: '127.0.0.1' });
    const v = new ndc.Video('0', 'RecvOnly');
    v.addH264Codec(102, 'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1');
    this.vTrack = this.pc.addTrack(v);
    const a = new ndc.Audio('1', 'RecvOnly');
    a.addOpusCodec(111);
    this.aTrack = this.pc.addTrack(a);
    this.vTrack.onMessage((m) => this.onMessage(m, this.video, this.seenVideo, true));
    this.aTrack.onMessage((m) => this.onMessage(m, this.audio, this.seenAudio, false));
    this.pc.onStateChange((s) => {
      this.state = s;
      if (s === 'connected') this.connectedAt ??= performance.now();
    });
  }

  /** Offers, posts, applies the answer; resolves with the HTTP status (201 on success). */
  async connect(post: WhepPost, timeoutMs = 5000): Promise<number> {
    this.startedAt = performance.now();
    const offer = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('ICE gathering timed out')), timeoutMs);
      this.pc.onGatheringStateChange((s) => {
        if (s === 'complete') {
          clearTimeout(t);
          resolve(this.pc.localDescription()!.sdp);
        }
      });
      this.pc.setLocalDescription();
      if (this.pc.gatheringState() === 'complete') {
        clearTimeout(t);
        resolve(this.pc.localDescription()!.sdp);
      }
    });
    const res = await post(offer);
    this.status = res.status;
    this.location = res.location;
    if (res.status !== 201) return res.status;
    try {
      this.pc.setRemoteDescription(res.answer, 'answer');
    } catch (err) {
      throw new Error(
        `${String(err)} (gathering ${this.pc.gatheringState()}, state ${this.pc.state()}, signaling ${this.pc.signalingState()})`,
      );
    }
    return res.status;
  }

  /** Video sequence numbers not received between the lowest and the highest seen. */
  missingVideo(fromExt = this.video.minExt): number[] {
    const out: number[] = [];
    for (let e = Math.max(fromExt, this.video.minExt); e <= this.video.maxExt && out.length < 1000; e++) {
      if (!this.seenVideo.has(e)) out.push(e & 0xffff);
    }
    return out;
  }

  /** Starts a new measurement window for maxVideoGapMs. */
  resetGap(): void {
    this.maxVideoGapMs = 0;
  }

  sendNack(lost: number[]): void {
    this.vTrack.sendMessageBinary(encodeNack(1, this.video.ssrc, lost));
  }

  /** Any bytes as RTCP on the video track (SRTCP-protected by the stack): tests of bad input. */
  sendRawRtcp(bytes: Buffer): void {
    this.vTrack.sendMessageBinary(bytes);
  }

  sendPli(): void {
    this.vTrack.sendMessageBinary(encodePli(1, this.video.ssrc));
  }

  /** A receiver report per track so the server's RTCP liveness check sees us. */
  sendReceiverReports(): void {
    for (const [t, c] of [
      [this.vTrack, this.video],
      [this.aTrack, this.audio],
    ] as const) {
      if (!c.ssrc || !t.isOpen()) continue;
      const rr = Buffer.alloc(32);
      rr[0] = 0x81;
      rr[1] = 201;
      rr.writeUInt16BE(7, 2);
      rr.writeUInt32BE(1, 4);
      rr.writeUInt32BE(c.ssrc, 8);
      rr.writeUInt32BE(c.highest >>> 0, 16);
      t.sendMessageBinary(rr);
    }
  }

  close(): void {
    try {
      this.pc.close();
    } catch {
      // gone
    }
  }

  private onMessage(m: Buffer, c: TrackCounters, seen: Set<number>, isVideo: boolean): void {
    if (m.length >= 2 && m[1] >= 192 && m[1] <= 223) {
      this.rtcpIn++;
      return;
    }
    const h = readRtpHeader(m);
    if (!h) return;
    if (isVideo && this.dropVideo?.(h.seq)) return;
    c.ssrc = h.ssrc;
    let ext = h.seq;
    if (c.maxExt >= 0) {
      const diff = ((h.seq - (c.maxExt & 0xffff) + 0x8000) & 0xffff) - 0x8000;
      ext = c.maxExt + diff;
    } else {
      c.minExt = ext;
    }
    if (seen.has(ext)) {
      c.duplicates++;
      return;
    }
    if (seen.size > 200_000) seen.clear();
    seen.add(ext);
    if (ext > c.maxExt) c.maxExt = ext;
    if (ext < c.minExt) c.minExt = ext;
    c.lost = c.maxExt - c.minExt + 1 - seen.size;
    c.packets++;
    c.bytes += m.length;
    if (isVideo) {
      const t = performance.now();
      if (this.firstVideoAt === undefined) this.firstVideoAt = t;
      else if (t - this.lastVideoAt > this.maxVideoGapMs) this.maxVideoGapMs = t - this.lastVideoAt;
      this.lastVideoAt = t;
    }
    c.highest = h.seq;
  }
}
