import { afterEach, describe, expect, it } from 'vitest';
import { HlsMuxer } from '../../../../transports/hls/hls-muxer.js';
import { audioConfig, mediaRun, videoConfig } from './synthetic.js';

const muxers: HlsMuxer[] = [];
function make(opts: Partial<ConstructorParameters<typeof HlsMuxer>[0]> = {}): HlsMuxer {
  const m = new HlsMuxer({ stream: 'cam', ...opts });
  muxers.push(m);
  return m;
}
afterEach(() => {
  for (const m of muxers.splice(0)) m.close();
});

function feed(m: HlsMuxer, from: number, to: number, gopMs = 1000): void {
  for (const f of mediaRun(from, to, 25, gopMs)) m.push(f);
}
function started(m: HlsMuxer): HlsMuxer {
  m.push(videoConfig());
  m.push(audioConfig());
  return m;
}
async function body(m: HlsMuxer, path: string, query: Record<string, string> = {}, childQuery?: string) {
  const r = await m.handle({ path, query }, { childQuery });
  return { ...r, text: typeof r.body === 'string' ? r.body : '' };
}
const tag = (pl: string, name: string) => pl.split('\n').filter((l) => l.startsWith(`#${name}`));

describe('HlsMuxer classic playlist', () => {
  it('cuts TS segments on keyframes at the target, EXTINF never above TARGETDURATION, sliding window of 6', async () => {
    const m = started(make());
    feed(m, 0, 20_000, 1000);
    const r = await body(m, 'cam.m3u8');
    expect(r.status).toBe(200);
    expect(r.headers['Content-Type']).toBe('application/vnd.apple.mpegurl');
    expect(r.headers['Access-Control-Allow-Origin']).toBe('*');
    const target = Number(tag(r.text, 'EXT-X-TARGETDURATION')[0].split(':')[1]);
    const extinf = tag(r.text, 'EXTINF').map((l) => Number.parseFloat(l.slice(8)));
    expect(extinf).toHaveLength(6);
    for (const d of extinf) expect(Math.round(d)).toBeLessThanOrEqual(target);
    expect(extinf.every((d) => Math.abs(d - 2) < 0.001)).toBe(true);
    // The first segment is cut at the second keyframe (1 s), then every 2 s: 10 segments, 4..9 listed.
    expect(tag(r.text, 'EXT-X-MEDIA-SEQUENCE')[0]).toBe('#EXT-X-MEDIA-SEQUENCE:4');
    expect(tag(r.text, 'EXT-X-PROGRAM-DATE-TIME')).toHaveLength(6);
    expect(r.text).toContain('cam/seg-8.ts');
    const seg = await m.handle({ path: 'cam/seg-8.ts', query: {} });
    expect(seg.headers['Content-Type']).toBe('video/mp2t');
    expect(seg.headers['Cache-Control']).toContain('immutable');
    expect((seg.body as Uint8Array)[0]).toBe(0x47);
  });

  it('serves the classic playlist from its second segment when the first is short', async () => {
    // GOP 1 s: the first segment is cut at the second keyframe (1 s); one 1 s segment would let
    // hls.js start with too little buffer, so the playlist waits for the next (2 s) one.
    const short = started(make());
    const frames = [...mediaRun(0, 3100, 25, 1000)];
    const upTo = (ms: number) => {
      for (const f of frames.splice(0, frames.findIndex((x) => x.dts > ms) >>> 0)) short.push(f);
    };
    upTo(1000);
    expect(short.mediaSequence).toBe(1);
    expect((await body(short, 'cam.m3u8')).status).toBe(404);
    upTo(3000);
    const r = await body(short, 'cam.m3u8');
    expect(r.status).toBe(200);
    expect(tag(r.text, 'EXTINF')).toEqual(['#EXTINF:1.000,', '#EXTINF:2.000,']);
    // GOP 2 s: the first segment is already a whole target long.
    const long = started(make());
    feed(long, 0, 2100, 2000);
    expect(tag((await body(long, 'cam.m3u8')).text, 'EXTINF')).toEqual(['#EXTINF:2.000,']);
  });

  it('raises TARGETDURATION to cover a GOP longer than the target', async () => {
    const m = started(make());
    feed(m, 0, 12_000, 3000);
    const r = await body(m, 'cam.m3u8');
    const target = Number(tag(r.text, 'EXT-X-TARGETDURATION')[0].split(':')[1]);
    expect(target).toBe(3);
    for (const l of tag(r.text, 'EXTINF'))
      expect(Math.round(Number.parseFloat(l.slice(8)))).toBeLessThanOrEqual(target);
  });

  it('marks EXT-X-DISCONTINUITY after discontinuity() and counts it in DISCONTINUITY-SEQUENCE once it leaves', async () => {
    const m = started(make({ windowSegments: 3, extraSegmentsKept: 0 }));
    feed(m, 0, 6000);
    m.discontinuity();
    started(m);
    feed(m, 100_000, 106_000);
    let pl = (await body(m, 'cam.m3u8')).text;
    expect(tag(pl, 'EXT-X-DISCONTINUITY')).toEqual(['#EXT-X-DISCONTINUITY']);
    expect(tag(pl, 'EXT-X-DISCONTINUITY-SEQUENCE')).toEqual([]);
    feed(m, 106_000, 114_000);
    pl = (await body(m, 'cam.m3u8')).text;
    expect(tag(pl, 'EXT-X-DISCONTINUITY-SEQUENCE')).toEqual(['#EXT-X-DISCONTINUITY-SEQUENCE:1']);
    const seqs = tag(pl, 'EXT-X-MEDIA-SEQUENCE');
    expect(Number(seqs[0].split(':')[1])).toBeGreaterThan(3);
    // PROGRAM-DATE-TIME follows the new publisher's clock (segments from 100 s: 1 s, then 2 s each).
    expect(tag(pl, 'EXT-X-PROGRAM-DATE-TIME').at(-1)).toContain(
      new Date(1_700_000_000_000 + 111_000).toISOString(),
    );
  });

  it('appends the caller child query to every URL and EXT-X-ENDLIST after end()', async () => {
    const m = started(make());
    feed(m, 0, 5000);
    m.end();
    const pl = (await body(m, 'cam.m3u8', {}, 'auth_key=1-0-0-abc&domain=x')).text;
    for (const l of pl.split('\n').filter((x) => x && !x.startsWith('#')))
      expect(l).toMatch(/\?auth_key=1-0-0-abc&domain=x$/);
    expect(pl.trim().endsWith('#EXT-X-ENDLIST')).toBe(true);
    const ll = (await body(m, 'cam/ll.m3u8', {}, 'auth_key=k')).text;
    expect(ll).toContain('#EXT-X-MAP:URI="ll/init-0.mp4?auth_key=k"');
    expect(ll).toContain('ll/seg-0.m4s?auth_key=k');
  });

  it('answers 404 before the first segment and for unknown paths', async () => {
    const m = started(make());
    expect((await body(m, 'cam.m3u8')).status).toBe(404);
    expect((await body(m, 'other.m3u8')).status).toBe(404);
    expect((await body(m, 'cam/seg-99.ts')).status).toBe(404);
  });
});

