/**
 * Push-based MPEG-TS demuxer for ffmpeg's output (ISO/IEC 13818-1, 2.4.3 transport packets,
 * 2.4.4 PAT/PMT, 2.4.3.6 PES). Only what the transcoder needs: one program, H.264 (stream_type
 * 0x1B) and Opus (0x06 with registration descriptor 'Opus'); other streams are ignored.
 *
 * ```
 * TS packet (188 bytes): 0x47 | TEI:1 PUSI:1 prio:1 PID:13 | scramble:2 AFC:2 CC:4 | [adaptation] | payload
 * PES: 00 00 01 | stream_id | PES_packet_length:16 | 10.. flags | PTS_DTS_flags:2 ... | header_len | [PTS:40] [DTS:40] | data
 * ```
 * A PES with a non-zero PES_packet_length is emitted as soon as it is complete (ffmpeg writes
 * the length for video when `-omit_video_pes_length 0` and the frame fits 64 KiB); others are
 * emitted when the next PES of the same PID starts.
 */
import { ProtocolError } from '../../engine/errors.js';

export const TS_PACKET_SIZE = 188;
/** A PES larger than this closes the demuxer with an error (no sane 1080p frame is that big). */
export const MAX_PES_SIZE = 8 * 1024 * 1024;

export type TsStreamKind = 'h264' | 'opus' | 'other';

export interface PesPacket {
  pid: number;
  kind: TsStreamKind;
  /** 90 kHz ticks, 33 bits, not unwrapped. */
  pts: number | undefined;
  dts: number | undefined;
  /** The PES payload (elementary stream bytes), a fresh buffer the caller may keep. */
  data: Uint8Array;
}

interface PesAssembly {
  parts: Uint8Array[];
  size: number;
  /** Expected PES payload size, or -1 when unbounded. */
  expected: number;
  pts: number | undefined;
  dts: number | undefined;
  headerDone: boolean;
}

function readTimestamp(b: Uint8Array, p: number): number {
  return (
    ((b[p] >> 1) & 0x07) * 0x40000000 +
    (b[p + 1] << 22) +
    ((b[p + 2] >> 1) << 15) +
    (b[p + 3] << 7) +
    (b[p + 4] >> 1)
  );
}

export class MpegTsDemuxer {
  private remainder: Uint8Array | undefined;
  private pmtPid = -1;
  private readonly streams = new Map<number, TsStreamKind>();
  private readonly pes = new Map<number, PesAssembly>();
  /** Packets skipped while looking for sync. */
  resyncBytes = 0;

  constructor(private readonly onPes: (p: PesPacket) => void) {}

  /** Feeds bytes from ffmpeg's stdout; emits every PES completed by them. */
  push(chunk: Uint8Array): void {
    let buf = chunk;
    if (this.remainder) {
      const joined = new Uint8Array(this.remainder.length + chunk.length);
      joined.set(this.remainder, 0);
      joined.set(chunk, this.remainder.length);
      buf = joined;
      this.remainder = undefined;
    }
    let p = 0;
    while (buf.length - p >= TS_PACKET_SIZE) {
      if (buf[p] !== 0x47) {
        p++;
        this.resyncBytes++;
        continue;
      }
      this.packet(buf, p);
      p += TS_PACKET_SIZE;
    }
    if (p < buf.length) this.remainder = buf.slice(p);
  }

  /** Emits every PES still being collected (end of stream). */
  flush(): void {
    for (const pid of [...this.pes.keys()]) this.emit(pid);
  }

  private packet(b: Uint8Array, p: number): void {
    const pusi = (b[p + 1] & 0x40) !== 0;
    const pid = ((b[p + 1] & 0x1f) << 8) | b[p + 2];
    const afc = (b[p + 3] >> 4) & 3;
    if ((afc & 1) === 0) return;
    let start = p + 4;
    if (afc & 2) start += 1 + b[p + 4];
    const end = p + TS_PACKET_SIZE;
    if (start >= end) return;
    if (pid === 0) {
      if (pusi) this.pat(b.subarray(start + 1 + b[start], end));
      return;
    }
    if (pid === this.pmtPid) {
      if (pusi) this.pmt(b.subarray(start + 1 + b[start], end));
      return;
    }
    if (!this.streams.has(pid)) return;
    const payload = b.subarray(start, end);
    if (pusi) {
      if (this.pes.has(pid)) this.emit(pid);
      this.pes.set(pid, {
        parts: [payload],
        size: payload.length,
        expected: -1,
        pts: undefined,
        dts: undefined,
        headerDone: false,
      });
    } else {
      const a = this.pes.get(pid);
      if (!a) return;
      a.parts.push(payload);
      a.size += payload.length;
      if (a.size > MAX_PES_SIZE) {
        this.pes.delete(pid);
        throw new ProtocolError(
          'RTS_ERR_TS_PES_TOO_LARGE',
          `PES on PID ${pid} exceeds ${MAX_PES_SIZE} bytes`,
        );
      }
    }
    const a = this.pes.get(pid)!;
    if (!a.headerDone) this.pesHeader(a);
    if (a.headerDone && a.expected >= 0 && a.size >= a.expected) this.emit(pid);
  }

