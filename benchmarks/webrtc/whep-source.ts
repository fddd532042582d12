/**
 * The stream `rts bench --protocol whep --self` publishes: H.264 baseline (no B-frames, GOP 1 s,
 * CBR) from the RTMP benchmark's ffmpeg-made file, with Opus (48 kbit/s, 20 ms) instead of its AAC,
 * sent as enhanced-RTMP Opus so that the node serves WebRTC without an AAC → Opus transcoder.
 */
import { opusAudioBody } from '../../actors/transcoder/flv-bodies.js';
import {
  ensureSourceFile,
  type LoadedSource,
  loadSource,
  type SourceSpec,
  type SourceTag,
} from '../load/media-source.js';
import { makeFixtures, opusPacketSamples, readOggPackets } from './file-feed.js';

const OPUS_KBPS = 48;

/** Video for a total of about `kbps` with the Opus track: 360p25 up to 1 Mbit/s, 720p30 above. */
export function whepSourceSpec(kbps: number): SourceSpec {
  const videoKbps = Math.max(100, kbps - OPUS_KBPS);
  return kbps <= 1000
    ? { width: 640, height: 360, fps: 25, videoKbps, audioKbps: 48, seconds: 10 }
    : { width: 1280, height: 720, fps: 30, videoKbps, audioKbps: 128, seconds: 10 };
}

/** Encodes (once, cached in the temp dir) and loads the H.264 + Opus source of about `kbps`. */
export async function loadWhepSource(kbps: number): Promise<LoadedSource> {
  const spec = whepSourceSpec(kbps);
  const flv = loadSource(await ensureSourceFile(spec), spec);
  const { ogg } = await makeFixtures({ seconds: spec.seconds });
  const packets = readOggPackets(ogg);
  if (packets.length < 3) throw new Error(`${ogg}: no Opus packets`);
  const video = flv.media.filter((t) => t.typeId === 9);
  const base = video[0].timestamp;
  const audio: SourceTag[] = [];
  let samples = 0;
  for (const p of packets.slice(2)) {
    const ms = Math.round(samples / 48);
    if (ms >= flv.loopMs) break;
    audio.push({ typeId: 8, timestamp: base + ms, body: opusAudioBody(p, false), key: false, config: false });
    samples += opusPacketSamples(p);
  }
  // Video first at equal timestamps (the sort is stable).
  const media = [...video, ...audio].sort((a, b) => a.timestamp - b.timestamp);
  const bytes = media.reduce((n, t) => n + t.body.length, 0);
  return {
    path: `${flv.path} + ${ogg}`,
    spec: { ...spec, audioKbps: OPUS_KBPS },
    configs: [
      ...flv.configs.filter((t) => t.typeId === 9),
      { typeId: 8, timestamp: 0, body: opusAudioBody(packets[0], true), key: false, config: true },
    ],
    media,
    loopMs: flv.loopMs,
    bitrate: (bytes * 8 * 1000) / flv.loopMs,
  };
}
