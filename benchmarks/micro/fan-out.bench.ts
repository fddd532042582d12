/**
 * Fan-out of one packet to N consumers: LiveStream.ingest (parse the FLV body once, one copy into
 * the ring, one FrameWire) with N fake StreamPlayers that only count, and with N that also ask
 * for the FLV tag header (as an HTTP-FLV player does). Shows the per-player cost of the packet
 * path without sockets.
 *
 *   node --import tsx benchmarks/micro/fan-out.bench.ts [--json]
 */
import { LiveStream } from '../../engine/stream/live-stream.js';
import type { StreamPlayer } from '../../engine/stream/stream-player.js';
import { LatencyHistogram } from '../../engine/telemetry/metrics.js';
import type { MediaFrame } from '../../media/frame/media-frame.js';
import type { FrameWire } from '../../transports/flv/frame-wire.js';
import { AVG_VIDEO_BYTES, avcBody, type MicroCase, runSuite } from './harness.js';

class CountingPlayer implements StreamPlayer {
  readonly protocol = 'flv' as const;
  bytesOut = 0;
  frames = 0;
  constructor(
    readonly id: string,
    private readonly touchWire: boolean,
  ) {}
  deliver(frame: MediaFrame, wire: FrameWire): void {
    this.frames++;
    if (this.touchWire) this.bytesOut += wire.httpChunkPrefix().length + frame.body.length;
  }
  deliverBatch(frames: readonly FrameWire[]): void {
    for (const w of frames) this.deliver(w.frame, w);
  }
  streamEnded(): void {}
}

const body = avcBody(AVG_VIDEO_BYTES, false);
const cases: MicroCase[] = [];
for (const touch of [false, true]) {
  for (const n of [1, 10, 100, 1000]) {
    const stream = new LiveStream(
      'bench/live/s',
      'live',
      's',
      'bench',
      1,
      0,
      { id: 'p', protocol: 'rtmp', remoteAddress: '127.0.0.1', startedAt: Date.now() },
      8 * 1024 * 1024,
      new LatencyHistogram(),
    );
    for (let i = 0; i < n; i++) stream.players.add(new CountingPlayer(`p${i}`, touch));
    let ts = 0;
    cases.push({
      name: `ingest → ${n} player${n > 1 ? 's' : ''}${touch ? ' (+FLV header)' : ''}`,
      fn: () => {
        ts += 33;
        stream.ingest(9, ts, body);
      },
      unitsPerOp: n,
      unit: 'deliveries',
    });
  }
}

await runSuite('fan-out', cases);
