import { describe, expect, it } from 'vitest';
import { PacketHistory } from '../../../../transports/webrtc/rtp/packet-history.js';
import { readRtpHeader, writeRtpHeader } from '../../../../transports/webrtc/rtp/rtp-header.js';
import {
  REPLAY_TS_COMPRESSION,
  type RtpSource,
  RtpViewer,
} from '../../../../transports/webrtc/rtp-viewer.js';

/** A stream of 2-packet access units at 30 ms (2700 ticks); keyframe every `gop` frames. */
class FakeSource implements RtpSource {
  readonly history = new PacketHistory(256);
  gopStart = -1;
  readonly videoSsrc = 1;
  readonly audioSsrc = 2;
  readonly viewers: RtpViewer[] = [];
  frame = 0;
  videoTimestampAt(): number {
    return 0;
  }
  audioTimestampAt(): number {
    return 0;
  }
  push(gop: number): void {
    const ts = 90_000 + this.frame * 2700;
    const key = this.frame % gop === 0;
    const from = this.history.head;
    if (key) this.gopStart = from;
    for (let i = 0; i < 2; i++) {
      const b = Buffer.alloc(100);
      writeRtpHeader(b, 0, i === 1, 102, 0, ts, 1);
      this.history.push(b, ts);
    }
    this.frame++;
    for (const v of this.viewers) v.onVideoPackets(this, from, this.history.head, key, 0);
  }
}

function viewer(sent: { seq: number; ts: number; pt: number }[]): RtpViewer {
  return new RtpViewer({
    sink: {
      video: (p) => {
        const h = readRtpHeader(p)!;
        sent.push({ seq: h.seq, ts: h.timestamp, pt: h.payloadType });
      },
      audio: () => {},
      rtcp: () => {},
    },
    videoPayloadType: 106,
    audioPayloadType: 111,
    hasVideo: true,
    hasAudio: true,
    initialVideoSeq: 65530,
  });
}

describe('RtpViewer', () => {
  it('starts from the cached GOP with squeezed timestamps ending at the live one, then continues live', () => {
    const src = new FakeSource();
    for (let i = 0; i < 15; i++) src.push(10); // GOP of frames 10..14 cached
    const sent: { seq: number; ts: number; pt: number }[] = [];
    const v = viewer(sent);
    src.viewers.push(v);
    expect(v.startFromGop(src, 0)).toBe(true);
    expect(sent).toHaveLength(10);
    expect(sent.map((s) => s.seq)).toEqual([65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3]);
    const liveTs = 90_000 + 14 * 2700;
    expect(sent[9].ts).toBe(liveTs);
    expect(sent[0].ts).toBe(liveTs - Math.floor((4 * 2700) / REPLAY_TS_COMPRESSION));
    expect(sent.every((s) => s.pt === 106)).toBe(true);
    src.push(10);
    expect(sent[10]).toEqual({ seq: 4, ts: liveTs + 2700, pt: 106 });
  });

  it('waits for the next keyframe when nothing is cached', () => {
    const src = new FakeSource();
    const sent: { seq: number; ts: number; pt: number }[] = [];
    const v = viewer(sent);
    src.viewers.push(v);
    expect(v.startFromGop(src, 0)).toBe(false);
    expect(v.state).toBe('waiting-key');
    src.push(3); // frame 0 is key
    expect(v.state).toBe('live');
    expect(sent).toHaveLength(2);
  });

  it('answers NACK with the same seq and timestamp it first sent, ignores unknown ones', () => {
    const src = new FakeSource();
    for (let i = 0; i < 5; i++) src.push(10);
    const sent: { seq: number; ts: number; pt: number }[] = [];
    const v = viewer(sent);
    src.viewers.push(v);
    v.startFromGop(src, 0);
    src.push(10);
    const original = sent.slice();
    expect(v.onNack(src, [original[3].seq, original[11].seq, 12345])).toBe(2);
    expect(sent.slice(-2)).toEqual([original[3], original[11]]);
  });

  it('answers a PLI with a GOP replay whose timestamps continue after the last sent, at most once a second', () => {
    const src = new FakeSource();
    for (let i = 0; i < 6; i++) src.push(10);
    const sent: { seq: number; ts: number; pt: number }[] = [];
    const v = viewer(sent);
    src.viewers.push(v);
    v.startFromGop(src, 0);
    const lastTs = sent[sent.length - 1].ts;
    const n = sent.length;
    expect(v.onPictureLoss(src, 5000)).toBe(true);
    expect(sent.length).toBe(2 * n);
    expect(sent[n].ts).toBe(lastTs + 90);
    expect(sent[n].seq).toBe((sent[n - 1].seq + 1) & 0xffff);
    expect(v.onPictureLoss(src, 5500)).toBe(false);
    src.push(10);
    const after = sent[sent.length - 1].ts;
    expect(after).toBeGreaterThan(sent[2 * n - 1].ts);
  });
});