  private pesHeader(a: PesAssembly): void {
    const first = a.parts.length === 1 ? a.parts[0] : this.join(a);
    if (first.length < 9) return;
    if (first[0] !== 0 || first[1] !== 0 || first[2] !== 1) {
      a.parts = [];
      a.size = 0;
      a.headerDone = true;
      a.expected = 0;
      return;
    }
    const headerLen = 9 + first[8];
    if (first.length < headerLen) return;
    const flags = first[7] >> 6;
    if (flags & 2) a.pts = readTimestamp(first, 9);
    a.dts = flags === 3 ? readTimestamp(first, 14) : a.pts;
    const pesLen = (first[4] << 8) | first[5];
    a.expected = pesLen ? pesLen + 6 : -1;
    a.headerDone = true;
    // Keep the header in the parts; it is cut off once at emission (expected counts it too).
    a.parts = [first];
    a.size = first.length;
  }

  private join(a: PesAssembly): Uint8Array {
    const out = new Uint8Array(a.size);
    let o = 0;
    for (const part of a.parts) {
      out.set(part, o);
      o += part.length;
    }
    return out;
  }

  private emit(pid: number): void {
    const a = this.pes.get(pid);
    this.pes.delete(pid);
    if (!a?.headerDone || a.size === 0) return;
    const all = this.join(a);
    const headerLen = 9 + all[8];
    const end = a.expected >= 0 ? Math.min(a.expected, all.length) : all.length;
    if (headerLen >= end) return;
    this.onPes({
      pid,
      kind: this.streams.get(pid) ?? 'other',
      pts: a.pts,
      dts: a.dts,
      data: all.subarray(headerLen, end),
    });
  }

  private pat(s: Uint8Array): void {
    if (s.length < 8 || s[0] !== 0) return;
    const sectionLen = ((s[1] & 0x0f) << 8) | s[2];
    const end = Math.min(s.length, 3 + sectionLen - 4);
    for (let p = 8; p + 4 <= end; p += 4) {
      const program = (s[p] << 8) | s[p + 1];
      if (program !== 0) {
        this.pmtPid = ((s[p + 2] & 0x1f) << 8) | s[p + 3];
        return;
      }
    }
  }

  private pmt(s: Uint8Array): void {
    if (s.length < 12 || s[0] !== 2) return;
    const sectionLen = ((s[1] & 0x0f) << 8) | s[2];
    const end = Math.min(s.length, 3 + sectionLen - 4);
    const infoLen = ((s[10] & 0x0f) << 8) | s[11];
    let p = 12 + infoLen;
    while (p + 5 <= end) {
      const type = s[p];
      const pid = ((s[p + 1] & 0x1f) << 8) | s[p + 2];
      const esLen = ((s[p + 3] & 0x0f) << 8) | s[p + 4];
      let kind: TsStreamKind = 'other';
      if (type === 0x1b) kind = 'h264';
      else if (type === 0x06 && hasOpusRegistration(s, p + 5, Math.min(end, p + 5 + esLen))) kind = 'opus';
      if (kind !== 'other') this.streams.set(pid, kind);
      p += 5 + esLen;
    }
  }
}

function hasOpusRegistration(s: Uint8Array, from: number, to: number): boolean {
  for (let p = from; p + 2 <= to; p += 2 + s[p + 1]) {
    if (
      s[p] === 0x05 &&
      s[p + 1] >= 4 &&
      s[p + 2] === 0x4f &&
      s[p + 3] === 0x70 &&
      s[p + 4] === 0x75 &&
      s[p + 5] === 0x73
    ) {
      return true;
    }
  }
  return false;
}
