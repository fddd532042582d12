/**
 * WebRTC egress on two RTC processes (rtc.processes = 2, process i on UDP port rtc.port + i): the
 * viewers of one stream are spread over both processes, their answers name both UDP ports, and all
 * of them receive media. Viewers are node-datachannel clients in a child process.
 */
import { createSocket } from 'node:dgram';
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { afterAll, describe, expect, it } from 'vitest';
import type { RtsNode } from '../../../engine/index.js';
import { killTrackedChildren } from '../../support/children.js';
import { publishTestPattern, type RunningFfmpeg } from '../../support/ffmpeg.js';
import { freeUdpPorts } from '../../support/ports.js';
import { waitFor } from '../../support/wait-for.js';
import { runWhepLoad } from '../../support/whep-load.js';
import { CHROME_OFFER } from '../../unit/transports/webrtc/chrome-offer.js';
import { startNode } from '../engine/engine-harness.js';

/** Two consecutive free UDP ports. */
async function udpPair(): Promise<number> {
  for (;;) {
    const [p] = await freeUdpPorts(1);
    if (p >= 65535) continue;
    const free = await new Promise<boolean>((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(p + 1, () => s.close(() => resolve(true)));
    });
    if (free) return p;
  }
}

let node: RtsNode | undefined;
let pub: RunningFfmpeg | undefined;
const otel = (() => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  return { exporter, reader };
})();
afterAll(async () => {
  await otel.reader.shutdown();
  await pub?.stop();
  await node?.close();
  await killTrackedChildren();
});

/**
 * A fresh node (the previous one closed) with RTC processes on two free consecutive UDP ports, and
 * ffmpeg publishing live/{name} to it; resolves once the node has the stream.
 */
async function serveStream(
  rtc: Record<string, unknown>,
  name: string,
  publish: Partial<Parameters<typeof publishTestPattern>[0]>,
): Promise<{ rtcPort: number; http: string }> {
  await pub?.stop();
  await node?.close();
  const rtcPort = await udpPair();
  const n = await startNode({ rtc: { port: rtcPort, ...rtc } });
  node = n;
  pub = publishTestPattern({ url: `rtmp://127.0.0.1:${n.ports.rtmp}/live/${name}`, seconds: 60, ...publish });
  await waitFor(async () => ((await n.streams()).length ? true : undefined), {
    timeoutMs: 10_000,
    what: 'the stream',
  });
  return { rtcPort, http: `http://127.0.0.1:${n.ports.http}` };
}

describe('WebRTC egress on two RTC processes', () => {
  it('spreads the viewers of one stream over both processes (two UDP ports); all receive media', async () => {
    const { rtcPort, http } = await serveStream({ processes: 2 }, 'two', {
      seconds: 60,
      width: 320,
      height: 240,
    });
    // two answers, one per process: the candidates name rtc.port and rtc.port + 1
    const offerPorts = new Set<number>();
    const report = await runWhepLoad(`${http}/live/two`, 6, 4);
    expect(report.clients.connected).toBe(6);
    expect(report.clients.videoPackets).toBeGreaterThan(6 * 60);
    const info = (await (await fetch(`${http}/api/v1/node`)).json()) as {
      webrtc: {
        packetsSent: number;
        serverLatencyMs: { samples: number; buckets: [number, number][] };
        processes: { udpPort: number; sessions: number; packetsSent: number }[];
      };
    };
    const procs = info.webrtc.processes;
    expect(procs.map((p) => p.udpPort).sort()).toEqual([rtcPort, rtcPort + 1]);
    for (const p of procs) expect(p.packetsSent, JSON.stringify(procs)).toBeGreaterThan(60);
    expect(info.webrtc.packetsSent).toBe(procs.reduce((n, p) => n + p.packetsSent, 0));
    const lat = info.webrtc.serverLatencyMs;
    expect(lat.buckets.reduce((n, [, c]) => n + c, 0)).toBe(lat.samples);
    // the processes' latency reaches the node's OpenTelemetry histogram, tagged protocol=webrtc
    await otel.reader.forceFlush();
    const points = otel.exporter
      .getMetrics()
      .flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))
      .filter((m) => m.descriptor.name === 'rts.server_latency')
      .flatMap((m) => m.dataPoints as { attributes: Record<string, unknown>; value: unknown }[]);
    const rtc = points.find((d) => d.attributes.protocol === 'webrtc')?.value as
      | { count: number }
      | undefined;
    expect(rtc?.count).toBeGreaterThan(0);
    expect(rtc?.count).toBeLessThanOrEqual(lat.samples);

    // the answers' host candidates: new offers go to the process with fewer sessions, so both show
    for (let i = 0; i < 10 && offerPorts.size < 2; i++) {
      const port = await answerPort(`${http}/live/two`);
      if (port) offerPorts.add(port);
    }
    expect([...offerPorts].sort()).toEqual([rtcPort, rtcPort + 1]);
  }, 120_000);
});

