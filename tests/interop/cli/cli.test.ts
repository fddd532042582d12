import { execFileSync, spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyAuthKey } from '../../../engine/access/auth-key.js';
import { exited, killTrackedChildren, track } from '../../support/children.js';
import { decode, publishTestPattern } from '../../support/ffmpeg.js';
import { freeUdpPorts } from '../../support/ports.js';
import { waitFor } from '../../support/wait-for.js';
import { runWhepLoad } from '../../support/whep-load.js';

/** `rts serve` from the built package on free loopback ports, once it logged its "listening" line. */
async function serve(extra: string[]) {
  execFileSync('node', ['scripts/build-if-needed.mjs'], { stdio: 'ignore', timeout: 120_000 });
  const args = ['dist/cli/rts.js', 'serve', '--rtmp-port', '0', '--http-port', '0', '--workers', '1'];
  const proc = track(
    spawn('node', [...args, '--host', '127.0.0.1', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  let out = '';
  proc.stdout?.on('data', (d) => {
    out += d;
  });
  let err = '';
  proc.stderr?.on('data', (d) => {
    err = (err + d).slice(-4000);
  });
  const [, rtmp, http] = await waitFor(
    () => /listening: rtmp:\/\/127\.0\.0\.1:(\d+) http:\/\/127\.0\.0\.1:(\d+)/.exec(out) ?? undefined,
    { timeoutMs: 20_000, what: 'the "listening" line' },
  );
  return { proc, rtmp, http, out: () => out, err: () => err };
}

/** An ffmpeg test pattern published to the node, once the API lists the stream. */
async function publishAndWait(rtmp: string, http: string, name: string, seconds: number) {
  const pub = publishTestPattern({
    url: `rtmp://127.0.0.1:${rtmp}/live/${name}`,
    seconds,
    width: 320,
    height: 240,
  });
  await waitFor(
    async () =>
      (await (await fetch(`http://127.0.0.1:${http}/api/v1/streams`)).json()).streams.length
        ? true
        : undefined,
    { timeoutMs: 10_000, what: 'the stream in the API' },
  );
  return pub;
}

/** The `rts` command as a user runs it, from the built package (npm start builds it the same way). */
describe('rts command', () => {
  afterAll(async () => {
    await killTrackedChildren();
  });

  it('rts serve logs one line when it accepts connections, serves, and exits 0 on SIGTERM after telling its players', async () => {
    const { proc, out, rtmp, http } = await serve([]);
    expect(out().trim().split('\n')).toHaveLength(1);
    const pub = await publishAndWait(rtmp, http, 'cli', 30);
    const player = decode(`http://127.0.0.1:${http}/live/cli.flv`, { seconds: 30, timeoutMs: 40_000 });
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = performance.now();
    proc.kill('SIGTERM');
    expect(await exited(proc)).toBe(0);
    const p = await player;
    expect(p.frames).toBeGreaterThan(10);
    expect(p.elapsedMs).toBeLessThan(15_000); // the player was told the stream ended, not left hanging
    expect(performance.now() - t0).toBeLessThan(8000);
    await pub.stop();
  }, 90_000);

  it('a node that served WebRTC viewers (node-datachannel loaded) also exits 0 on SIGTERM', async () => {
    const [udp] = await freeUdpPorts(1);
    const { proc, err, http, rtmp } = await serve(['--rtc-port', String(udp)]);
    const pub = await publishAndWait(rtmp, http, 'rtc', 40);
    // Real WebRTC viewers (node-datachannel in another process) of the AAC → Opus variant.
    const report = await runWhepLoad(`http://127.0.0.1:${http}/live/rtc`, 4, 3);
    expect(report.clients.connected).toBe(4);
    expect(report.clients.videoPackets).toBeGreaterThan(100);
    // The RTC worker's server-added latency (frame in → last viewer's send returned) is in the API.
    const node = (await (await fetch(`http://127.0.0.1:${http}/api/v1/node`)).json()) as {
      webrtc: { serverLatencyMs: { p50: number; p99: number; samples: number; buckets: [number, number][] } };
    };
    const lat = node.webrtc.serverLatencyMs;
    expect(lat.samples).toBeGreaterThan(20);
    expect(lat.buckets.reduce((n, [, c]) => n + c, 0)).toBe(lat.samples);
    expect(lat.p50).toBeGreaterThan(0);
    expect(lat.p99).toBeLessThan(1000);
    proc.kill('SIGTERM');
    expect(await exited(proc), err()).toBe(0);
    await pub.stop();
  }, 120_000);

  it('rts sign prints a URL signed with a Type A auth_key for its path', () => {
    const out = execFileSync(
      'node',
      [
        '--import',
        'tsx',
        'cli/rts.ts',
        'sign',
        'artc://rts.example.com/live/cam',
        '--key',
        'k',
        '--ttl',
        '60',
      ],
      {
        encoding: 'utf8',
      },
    ).trim();
    const url = new URL(out.replace('artc:', 'http:'));
    expect(out.startsWith('artc://rts.example.com/live/cam?auth_key=')).toBe(true);
    const v = verifyAuthKey({
      uri: '/live/cam',
      authKey: url.searchParams.get('auth_key') ?? '',
      keys: ['k'],
      validitySeconds: 0,
      nowSeconds: Date.now() / 1000,
    });
    expect(v).toEqual({ ok: true });
  });
});
