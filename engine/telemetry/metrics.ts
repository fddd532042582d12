import { metrics } from '@opentelemetry/api';

/**
 * The node's OpenTelemetry instruments. The metrics API has no proxy: a meter taken before an SDK
 * registers stays a no-op. So instruments are (re)made from whichever MeterProvider is global when
 * they are used: no-ops until an SDK is started (the CLI starts @opentelemetry/sdk-node when OTEL_*
 * variables ask for an exporter; an embedder registers its own), so embedding costs nothing.
 */
function makeInstruments() {
  const meter = metrics.getMeter('rts-engine');
  return {
    ingestBytes: meter.createCounter('rts.ingest.bytes', {
      description: 'Bytes received from publishers, per stream',
      unit: 'By',
    }),
    players: meter.createUpDownCounter('rts.players', { description: 'Players connected, per protocol' }),
    egressBytes: meter.createCounter('rts.egress.bytes', {
      description: 'Bytes sent to players, per domain and protocol',
      unit: 'By',
    }),
    serverLatency: meter.createHistogram('rts.server_latency', {
      description:
        'Server-added latency: frame received from the publisher to written to the last local player ' +
        '(protocol=webrtc: to the send of its last RTP packet to the last WebRTC viewer)',
      unit: 'ms',
      advice: { explicitBucketBoundaries: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 250, 500] },
    }),
  };
}

let provider: unknown;
let cached: ReturnType<typeof makeInstruments> | undefined;

/** The instruments of the MeterProvider that is global now. */
export function telemetry(): ReturnType<typeof makeInstruments> {
  const current = metrics.getMeterProvider();
  if (!cached || current !== provider) {
    provider = current;
    cached = makeInstruments();
  }
  return cached;
}

/** Bytes metered per domain and protocol (the service bills by these). */
export class ByteMeter {
  private readonly totals = new Map<string, number>();
  add(domain: string, protocol: string, bytes: number): void {
    if (bytes <= 0) return;
    const k = `${domain}\u0000${protocol}`;
    this.totals.set(k, (this.totals.get(k) ?? 0) + bytes);
    telemetry().egressBytes.add(bytes, { domain, protocol });
  }
  snapshot(): { domain: string; protocol: string; bytes: number }[] {
    return [...this.totals].map(([k, bytes]) => {
      const [domain, protocol] = k.split('\u0000');
      return { domain, protocol, bytes };
    });
  }
}

/** What the API shows of a LatencyHistogram. */
export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
  samples: number;
}

/** A small fixed-bucket latency histogram for the API and benchmarks (p50/p99 without an exporter). */
export class LatencyHistogram {
  private readonly bounds: number[] = [];
  private readonly counts: number[];
  count = 0;
  max = 0;
  constructor() {
    for (let b = 0.05; b < 10_000; b *= 1.15) this.bounds.push(b);
    this.counts = new Array(this.bounds.length + 1).fill(0);
  }
  record(ms: number): void {
    this.count++;
    if (ms > this.max) this.max = ms;
    this.counts[this.bucketOf(ms)]++;
  }

  /** Adds another histogram's `buckets()` (and its max): merged percentiles of several processes. */
  merge(buckets: readonly [number, number][], max: number): void {
    for (const [bound, n] of buckets) {
      this.counts[this.bucketOf(bound)] += n;
      this.count += n;
    }
    if (max > this.max) this.max = max;
  }

  private bucketOf(ms: number): number {
    let lo = 0;
    let hi = this.bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.bounds[mid] < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  summary(): LatencySummary {
    return { p50: this.percentile(50), p99: this.percentile(99), max: this.max, samples: this.count };
  }

  /**
   * The non-empty buckets as [upper bound ms, count] (the overflow bucket, above 10 s, with one more
   * step as its bound): two readings a while apart give the percentiles of that window (benchmarks
   * diff them).
   */
  buckets(): [number, number][] {
    const out: [number, number][] = [];
    const last = this.bounds.length - 1;
    for (let i = 0; i < this.counts.length; i++) {
      if (this.counts[i] > 0)
        out.push([i <= last ? this.bounds[i] : this.bounds[last] * 1.15, this.counts[i]]);
    }
    return out;
  }

  percentile(p: number): number {
    if (this.count === 0) return 0;
    let target = Math.ceil((p / 100) * this.count);
    for (let i = 0; i < this.counts.length; i++) {
      target -= this.counts[i];
      if (target <= 0) return i < this.bounds.length ? this.bounds[i] : this.max;
    }
    return this.max;
  }
}
