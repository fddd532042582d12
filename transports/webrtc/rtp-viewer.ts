import type { PacketHistory } from './rtp/packet-history.js';
import { ntpFromUnixMs, SENDER_REPORT_SIZE, writeSenderReport } from './rtp/rtcp.js';
import { patchRtpHeader } from './rtp/rtp-header.js';

/** Per-viewer seq → history index map size: NACKs older than this many video packets are not answered. */
export const VIEWER_SEQ_WINDOW = 2048;
const MASK = VIEWER_SEQ_WINDOW - 1;

/**
 * GOP replay squeezes the timestamps of the cached frames by this factor so that the browser
 * decodes them at once and renders the live edge, instead of playing the GOP out in real time
 * (which would leave the viewer behind by the GOP's age for good).
 */
export const REPLAY_TS_COMPRESSION = 32;

/** Answer at most one PLI/FIR per this many ms with a GOP replay. */
export const PLI_MIN_INTERVAL_MS = 1000;

export interface RtpSink {
  video(pkt: Buffer): void;
  audio(pkt: Buffer): void;
  /** RTCP on the video or audio track. */
  rtcp(kind: 'video' | 'audio', pkt: Buffer): void;
}

export interface RtpViewerOptions {
  sink: RtpSink;
  videoPayloadType: number;
  audioPayloadType: number;
  hasVideo: boolean;
  hasAudio: boolean;
  initialVideoSeq?: number;
  initialAudioSeq?: number;
}

/** The stream side a viewer reads from (StreamFanout implements it). */
export interface RtpSource {
  readonly history: PacketHistory;
  /** Absolute history index of the latest keyframe's first packet, or -1. */
  readonly gopStart: number;
  readonly videoSsrc: number;
  readonly audioSsrc: number;
  /** Stream RTP timestamps for the wall-clock time `nowMs` (undefined before the first frame). */
  videoTimestampAt(nowMs: number): number | undefined;
  audioTimestampAt(nowMs: number): number | undefined;
}

/**
 * One viewer's RTP state: its own sequence numbers and video timestamp offset over the stream's
 * shared packets, the seq → packet map that answers NACKs, GOP replay at start and on PLI, and
 * its sender reports. Pure: no sockets, no timers.
 *
 * The shared packet's header is patched (PT, seq, timestamp) right before each send; the stack
 * copies the bytes synchronously, so the next viewer can patch it again.
 */
export class RtpViewer {
  state: 'waiting-key' | 'live' | 'closed' = 'waiting-key';
  videoPackets = 0;
  audioPackets = 0;
  bytes = 0;
  videoOctets = 0;
  audioOctets = 0;
  nacks = 0;
  retransmits = 0;
  plis = 0;
  /** Set when the first video packet went out. */
  firstVideoAt: number | undefined;
  private readonly sink: RtpSink;
  private readonly vPt: number;
  private readonly aPt: number;
  private readonly hasVideo: boolean;
  private readonly hasAudio: boolean;
  private vSeq: number;
  private aSeq: number;
  private tsDelta = 0;
  private lastVideoTs: number | undefined;
  private lastPliAt = -Infinity;
  private readonly ringIndex = new Float64Array(VIEWER_SEQ_WINDOW).fill(-1);
  private readonly ringSeq = new Int32Array(VIEWER_SEQ_WINDOW).fill(-1);
  private readonly ringTs = new Uint32Array(VIEWER_SEQ_WINDOW);
  private readonly srBuf = Buffer.alloc(SENDER_REPORT_SIZE);

  constructor(opts: RtpViewerOptions) {
    this.sink = opts.sink;
    this.vPt = opts.videoPayloadType;
    this.aPt = opts.audioPayloadType;
    this.hasVideo = opts.hasVideo;
    this.hasAudio = opts.hasAudio;
    this.vSeq = (opts.initialVideoSeq ?? Math.floor(Math.random() * 0x8000)) & 0xffff;
    this.aSeq = (opts.initialAudioSeq ?? Math.floor(Math.random() * 0x8000)) & 0xffff;
    if (!this.hasVideo) this.state = 'live';
  }

  /**
   * Starts (or restarts, on PLI) the viewer from the cached GOP: every packet from the latest
   * keyframe to the head, timestamps squeezed. Returns false when no GOP is cached (the viewer
   * then starts on the next keyframe, see onVideoPackets).
   */
  startFromGop(src: RtpSource, nowMs: number): boolean {
    if (this.state === 'closed' || !this.hasVideo) return false;
    const h = src.history;
    const g = src.gopStart;
    if (g < 0 || !h.has(g) || h.head <= g) return false;
    const t0 = h.timestampOf(g);
    const tn = h.timestampOf(h.head - 1);
    const span = Math.floor(((tn - t0) >>> 0) / REPLAY_TS_COMPRESSION);
    const anchor = this.lastVideoTs === undefined ? (tn - span) >>> 0 : (this.lastVideoTs + 90) >>> 0;
    for (let i = g; i < h.head; i++) {
      const pkt = h.get(i)!;
      const ts = (anchor + Math.floor(((h.timestampOf(i) - t0) >>> 0) / REPLAY_TS_COMPRESSION)) >>> 0;
      this.sendVideo(pkt, i, ts, nowMs);
    }
    this.tsDelta = (anchor + span - tn) >>> 0;
    this.state = 'live';
    return true;
  }