describe('HlsMuxer LL-HLS playlist', () => {
  it('serves the first playlist once a whole segment exists, parts ≤ PART-TARGET, hint names the next part', async () => {
    const m = started(make());
    feed(m, 0, 600);
    // Parts, but no whole segment yet: hls.js would fail such a playlist (levelEmptyError).
    let r = await body(m, 'cam/ll.m3u8');
    expect(r.status).toBe(404);
    feed(m, 600, 1100); // (a new run: it starts with a keyframe, at 600 ms)
    // The first segment is cut at the next keyframe (0.6 s), not at the 2 s target.
    r = await body(m, 'cam/ll.m3u8');
    expect(r.status).toBe(200);
    expect(tag(r.text, 'EXTINF')).toEqual(['#EXTINF:0.600,']);
    expect(tag(r.text, 'EXT-X-PART:')[0]).toContain('URI="ll/part-0.0.m4s",INDEPENDENT=YES');
    feed(m, 60, 7000);
    r = await body(m, 'cam/ll.m3u8');
    expect(r.text).toContain('#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.750');
    expect(r.text).toContain('#EXT-X-PART-INF:PART-TARGET=0.250');
    const parts = tag(r.text, 'EXT-X-PART:');
    expect(parts.length).toBeGreaterThan(10);
    for (const p of parts) expect(Number(/DURATION=([\d.]+)/.exec(p)![1])).toBeLessThanOrEqual(0.25);
    const last = /part-(\d+)\.(\d+)\.m4s/.exec(parts.at(-1)!)!;
    const hint = tag(r.text, 'EXT-X-PRELOAD-HINT')[0];
    expect(hint).toBe(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="ll/part-${last[1]}.${Number(last[2]) + 1}.m4s"`);
    const part = await m.handle({ path: `cam/ll/part-${last[1]}.${last[2]}.m4s`, query: {} });
    expect(part.status).toBe(200);
    expect(part.headers['Content-Type']).toBe('video/mp4');
    expect(new TextDecoder().decode((part.body as Uint8Array).subarray(4, 8))).toBe('moof');
  });

  it('with llStartWith part, serves the first playlist at the first part, before any whole segment', async () => {
    const m = started(make({ llStartWith: 'part' }));
    feed(m, 0, 400);
    const r = await body(m, 'cam/ll.m3u8');
    expect(r.status).toBe(200);
    expect(tag(r.text, 'EXTINF')).toEqual([]);
    expect(tag(r.text, 'EXT-X-PART:')[0]).toContain('URI="ll/part-0.0.m4s",INDEPENDENT=YES');
    expect(tag(r.text, 'EXT-X-PRELOAD-HINT')).toHaveLength(1);
    const part = await m.handle({ path: 'cam/ll/part-0.0.m4s', query: {} });
    expect(part.status).toBe(200);
  });

  it('blocks a reload until the requested part exists, then answers with it listed', async () => {
    const m = started(make());
    feed(m, 0, 2100);
    const pl = (await body(m, 'cam/ll.m3u8')).text;
    const msn = Number(tag(pl, 'EXT-X-MEDIA-SEQUENCE')[0].split(':')[1]) + tag(pl, 'EXTINF').length;
    const hint = /part-(\d+)\.(\d+)/.exec(tag(pl, 'EXT-X-PRELOAD-HINT')[0])!;
    expect(Number(hint[1])).toBe(msn);
    let done = false;
    const pending = m
      .handle({ path: 'cam/ll.m3u8', query: { _HLS_msn: hint[1], _HLS_part: hint[2] } })
      .then((r) => {
        done = true;
        return r;
      });
    const partReq = m.handle({ path: `cam/ll/part-${hint[1]}.${hint[2]}.m4s`, query: {} });
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    expect(m.blockedRequests).toBe(2);
    feed(m, 2100, 2500);
    const r = await pending;
    expect(r.status).toBe(200);
    expect(r.body).toContain(`ll/part-${hint[1]}.${hint[2]}.m4s`);
    expect((await partReq).status).toBe(200);
    expect(m.blockedRequests).toBe(0);
  });

  it('answers 400 for an msn more than 2 ahead, 404 for parts gone, 503 past the blocked-request bound or timeout', async () => {
    const m = started(
      make({ maxBlockedRequests: 1, blockingTimeoutMs: 50, windowSegments: 2, extraSegmentsKept: 0 }),
    );
    feed(m, 0, 12_000);
    expect(m.mediaSequence).toBe(6);
    expect((await body(m, 'cam/ll.m3u8', { _HLS_msn: '9' })).status).toBe(400);
    expect((await body(m, 'cam/ll.m3u8', { _HLS_part: '1' })).status).toBe(400);
    expect((await body(m, 'cam/ll/part-0.1.m4s')).status).toBe(404);
    expect((await body(m, 'cam/ll/seg-0.m4s')).status).toBe(404);
    expect((await body(m, 'cam/ll.m3u8', { _HLS_msn: '1' })).status).toBe(200);
    const blocked = body(m, 'cam/ll.m3u8', { _HLS_msn: '7' });
    expect((await body(m, 'cam/ll.m3u8', { _HLS_msn: '6' })).status).toBe(503);
    const t0 = Date.now();
    expect((await blocked).status).toBe(503);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('releases blocked requests with the final playlist on end()', async () => {
    const m = started(make());
    feed(m, 0, 3000);
    const blocked = body(m, 'cam/ll.m3u8', { _HLS_msn: '3' });
    m.end();
    const r = await blocked;
    expect(r.status).toBe(200);
    expect(r.body).toContain('#EXT-X-ENDLIST');
  });

  it('writes a new EXT-X-MAP after a discontinuity with a different codec config', async () => {
    const m = started(make());
    feed(m, 0, 4000);
    m.discontinuity();
    m.push(videoConfig());
    m.push({ ...audioConfig(), payload: Uint8Array.of(0x11, 0x88) }); // 48 kHz mono
    feed(m, 50_000, 54_000);
    const pl = (await body(m, 'cam/ll.m3u8')).text;
    expect(tag(pl, 'EXT-X-MAP')).toEqual([
      '#EXT-X-MAP:URI="ll/init-0.mp4"',
      '#EXT-X-MAP:URI="ll/init-1.mp4"',
    ]);
    expect(tag(pl, 'EXT-X-DISCONTINUITY')).toHaveLength(1);
    expect((await body(m, 'cam/ll/init-1.mp4')).status).toBe(200);
  });
});

describe('HlsMuxer blocked reloads across a segment cut (regression)', () => {
  it('answers waiters only after the cut, with every listed part fetchable, rendering once for all of them', async () => {
    const m = started(make({ targetDurationMs: 2000, partTargetMs: 250 }));
    feed(m, 0, 1000, 1000);
    feed(m, 1000, 2000, 1000); // segment 0 is open; the keyframe at 2000 will cut it
    const waiting = Array.from({ length: 50 }, () =>
      m.handle({ path: 'cam/ll.m3u8', query: { _HLS_msn: '1', _HLS_part: '0' } }),
    );
    feed(m, 2000, 2600, 1000);
    const answers = await Promise.all(waiting);
    const first = answers[0].body as string;
    for (const a of answers) expect(a.body).toBe(first); // same text, rendered once per wake-up
    expect(first).toMatch(/#EXTINF:[\d.]+,\nll\/seg-0\.m4s/);
    const parts = [...first.matchAll(/URI="(ll\/part-\d+\.\d+\.m4s)"/g)].map((x) => x[1]);
    expect(parts).toContain('ll/part-1.0.m4s');
    for (const p of parts) {
      const r = await m.handle({ path: `cam/${p}`, query: {} });
      expect(r.status, p).toBe(200);
    }
  });
});