describe('a stalled RTC process (back-pressure on the frames forwarded to it)', () => {
  let stopped: number | undefined;
  afterAll(() => {
    if (stopped) process.kill(stopped, 'SIGCONT');
  });

  it('skips frames beyond the window while it is stopped, then serves from the next keyframe', async () => {
    const { http } = await serveStream({ processes: 1, ipcWindowBytes: 256 * 1024 }, 'stall', {
      seconds: 60,
      audio: 'none',
      videoKbps: 1500,
    });
    // an offer attaches the stream to the process: its frames are forwarded from now on
    await answerPort(`${http}/live/stall`);
    type NodeInfo = { webrtc: { ipcSkippedFrames: number; processes: { pid: number }[] } };
    const nodeInfo = async () => (await (await fetch(`${http}/api/v1/node`)).json()) as NodeInfo;
    const before = await nodeInfo();
    // (a busy host may already have skipped a few: the attach replays a whole GOP at once)
    const skippedBefore = before.webrtc.ipcSkippedFrames;
    const pid = before.webrtc.processes[0]!.pid;
    process.kill(pid, 'SIGSTOP');
    stopped = pid;
    const rssBefore = process.memoryUsage().rss;
    await new Promise((r) => setTimeout(r, 4000));
    const skippedWhileStopped = (await nodeInfo()).webrtc.ipcSkippedFrames;
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    process.kill(pid, 'SIGCONT');
    stopped = undefined;
    // 4 s of 1.5 Mbit/s is ~750 KB, far above the 256 KiB window: most frames were skipped
    expect(skippedWhileStopped - skippedBefore).toBeGreaterThan(40);
    expect(rssGrowth).toBeLessThan(64 * 1024 * 1024);
    // the process caught up: a new viewer plays from a keyframe
    const report = await runWhepLoad(`${http}/live/stall`, 2, 3);
    expect(report.clients.connected).toBe(2);
    expect(report.clients.videoPackets).toBeGreaterThan(2 * 60);
  }, 120_000);
});

describe('rtc.announce', () => {
  it("puts the announced address in every process's host candidate, with that process's port", async () => {
    const { rtcPort, http } = await serveStream({ processes: 2, announce: '203.0.113.7' }, 'nat', {
      seconds: 30,
      audio: 'none',
    });
    const seen = new Set<string>();
    for (let i = 0; i < 10 && seen.size < 2; i++) {
      const res = await fetch(`${http}/live/nat`, {
        method: 'POST',
        headers: { 'content-type': 'application/sdp' },
        body: CHROME_OFFER,
      });
      const sdp = await res.text();
      expect(res.status, sdp).toBe(201);
      const hosts = [...sdp.matchAll(/a=candidate:\S+ \d+ UDP \d+ (\S+) (\d+) typ host/gi)];
      expect(hosts.length, sdp).toBeGreaterThan(0);
      for (const m of hosts) seen.add(`${m[1]}:${m[2]}`);
    }
    expect([...seen].sort()).toEqual([`203.0.113.7:${rtcPort}`, `203.0.113.7:${rtcPort + 1}`]);
  }, 60_000);
});

