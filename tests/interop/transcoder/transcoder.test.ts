import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { opusPacketDurationMs } from '../../../actors/transcoder/elementary.js';
import { encodeFlvHeader, encodeFlvTag } from '../../../actors/transcoder/flv-writer.js';
import { AUDIO_OPUS_TEMPLATE, RTS_TEMPLATE } from '../../../actors/transcoder/templates.js';
import { Transcoder } from '../../../actors/transcoder/transcoder.js';
import { parseFlvAudioBody, parseFlvVideoBody } from '../../../media/codec/analyze.js';
import type { MediaFrame } from '../../../media/frame/media-frame.js';
import { killTrackedChildren } from '../../support/children.js';
import { decode, makeTestFile, probe } from '../../support/ffmpeg.js';
import { readFlvFrames, replayFrames } from '../../support/flv-frames.js';
import { waitFor } from '../../support/wait-for.js';
import { oggOpusFile } from './ogg-opus-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'rts-transcoder-'));
let source: MediaFrame[] = [];
const transcoders: Transcoder[] = [];

interface Collected {
  frame: MediaFrame;
  at: number;
}

function collect(t: Transcoder): Collected[] {
  const out: Collected[] = [];
  t.on('frame', (f) =>
    out.push({ frame: { ...f, body: f.body.slice(), payload: f.payload.slice() }, at: Date.now() }),
  );
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

beforeAll(async () => {
  // High profile with B-frames and a 2 s GOP, so the rts template visibly re-encodes.
  const file = await makeTestFile({
    url: join(dir, 'src.flv'),
    seconds: 4,
    width: 320,
    height: 240,
    fps: 25,
    gop: 50,
    bframes: 2,
  });
  source = readFlvFrames(file);
}, 60_000);

afterEach(async () => {
  await Promise.all(transcoders.splice(0).map((t) => t.stop()));
  expect(await killTrackedChildren()).toBe(0);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Transcoder (ffmpeg child)', () => {
  it('audio-opus turns AAC into Opus frames on the input timeline and passes video through', async () => {
    const t = new Transcoder({ template: AUDIO_OPUS_TEMPLATE });
    transcoders.push(t);
    const out = collect(t);
    t.start();
    const replay = replayFrames(source, (f) => t.push(f));
    await replay.done;
    const aac = source.filter((f) => f.kind === 'audio' && !f.config);
    const lastAac = aac[aac.length - 1].dts;
    await waitFor(
      () => {
        const opus = out.filter((c) => c.frame.codec === 'opus' && !c.frame.config);
        const last = opus[opus.length - 1]?.frame.dts ?? -1;
        return last >= lastAac - 150 || `missing: opus up to ${lastAac - 150} ms, have up to ${last}`;
      },
      { timeoutMs: 5000, what: 'Opus frames covering the input' },
    );
    const opusCfg = out.filter((c) => c.frame.codec === 'opus' && c.frame.config);
    expect(opusCfg).toHaveLength(1);
    expect(Buffer.from(opusCfg[0].frame.payload.subarray(0, 8)).toString('latin1')).toBe('OpusHead');
    expect(opusCfg[0].frame.body[0]).toBe(0x90);
    const opus = out.filter((c) => c.frame.codec === 'opus' && !c.frame.config).map((c) => c.frame);
    for (let i = 1; i < opus.length; i++) expect(opus[i].dts).toBeGreaterThan(opus[i - 1].dts);
    expect(opus.every((f) => f.key && f.kind === 'audio' && f.body[0] === 0x91)).toBe(true);
    // Aligned with the input: start and span within 100 ms.
    expect(Math.abs(opus[0].dts - aac[0].dts)).toBeLessThan(100);
    expect(Math.abs(opus[opus.length - 1].dts - lastAac)).toBeLessThan(100);
    // ~20 ms packets.
    expect(median(opus.slice(1).map((f, i) => f.dts - opus[i].dts))).toBe(20);
    // Video copied untouched.
    const videoIn = source.filter((f) => f.kind === 'video');
    const videoOut = out.filter((c) => c.frame.kind === 'video').map((c) => c.frame);
    expect(videoOut.map((f) => f.dts)).toEqual(videoIn.map((f) => f.dts));
    // Real Opus: ffmpeg decodes the packets (in an Ogg file) without errors, for the input's duration.
    const ogg = join(dir, 'audio-opus.ogg');
    writeFileSync(
      ogg,
      oggOpusFile(
        opusCfg[0].frame.payload,
        opus.map((f) => ({ data: f.payload, samples: opusPacketDurationMs(f.payload) * 48 })),
      ),
    );
    const p = await probe(ogg);
    expect(p.streams[0]).toMatchObject({ codec_name: 'opus', sample_rate: '48000', channels: 2 });
    expect(Number(p.format?.duration)).toBeGreaterThan(3.5);
    const d = await decode(ogg, { seconds: 10 });
    expect(d.exitCode).toBe(0);
    expect(d.errors).toEqual([]);
    const lat = median(
      out.filter((c) => c.frame.codec === 'opus' && !c.frame.config).map((c) => c.at - c.frame.ingestTime),
    );
    console.log(
      `audio-opus: ${opus.length} Opus packets, median transcode latency ${lat} ms, stats`,
      t.stats(),
    );
    expect(t.stats().droppedBackpressure).toBe(0);
  }, 30_000);

  it('rts makes H.264 constrained baseline without B-frames, a keyframe every ~1 s, and Opus', async () => {
    const t = new Transcoder({ template: RTS_TEMPLATE });
    transcoders.push(t);
    const out = collect(t);
    t.start();
    await replayFrames(source, (f) => t.push(f)).done;
    const lastVideo = source.filter((f) => f.kind === 'video').at(-1)!.dts;
    await waitFor(
      () => {
        const last = out.filter((c) => c.frame.kind === 'video').at(-1)?.frame.dts ?? -1;
        return last >= lastVideo - 200 || `missing: video up to ${lastVideo - 200}, have ${last}`;
      },
      { timeoutMs: 5000, what: 'transcoded video covering the input' },
    );
    const video = out.map((c) => c.frame).filter((f) => f.kind === 'video');
    expect(video[0].config).toBe(true);
    expect(video[0].body.subarray(0, 2)).toEqual(new Uint8Array([0x17, 0]));
    expect(video[1].key).toBe(true);
    for (let i = 2; i < video.length; i++) expect(video[i].dts).toBeGreaterThan(video[i - 1].dts);
    expect(video.every((f) => f.pts === f.dts)).toBe(true);
    expect(Math.abs(video[1].dts - source.find((f) => f.kind === 'video' && !f.config)!.pts)).toBeLessThan(
      50,
    );
    const opus = out.map((c) => c.frame).filter((f) => f.codec === 'opus' && !f.config);
    expect(opus.length).toBeGreaterThan(150);
    for (let i = 1; i < opus.length; i++) expect(opus[i].dts).toBeGreaterThan(opus[i - 1].dts);

    // The bodies are what media/codec expects of FLV / enhanced-RTMP tags.
    for (const { frame: f } of out) {
      const info = f.kind === 'video' ? parseFlvVideoBody(f.body) : parseFlvAudioBody(f.body);
      expect([info.codec, info.config, Buffer.from(info.payload).equals(Buffer.from(f.payload))]).toEqual([
        f.codec,
        f.config,
        true,
      ]);
    }
    // Write the video track to an FLV file and let ffprobe judge it.
    const parts: Uint8Array[] = [encodeFlvHeader({ audio: false, video: true })];
    for (const f of video) parts.push(encodeFlvTag({ type: 9, timestamp: f.dts, body: f.body }));
    const file = join(dir, 'rts-video.flv');
    writeFileSync(file, Buffer.concat(parts));
    const p = await probe(file, { showFrames: true, selectStreams: 'v:0' });
    expect(p.streams[0].codec_name).toBe('h264');
    expect(p.streams[0].profile).toBe('Constrained Baseline');
    expect(p.streams[0].has_b_frames).toBe(0);
    const frames = p.frames ?? [];
    expect(frames.length).toBeGreaterThanOrEqual(video.length - 3);
    expect(frames.some((f) => f.pict_type === 'B')).toBe(false);
    const keyTimes = frames
      .filter((f) => f.key_frame === 1)
      .map((f) => Number(f.best_effort_timestamp_time ?? f.pkt_pts_time));
    const gaps = keyTimes.slice(1).map((k, i) => k - keyTimes[i]);
    expect(keyTimes.length).toBeGreaterThanOrEqual(3);
    for (const g of gaps) {
      expect(g).toBeGreaterThan(0.9);
      expect(g).toBeLessThan(1.1);
    }
    const lat = median(
      out.filter((c) => c.frame.kind === 'video' && !c.frame.config).map((c) => c.at - c.frame.ingestTime),
    );
    console.log(
      `rts: ${video.length} video, ${opus.length} opus, key gaps ${gaps.map((g) => g.toFixed(2))}, median video latency ${lat} ms`,
    );
  }, 30_000);

  it('restarts ffmpeg with back-off when it is killed mid-run and keeps the timeline', async () => {
    const t = new Transcoder({ template: RTS_TEMPLATE, restart: { initialDelayMs: 100 } });
    transcoders.push(t);
    const out = collect(t);
    const restarts: unknown[] = [];
    t.on('restart', (r) => restarts.push(r));
    t.start();
    const replay = replayFrames(source, (f) => t.push(f), { loops: 3 });
    await waitFor(() => out.some((c) => c.frame.kind === 'video' && !c.frame.config && c.frame.dts > 1000), {
      timeoutMs: 8000,
      what: 'first second of transcoded video',
    });
    const pid = t.pid!;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => restarts.length === 1, { timeoutMs: 3000, what: 'restart event' });
    const before = out.length;
    const lastBefore = out.filter((c) => c.frame.kind === 'video').at(-1)!.frame.dts;
    await waitFor(() => t.pid !== undefined && t.pid !== pid, { timeoutMs: 3000, what: 'a new ffmpeg pid' });
    await waitFor(
      () =>
        out.slice(before).filter((c) => c.frame.kind === 'video' && c.frame.key && !c.frame.config).length >=
        1,
      { timeoutMs: 8000, what: 'a keyframe from the restarted ffmpeg' },
    );
    replay.stop();
    await replay.done;
    const after = out.slice(before).filter((c) => c.frame.kind === 'video' && !c.frame.config);
    expect(after[0].frame.dts).toBeGreaterThan(lastBefore);
    expect(t.stats().restarts).toBe(1);
    expect(t.stats().droppedWhileStarting).toBeGreaterThan(0);
  }, 40_000);

  it('drops input up to the next keyframe while ffmpeg stops reading, and counts the drops', async () => {
    const t = new Transcoder({ template: RTS_TEMPLATE, maxBufferedBytes: 32 * 1024 });
    transcoders.push(t);
    const out = collect(t);
    t.start();
    const replay = replayFrames(source, (f) => t.push(f), { loops: 4, speed: 2 });
    await waitFor(() => out.some((c) => c.frame.kind === 'video' && !c.frame.config), {
      timeoutMs: 8000,
      what: 'first transcoded video frame',
    });
    const pid = t.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      await waitFor(() => t.stats().droppedBackpressure > 0, { timeoutMs: 8000, what: 'backpressure drops' });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const before = out.length;
    await waitFor(
      () => out.slice(before).some((c) => c.frame.kind === 'video' && !c.frame.config && c.frame.key),
      {
        timeoutMs: 8000,
        what: 'video again after ffmpeg resumed',
      },
    );
    replay.stop();
    await replay.done;
    expect(t.stats().restarts).toBe(0);
    expect(t.pid).toBe(pid);
  }, 40_000);

  it('stop() kills ffmpeg and emits close once', async () => {
    const t = new Transcoder({ template: AUDIO_OPUS_TEMPLATE });
    let closes = 0;
    t.on('close', () => closes++);
    t.start();
    const pid = t.pid!;
    await t.stop();
    await t.stop();
    await new Promise((r) => setImmediate(r));
    expect(closes).toBe(1);
    expect(t.closed).toBe(true);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(t.push(source[0])).toBe(false);
    expect(() => t.start()).toThrow(/closed/);
  });
});
