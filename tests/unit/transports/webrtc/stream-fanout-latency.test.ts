import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../engine/logging/logger.js';
import { LatencyHistogram } from '../../../../engine/telemetry/metrics.js';
import type { MediaFrame } from '../../../../media/frame/media-frame.js';
import type { RtpViewer } from '../../../../transports/webrtc/rtp-viewer.js';
import { StreamFanout } from '../../../../transports/webrtc/stream-fanout.js';
import type { StreamFeed } from '../../../../transports/webrtc/types.js';

const wallNow = () => performance.timeOrigin + performance.now();

function frame(kind: 'video' | 'audio', ingestTime: number): MediaFrame {
  // video: one 4-byte-length-prefixed non-IDR NAL; audio: one Opus packet
  const payload = kind === 'video' ? Uint8Array.of(0, 0, 0, 3, 0x41, 1, 2) : Uint8Array.of(0xfc, 1, 2);
  return {
    kind,
    codec: kind === 'video' ? 'h264' : 'opus',
    dts: 0,
    pts: 0,
    key: kind === 'audio',
    config: false,
    body: payload,
    payload,
    seq: 0,
    ingestTime,
  };
}

describe('StreamFanout server-added latency', () => {
  it('records once per frame sent to at least one viewer: wall clock after the last send minus ingest time', () => {
    let push: (f: MediaFrame) => void = () => {};
    const feed: StreamFeed = {
      info: {},
      subscribe: (onFrame) => {
        push = onFrame;
        return () => {};
      },
    };
    const latency = new LatencyHistogram();
    const fanout = new StreamFanout({
      key: 'live/s',
      feed,
      logger: silentLogger,
      now: Date.now,
      latency,
      onEnd: () => {},
    });
    push(frame('video', wallNow() - 5));
    expect(latency.count).toBe(0); // nobody watching
    let sends = 0;
    const viewer = {
      startFromGop: () => false,
      onVideoPackets: () => {
        sends++;
      },
      onAudioPacket: () => {
        sends++;
      },
    } as unknown as RtpViewer;
    fanout.attach(viewer);
    fanout.attach({ ...viewer } as RtpViewer);
    push(frame('video', wallNow() - 5));
    push(frame('audio', wallNow() - 5));
    push(frame('audio', 0)); // no ingest time: not recorded
    expect(sends).toBe(6);
    expect(latency.count).toBe(2);
    expect(latency.max).toBeGreaterThanOrEqual(5);
    expect(latency.max).toBeLessThan(1000);
    const buckets = latency.buckets();
    expect(buckets.reduce((n, [, c]) => n + c, 0)).toBe(2);
    fanout.close();
  });
});