describe('WHEP resources through the node (routed to their RTC process)', () => {
  it('PATCH trickles a candidate, refuses an ICE restart; DELETE ends the session, then 404', async () => {
    const { http } = await serveStream({ processes: 2 }, 'res', { audio: 'none' });
    // two sessions, so the two processes each hold one: PATCH/DELETE must find the right one
    const locations: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${http}/live/res`, {
        method: 'POST',
        headers: { 'content-type': 'application/sdp' },
        body: CHROME_OFFER,
      });
      expect(res.status, await res.text()).toBe(201);
      locations.push(new URL(res.headers.get('location') ?? '', http).href);
    }
    const req = (url: string, method: string, body?: string) =>
      fetch(url, {
        method,
        headers: body ? { 'content-type': 'application/trickle-ice-sdpfrag' } : {},
        body,
      });
    for (const loc of locations) {
      const ok = await req(
        loc,
        'PATCH',
        'a=mid:0\r\na=candidate:1 1 UDP 2122252543 127.0.0.1 50000 typ host\r\n',
      );
      expect(ok.status, await ok.text()).toBe(204);
      const restart = await req(loc, 'PATCH', 'a=ice-ufrag:zzzz\r\na=ice-pwd:yyyyyyyyyyyyyyyyyyyyyy\r\n');
      expect(restart.status).toBe(405);
      expect((await req(loc, 'DELETE')).status).toBe(200);
      expect((await req(loc, 'DELETE')).status).toBe(404);
    }
  }, 60_000);
});

describe('an audio-only stream', () => {
  it('plays over WebRTC: AAC transcoded to Opus, no video track', async () => {
    const { http } = await serveStream({ processes: 1 }, 'radio', { video: false });
    const report = await runWhepLoad(`${http}/live/radio`, 2, 3);
    expect(report.clients.connected).toBe(2);
    expect(report.clients.videoPackets).toBe(0);
    expect(report.clients.audioPackets).toBeGreaterThan(2 * 100); // 50 Opus packets/s each
  }, 60_000);
});

describe('an RTC process that crashes', () => {
  it('is started again with back-off while the node serves on; new viewers play', async () => {
    const { http } = await serveStream({ processes: 1 }, 'crash', { seconds: 60, audio: 'none' });
    await answerPort(`${http}/live/crash`);
    type NodeInfo = { webrtc: { processes: { pid: number; restarts: number }[] } };
    const nodeInfo = async () => (await (await fetch(`${http}/api/v1/node`)).json()) as NodeInfo;
    const first = (await nodeInfo()).webrtc.processes[0]!;
    expect(first.restarts).toBe(0);
    process.kill(first.pid, 'SIGKILL'); // as a native crash would end it
    let again: { pid: number; restarts: number } | undefined;
    await waitFor(
      async () => {
        again = (await nodeInfo()).webrtc.processes[0];
        return (again && again.pid !== first.pid) || 'missing: a new RTC process';
      },
      { timeoutMs: 15_000, what: 'the RTC process to be started again' },
    );
    expect(again?.restarts).toBe(1);
    // the node itself went on: RTMP still serves, and WebRTC viewers play through the new process
    expect((await node!.streams()).length).toBe(1);
    const report = await runWhepLoad(`${http}/live/crash`, 2, 3);
    expect(report.clients.connected).toBe(2);
    expect(report.clients.videoPackets).toBeGreaterThan(2 * 40);
  }, 120_000);
});

/** POSTs a minimal recvonly offer and returns the UDP port of the answer's first host candidate. */
async function answerPort(url: string): Promise<number | undefined> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp' },
    body: CHROME_OFFER,
  });
  const sdp = await res.text();
  expect(res.status, sdp).toBe(201);
  const m = /a=candidate:\S+ \d+ UDP \d+ \S+ (\d+) typ host/i.exec(sdp);
  return m ? Number(m[1]) : undefined;
}
