/**
 * Sender CPU per RTP packet on the JS thread (where node-datachannel's send runs SRTP and
 * sendto synchronously), two ways of feeding V viewers of one stream:
 *  - own: packetize once (H264Packetizer), patch seq/ts per viewer, track.sendMessageBinary(packet)
 *  - ndc: a per-viewer H264RtpPacketizer + RtcpSrReporter + RtcpNackResponder media-handler chain,
 *         track.sendMessageBinary(access unit) per viewer (packetization repeated per viewer)
 * V viewers are simulated as V sends on one loopback track (same per-send work). Delivery is
 * not checked here (the load run checks it end to end).
 * Run: npx tsx benchmarks/webrtc/send-path.ts [viewers=20] [seconds=3] [packets/s=20000]
 */
import { readFileSync } from 'node:fs';
import ndc from 'node-datachannel';
import { H264Packetizer } from '../../transports/webrtc/rtp/h264-packetizer.js';
import { patchRtpHeader } from '../../transports/webrtc/rtp/rtp-header.js';

const V = Number(process.argv[2] ?? 20);
const SECONDS = Number(process.argv[3] ?? 3);
const RATE = Number(process.argv[4] ?? 20_000);

function mainThreadUs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
}

async function pair(port: number): Promise<{ track: ndc.Track; close(): void }> {
  const server = new ndc.PeerConnection('s', {
    iceServers: [],
    enableIceUdpMux: true,
    portRangeBegin: port,
    portRangeEnd: port,
    bindAddress: '127.0.0.1',
  });
  const client = new ndc.PeerConnection('c', { iceServers: [], bindAddress: '127.0.0.1' });
  const cv = new ndc.Video('0', 'RecvOnly');
  cv.addH264Codec(102);
  const ct = client.addTrack(cv);
  void ct; // no onMessage: receiving must not run JS on the measured thread
  const offer = await new Promise<string>((res) => {
    client.onGatheringStateChange((s) => s === 'complete' && res(client.localDescription()!.sdp));
    client.setLocalDescription();
  });
  const sv = new ndc.Video('0', 'SendOnly');
  sv.addH264Codec(102);
  sv.addSSRC(42, 'c', 's', 'v');
  const track = server.addTrack(sv);
  const answer = await new Promise<string>((res) => {
    server.onGatheringStateChange((s) => s === 'complete' && res(server.localDescription()!.sdp));
    server.setRemoteDescription(offer, 'offer');
    if (server.gatheringState() === 'complete') res(server.localDescription()!.sdp);
  });
  client.setRemoteDescription(answer, 'answer');
  await new Promise<void>((res) => track.onOpen(() => res()));
  return {
    track,
    close: () => {
      client.close();
      server.close();
    },
  };
}

function avcc(type: number, size: number): Buffer {
  const out = Buffer.alloc(4 + size, 0x5a);
  out.writeUInt32BE(size, 0);
  out[4] = 0x60 | type;
  return out;
}

// A 500 kbps-like GOP at 25 fps: one 20 KB keyframe and 24 P-frames of 2 KB.
const gop = [avcc(5, 20_000), ...Array.from({ length: 24 }, () => avcc(1, 2_000))];

async function run(
  name: string,
  port: number,
  setup: (t: ndc.Track) => (frame: Buffer, ts: number) => number,
) {
  const p = await pair(port);
  const send = setup(p.track);
  const u0 = mainThreadUs();
  const t0 = performance.now();
  let packets = 0;
  let i = 0;
  while (performance.now() - t0 < SECONDS * 1000) {
    packets += send(gop[i % gop.length], i * 3600);
    i++;
    // Paced to RATE packets/s so that nothing is dropped for want of socket buffer.
    const ahead = (packets / RATE) * 1000 - (performance.now() - t0);
    if (ahead > 2) await new Promise((r) => setTimeout(r, ahead));
    else if (i % 25 === 0) await new Promise((r) => setImmediate(r));
  }
  const cpu = mainThreadUs() - u0;
  await new Promise((r) => setTimeout(r, 300));
  const row = {
    name,
    viewers: V,
    ratePerSec: RATE,
    packets,
    usPerPacket: Number((cpu / packets).toFixed(2)),
    packetsPerSecOneCore: Math.round(packets / (cpu / 1e6)),
  };
  p.close();
  return row;
}

const own = await run('own: packetize once, patch + send per viewer', 40_910, (track) => {
  const pk = new H264Packetizer({ ssrc: 42, payloadType: 102 });
  let seq = 0;
  return (frame, ts) => {
    const pkts = pk.packetize(frame, ts);
    for (let v = 0; v < V; v++) {
      for (const p of pkts) {
        patchRtpHeader(p, 102, seq++ & 0xffff, ts);
        track.sendMessageBinary(p);
      }
    }
    return pkts.length * V;
  };
});
const mine = await run('ndc: H264RtpPacketizer+SR+NACK chain per viewer', 40_911, (track) => {
  const cfg = new ndc.RtpPacketizationConfig(42, 'c', 102, 90_000);
  const packetizer = new ndc.H264RtpPacketizer('Length', cfg, 1188);
  packetizer.addToChain(new ndc.RtcpSrReporter(cfg));
  packetizer.addToChain(new ndc.RtcpNackResponder());
  track.setMediaHandler(packetizer);
  const perFrame = (f: Buffer) => Math.max(1, Math.ceil((f.length - 5) / 1186));
  return (frame, ts) => {
    cfg.timestamp = ts;
    for (let v = 0; v < V; v++) track.sendMessageBinary(frame);
    return perFrame(frame) * V;
  };
});
process.stdout.write(
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, results: [own, mine] }, null, 2)}\n`,
);
ndc.cleanup();