  /** New video packets [from, to) of the stream (one access unit); `key` when it starts a GOP. */
  onVideoPackets(src: RtpSource, from: number, to: number, key: boolean, nowMs: number): void {
    if (this.state === 'closed') return;
    if (this.state === 'waiting-key') {
      if (key) this.startFromGop(src, nowMs);
      return;
    }
    const h = src.history;
    for (let i = from; i < to; i++) {
      this.sendVideo(h.get(i)!, i, (h.timestampOf(i) + this.tsDelta) >>> 0, nowMs);
    }
  }

  onAudioPacket(pkt: Buffer, streamTs: number): void {
    // Audio waits for video so that the first thing played is in sync with a decodable picture.
    if (this.state !== 'live' || !this.hasAudio) return;
    const seq = this.aSeq;
    this.aSeq = (seq + 1) & 0xffff;
    patchRtpHeader(pkt, this.aPt, seq, streamTs);
    this.audioPackets++;
    this.audioOctets += pkt.length - 12;
    this.bytes += pkt.length;
    this.sink.audio(pkt);
  }

  /** Answers a NACK from the shared history; returns how many packets were resent. */
  onNack(src: RtpSource, lost: readonly number[]): number {
    if (this.state === 'closed') return 0;
    this.nacks++;
    let n = 0;
    for (const seq of lost) {
      const slot = seq & MASK;
      if (this.ringSeq[slot] !== seq) continue;
      const pkt = src.history.get(this.ringIndex[slot]);
      if (!pkt) continue;
      patchRtpHeader(pkt, this.vPt, seq, this.ringTs[slot]);
      this.bytes += pkt.length;
      this.sink.video(pkt);
      n++;
    }
    this.retransmits += n;
    return n;
  }

  /** PLI or FIR: replay the cached GOP with fresh sequence numbers (we cannot ask an RTMP publisher for a keyframe). */
  onPictureLoss(src: RtpSource, nowMs: number): boolean {
    this.plis++;
    if (this.state !== 'live' || nowMs - this.lastPliAt < PLI_MIN_INTERVAL_MS) return false;
    this.lastPliAt = nowMs;
    return this.startFromGop(src, nowMs);
  }

  /** Sender reports for both tracks (RFC 3550, 6.4.1), with this viewer's video timestamp offset. */
  sendReports(src: RtpSource, nowMs: number): void {
    if (this.state !== 'live') return;
    const ntp = ntpFromUnixMs(nowMs);
    const vts = src.videoTimestampAt(nowMs);
    if (this.hasVideo && vts !== undefined && this.videoPackets > 0) {
      writeSenderReport(
        {
          ssrc: src.videoSsrc,
          ntpSec: ntp.sec,
          ntpFrac: ntp.frac,
          rtpTimestamp: (vts + this.tsDelta) >>> 0,
          packetCount: this.videoPackets,
          octetCount: this.videoOctets,
        },
        this.srBuf,
        0,
      );
      this.sink.rtcp('video', this.srBuf);
    }
    const ats = src.audioTimestampAt(nowMs);
    if (this.hasAudio && ats !== undefined && this.audioPackets > 0) {
      writeSenderReport(
        {
          ssrc: src.audioSsrc,
          ntpSec: ntp.sec,
          ntpFrac: ntp.frac,
          rtpTimestamp: ats,
          packetCount: this.audioPackets,
          octetCount: this.audioOctets,
        },
        this.srBuf,
        0,
      );
      this.sink.rtcp('audio', this.srBuf);
    }
  }

  close(): void {
    this.state = 'closed';
  }

  private sendVideo(pkt: Buffer, index: number, ts: number, nowMs: number): void {
    const seq = this.vSeq;
    this.vSeq = (seq + 1) & 0xffff;
    const slot = seq & MASK;
    this.ringSeq[slot] = seq;
    this.ringIndex[slot] = index;
    this.ringTs[slot] = ts;
    this.lastVideoTs = ts;
    patchRtpHeader(pkt, this.vPt, seq, ts);
    this.videoPackets++;
    this.videoOctets += pkt.length - 12;
    this.bytes += pkt.length;
    if (this.firstVideoAt === undefined) this.firstVideoAt = nowMs;
    this.sink.video(pkt);
  }
}
