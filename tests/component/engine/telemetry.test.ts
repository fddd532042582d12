import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RtsNode } from '../../../engine/node.js';
import {
  type FilePublisher,
  publishFrames,
  readFlvTags,
  startNode,
  testFrames,
} from '../../interop/engine/engine-harness.js';

describe('OpenTelemetry instruments', () => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  let node: RtsNode;
  let pub: FilePublisher;
  beforeAll(async () => {
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    node = await startNode();
    pub = await publishFrames(`rtmp://127.0.0.1:${node.ports.rtmp}/live/m`, await testFrames());
  }, 60_000);
  afterAll(async () => {
    await pub?.stop();
    await node?.close();
    await reader.shutdown();
  });

  it('record ingest bitrate per stream, players per protocol and the server-added latency histogram', async () => {
    let tags = 0;
    await readFlvTags(`http://127.0.0.1:${node.ports.http}/live/m.flv`, () => ++tags > 50);
    await reader.forceFlush();
    const all = exporter.getMetrics().flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
    const byName = new Map(all.map((m) => [m.descriptor.name, m]));
    const ingest = byName.get('rts.ingest.bytes');
    expect(
      ingest?.dataPoints.find((d) => d.attributes.stream === '_/live/m')?.value as number,
    ).toBeGreaterThan(10_000);
    const latency = byName.get('rts.server_latency');
    const hist = latency?.dataPoints[0]?.value as { count: number };
    expect(hist.count).toBeGreaterThan(20);
    const players = byName.get('rts.players');
    expect(players?.dataPoints.find((d) => d.attributes.protocol === 'flv')).toBeDefined();
    const info = (await node.nodeInfo()) as { serverLatencyMs: { p50: number; samples: number } };
    expect(info.serverLatencyMs.samples).toBeGreaterThan(20);
  });
});
