import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RtmpClient, type RtmpMediaMessage, RtmpServer } from '../../../transports/rtmp/index.js';
import { ffmpegPath, ffprobePath, run, testPatternArgs } from '../../support/rtmp/ffmpeg.js';
import { MiniRelay } from '../../support/rtmp/mini-relay.js';
import { waitFor } from '../../support/rtmp/wait-for.js';

const children = new Set<ChildProcess>();
const cleanups: Array<() => void> = [];

afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
  for (const c of cleanups.splice(0)) c();
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('RTMP interop with ffmpeg', () => {
  it('ffmpeg publishes H.264/AAC (digest handshake); ffmpeg and ffprobe pull it back and decode at 320x240', async () => {
    const relay = new MiniRelay();
    const server = new RtmpServer({ handler: relay });
    const { port } = await server.listen(0, '127.0.0.1');
    cleanups.push(() => server.close());
    const url = `rtmp://127.0.0.1:${port}/live/pattern`;
    const publisher = run(ffmpegPath, testPatternArgs(url, 5), 15_000, children);
    await waitFor(
      () => (relay.streams.get('live/pattern')?.gop.length ?? 0) > 0,
      () => 'ffmpeg never published',
      8000,
    );
    expect(relay.streams.get('live/pattern')?.publisher.digestHandshake).toBe(true);

    const [decode, probe] = await Promise.all([
      run(
        ffmpegPath,
        ['-hide_banner', '-loglevel', 'error', '-i', url, '-frames:v', '30', '-f', 'null', '-'],
        10_000,
        children,
      ),
      run(
        ffprobePath,
        ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,width,height', '-of', 'json', url],
        10_000,
        children,
      ),
    ]);
    expect(decode.code, decode.stderr).toBe(0);
    expect(decode.stderr).toBe('');
    expect(probe.code, probe.stderr).toBe(0);
    const streams = (JSON.parse(probe.stdout) as { streams: Array<Record<string, unknown>> }).streams;
    expect(streams).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ codec_type: 'video', codec_name: 'h264', width: 320, height: 240 }),
        expect.objectContaining({ codec_type: 'audio', codec_name: 'aac' }),
      ]),
    );
    expect(streams).toHaveLength(2); // no stray data stream
    const pub = await publisher;
    expect(pub.code, pub.stderr).toBe(0);
    await waitFor(
      () => !relay.streams.has('live/pattern'),
      () => 'unpublish not seen',
    );
  }, 30_000);

  it('RtmpClient publishes to an ffmpeg RTMP listener, which writes a valid FLV', async () => {
    // Capture real frames by letting ffmpeg publish to our server first.
    const relay = new MiniRelay();
    const server = new RtmpServer({ handler: relay });
    const { port } = await server.listen(0, '127.0.0.1');
    cleanups.push(() => server.close());
    const captured: RtmpMediaMessage[] = [];
    const origin = `rtmp://127.0.0.1:${port}/live/src`;
    const publisher = run(ffmpegPath, testPatternArgs(origin, 2), 10_000, children);
    await waitFor(
      () => relay.streams.has('live/src'),
      () => 'ffmpeg never published',
      8000,
    );
    const tap = await RtmpClient.connect(origin, { timeoutMs: 3000 });
    cleanups.push(() => tap.close());
    tap.on('media', (m) => captured.push({ ...m, payload: Uint8Array.prototype.slice.call(m.payload) }));
    await tap.play();
    await publisher;
    await waitFor(
      () => captured.filter((m) => m.typeId === 9).length >= 30,
      () => `${captured.length} frames captured`,
    );
    tap.close();

    // Replay them to `ffmpeg -listen 1` (a foreign RTMP server) and check what it wrote.
    const listenPort = await freePort();
    const sink = run(
      ffprobePath,
      [
        '-v',
        'error',
        '-listen',
        '1',
        '-show_entries',
        'stream=codec_name,width,height',
        '-count_frames',
        '-select_streams',
        'v',
        '-show_entries',
        'stream=nb_read_frames',
        '-of',
        'json',
        `rtmp://127.0.0.1:${listenPort}/live/out`,
      ],
      15_000,
      children,
    );
    let client: RtmpClient | undefined;
    await waitFor(
      () => false,
      () => '',
      300,
    ).catch(() => undefined); // give the listener time to bind
    for (let i = 0; i < 50 && client === undefined; i++) {
      client = await RtmpClient.connect(`rtmp://127.0.0.1:${listenPort}/live/out`, {
        timeoutMs: 3000,
        digest: true,
      }).catch(async () => {
        await new Promise((r) => setTimeout(r, 100));
        return undefined;
      });
    }
    expect(client).toBeDefined();
    const c = client!;
    cleanups.push(() => c.close());
    await c.publish();
    for (const m of captured) c.writeMedia(m.typeId, m.timestamp, m.payload);
    await c.stop();
    const probe = await sink;
    expect(probe.code, probe.stderr).toBe(0);
    const [video] = (JSON.parse(probe.stdout) as { streams: Array<Record<string, unknown>> }).streams;
    expect(video).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
    expect(Number(video.nb_read_frames)).toBeGreaterThanOrEqual(30);
  }, 30_000);
});
