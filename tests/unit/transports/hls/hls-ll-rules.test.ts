import { afterEach, describe, expect, it } from 'vitest';
import { HlsMuxer } from '../../../../transports/hls/hls-muxer.js';
import { audioConfig, mediaRun, videoConfig } from './synthetic.js';

/**
 * LL-HLS playlists as hls.js and RFC 8216bis (draft 13+) want them, checked on every playlist a
 * live run serves with the node's default settings (target 2 s, part target 250 ms), against
 * what the fMP4 parts really hold.
 */

const muxers: HlsMuxer[] = [];
afterEach(() => {
  for (const m of muxers.splice(0)) m.close();
});

function make(opts: Partial<ConstructorParameters<typeof HlsMuxer>[0]> = {}): HlsMuxer {
  const m = new HlsMuxer({ stream: 'cam', ...opts });
  muxers.push(m);
  m.push(videoConfig());
  m.push(audioConfig());
  return m;
}

interface Traf {
  trackId: number;
  tfdt: number;
  duration: number;
  samples: number;
  firstSync: boolean;
}

/** moof → traf → tfhd/tfdt/trun, as writeFragment() lays them out (full boxes, v1 tfdt). */
function parseFragment(b: Uint8Array): Traf[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const type = (p: number) => String.fromCharCode(...b.subarray(p + 4, p + 8));
  const out: Traf[] = [];
  for (let p = 0; p + 8 <= b.length; p += dv.getUint32(p)) {
    if (type(p) !== 'moof') continue;
    const moofEnd = p + dv.getUint32(p);
    for (let q = p + 8; q < moofEnd; q += dv.getUint32(q)) {
      if (type(q) !== 'traf') continue;
      const t: Traf = { trackId: 0, tfdt: 0, duration: 0, samples: 0, firstSync: false };
      for (let r = q + 8; r < q + dv.getUint32(q); r += dv.getUint32(r)) {
        if (type(r) === 'tfhd') t.trackId = dv.getUint32(r + 12);
        if (type(r) === 'tfdt') t.tfdt = dv.getUint32(r + 12) * 2 ** 32 + dv.getUint32(r + 16);
        if (type(r) === 'trun') {
          t.samples = dv.getUint32(r + 12);
          for (let i = 0; i < t.samples; i++) t.duration += dv.getUint32(r + 20 + i * 16);
          // sample_is_non_sync_sample is bit 16 of the first sample's flags.
          t.firstSync = (dv.getUint32(r + 20 + 8) & 0x00010000) === 0;
        }
      }
      out.push(t);
    }
  }
  return out;
}

const attr = (line: string, name: string) => new RegExp(`${name}=("[^"]*"|[^,]*)`).exec(line)?.[1];

interface ListedPart {
  msn: number;
  index: number;
  duration: number;
  independent: boolean;
  uri: string;
}

interface ListedSegment {
  msn: number;
  duration: number;
  pdt: number;
  parts: ListedPart[];
}

/** Returns every rule a served LL-HLS playlist breaks (empty when it is fine). */
async function violations(m: HlsMuxer, text: string): Promise<string[]> {
  const bad: string[] = [];
  const lines = text.trim().split('\n');
  const value = (name: string) => lines.find((l) => l.startsWith(`#${name}:`))?.slice(name.length + 2);
  const target = Number(value('EXT-X-TARGETDURATION'));
  const partTarget = Number(attr(value('EXT-X-PART-INF') ?? '', 'PART-TARGET'));
  const control = value('EXT-X-SERVER-CONTROL') ?? '';
  const partHoldBack = Number(attr(control, 'PART-HOLD-BACK'));
  if (!(partTarget > 0)) bad.push('no PART-TARGET');
  // RFC 8216bis 4.4.3.8: PART-HOLD-BACK at least twice the part target, SHOULD be three times.
  if (!(partHoldBack >= 3 * partTarget - 1e-9))
    bad.push(`PART-HOLD-BACK ${partHoldBack} < 3 × ${partTarget}`);
  if (attr(control, 'CAN-BLOCK-RELOAD') !== 'YES') bad.push('no CAN-BLOCK-RELOAD=YES');

  let msn = Number(value('EXT-X-MEDIA-SEQUENCE'));
  let pdt = Number.NaN;
  let parts: ListedPart[] = [];
  const segments: ListedSegment[] = [];
  for (const l of lines) {
    if (l.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pdt = Date.parse(l.slice(25));
    else if (l.startsWith('#EXT-X-PART:')) {
      const uri = attr(l, 'URI')!.replaceAll('"', '');
      const [, pm, pi] = /part-(\d+)\.(\d+)\.m4s/.exec(uri) ?? [];
      if (Number(pm) !== msn || Number(pi) !== parts.length)
        bad.push(`part ${uri} listed as ${msn}.${parts.length}`);
      parts.push({
        msn,
        index: parts.length,
        duration: Number(attr(l, 'DURATION')),
        independent: attr(l, 'INDEPENDENT') === 'YES',
        uri,
      });
    } else if (l.startsWith('#EXTINF:')) {
      segments.push({ msn, duration: Number.parseFloat(l.slice(8)), pdt, parts });
      msn++;
      parts = [];
    }
  }
  // hls.js rejects a live playlist without a whole segment (levelEmptyError).
  if (segments.length === 0) bad.push('no whole segment');
  const ended = lines.includes('#EXT-X-ENDLIST');
  const hint = value('EXT-X-PRELOAD-HINT');
  if (!ended) {
    const want = `ll/part-${msn}.${parts.length}.m4s`;
    if (!hint?.includes(`URI="${want}"`)) bad.push(`preload hint ${hint} is not ${want}`);
  }

  for (const [i, s] of segments.entries()) {
    if (Math.round(s.duration) > target) bad.push(`EXTINF ${s.duration} > TARGETDURATION ${target}`);
    const next = segments[i + 1];
    if (next && Math.abs(next.pdt - s.pdt - s.duration * 1000) > 1.5)
      bad.push(`PROGRAM-DATE-TIME step ${next.pdt - s.pdt} ms after a ${s.duration} s segment ${s.msn}`);
    if (s.parts.length > 0) {
      const sum = s.parts.reduce((a, p) => a + p.duration, 0);
      if (Math.abs(sum - s.duration) > 0.001 * s.parts.length)
        bad.push(`segment ${s.msn}: EXTINF ${s.duration} but parts sum to ${sum}`);
      // Our own rule (hls.js): a segment ends with a part longer than the fragment tracker's 0.2 s
      // padding, or the player may take the segment as buffered before its last part.
      const last = s.parts.at(-1)!;
      if (s.msn > 0 && last.duration <= 0.2) bad.push(`segment ${s.msn} ends with a ${last.duration} s part`);
    }
  }

  const all = [...segments.flatMap((s) => s.parts), ...parts];
  let prevEnd: number | undefined;
  let prevSeg = -1;
  for (const p of all) {
    if (p.duration > partTarget + 1e-9)
      bad.push(`${p.uri}: DURATION ${p.duration} > PART-TARGET ${partTarget}`);
    const closesSegment = segments.some((s) => s.msn === p.msn && s.parts.at(-1) === p);
    // RFC 8216bis 4.4.4.9: at least 85 % of the part target, except INDEPENDENT and final parts.
    if (!p.independent && !closesSegment && p.duration < 0.85 * partTarget)
      bad.push(`${p.uri}: ${p.duration} s < 85 % of PART-TARGET`);
    const r = await m.handle({ path: `cam/${p.uri}`, query: {} });
    if (r.status !== 200) {
      bad.push(`${p.uri}: ${r.status}`);
      continue;
    }
    const trafs = parseFragment(r.body as Uint8Array);
    const video = trafs.find((t) => t.trackId === 1);
    const audio = trafs.find((t) => t.trackId === 2);
    if (!video) {
      bad.push(`${p.uri}: no video`);
      continue;
    }
    const actual = video.duration / 90_000;
    if (Math.abs(actual - p.duration) > 0.0005 + 1e-9)
      bad.push(`${p.uri}: DURATION ${p.duration} but the samples last ${actual.toFixed(4)}`);
    if (actual > partTarget + 1e-9) bad.push(`${p.uri}: samples last ${actual} > PART-TARGET`);
    if (p.independent !== video.firstSync)
      bad.push(`${p.uri}: INDEPENDENT=${p.independent}, keyframe first ${video.firstSync}`);
    if (prevEnd !== undefined && p.msn === prevSeg && video.tfdt !== prevEnd)
      bad.push(`${p.uri}: tfdt ${video.tfdt} after a part ending at ${prevEnd}`);
    // Audio starts with the video of its part, within one AAC frame (1024 samples).
    if (audio && Math.abs(audio.tfdt / 44_100 - video.tfdt / 90_000) > 1024 / 44_100 + 0.001)
      bad.push(`${p.uri}: audio tfdt ${audio.tfdt / 44_100} far from video ${video.tfdt / 90_000}`);
    prevEnd = video.tfdt + video.duration;
    prevSeg = p.msn;
  }
  // The segment is its parts, byte for byte.
  for (const s of segments) {
    if (s.parts.length === 0) continue;
    const seg = await m.handle({ path: `cam/ll/seg-${s.msn}.m4s`, query: {} });
    const v = parseFragment(seg.body as Uint8Array).filter((t) => t.trackId === 1);
    const total = v.reduce((a, t) => a + t.duration, 0) / 90_000;
    if (Math.abs(total - s.duration) > 0.0005 * s.parts.length)
      bad.push(`seg-${s.msn}: EXTINF ${s.duration} but the samples last ${total}`);
  }
  return bad;
}

/** Feeds `fromMs`..`toMs` in 100 ms steps (real time slices) and checks every playlist on the way. */
async function run(m: HlsMuxer, toMs: number, fps: number, gopMs: number) {
  const frames = [...mediaRun(0, toMs, fps, gopMs)];
  const served: string[] = [];
  const problems = new Set<string>();
  let i = 0;
  for (let t = 100; t <= toMs; t += 100) {
    while (i < frames.length && frames[i].dts < t) m.push(frames[i++]);
    const r = await m.handle({ path: 'cam/ll.m3u8', query: {} });
    if (r.status !== 200) continue;
    served.push(r.body as string);
    for (const v of await violations(m, r.body as string)) problems.add(v);
  }
  return { served, problems: [...problems] };
}

describe('LL-HLS playlists with the default settings (RFC 8216bis rules, what hls.js needs)', () => {
  for (const [fps, gopMs] of [
    [30, 1000],
    [30, 2000],
    [25, 1000],
    [25, 2000],
  ] as const) {
    it(`${fps} fps, GOP ${gopMs / 1000} s: every served playlist keeps the rules, parts as declared`, async () => {
      const m = make();
      expect(m.config.targetDurationMs).toBe(2000);
      expect(m.config.partTargetMs).toBe(250);
      const { served, problems } = await run(m, 12_000, fps, gopMs);
      expect(problems).toEqual([]);
      // 404 until the first segment is whole (one GOP), then a playlist for every step.
      expect(served.length).toBe(120 - gopMs / 100);
      expect(served[0]).toContain('#EXTINF:');
      expect(served[0]).toContain('#EXT-X-PART-INF:PART-TARGET=0.250');
      expect(served[0]).toContain('PART-HOLD-BACK=0.750');
      // Every keyframe starts a part marked INDEPENDENT=YES (so a player can start there).
      const last = served.at(-1)!;
      const independent = last.split('\n').filter((l) => l.includes('INDEPENDENT=YES')).length;
      const listedParts = last.split('\n').filter((l) => l.startsWith('#EXT-X-PART:'));
      const listedMs = listedParts.reduce((a, l) => a + Number(attr(l, 'DURATION')) * 1000, 0);
      expect(independent).toBeGreaterThanOrEqual(Math.floor(listedMs / gopMs));
    });
  }

  it('waits for a whole segment: the first keyframe after the start cuts the first one', async () => {
    const m = make();
    const frames = [...mediaRun(0, 1100, 30, 1000)];
    for (const f of frames.filter((x) => x.dts < 900)) m.push(f);
    expect((await m.handle({ path: 'cam/ll.m3u8', query: {} })).status).toBe(404);
    // A blocking reload for a part that exists still waits for the first whole segment.
    let done = false;
    const blocked = m.handle({ path: 'cam/ll.m3u8', query: { _HLS_msn: '0', _HLS_part: '1' } }).then((r) => {
      done = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(done).toBe(false);
    for (const f of frames.filter((x) => x.dts >= 900)) m.push(f);
    const r = await m.handle({ path: 'cam/ll.m3u8', query: {} });
    expect(r.status).toBe(200);
    expect(r.body).toContain('#EXTINF:1.000,\nll/seg-0.m4s');
    expect(await violations(m, r.body as string)).toEqual([]);
    const b = await blocked;
    expect(b.status).toBe(200);
    expect(b.body).toContain('ll/seg-0.m4s');
  });

  it('a reload released by a segment cut lists the next segment preload hint', async () => {
    const m = make();
    const frames = [...mediaRun(0, 4000, 30, 1000)];
    const cutAt = 3000; // segment 1 runs 1 s..3 s
    for (const f of frames.filter((x) => x.dts < cutAt - 1)) m.push(f);
    const pl = (await m.handle({ path: 'cam/ll.m3u8', query: {} })).body as string;
    expect(pl).not.toContain('ll/seg-1.m4s');
    const blocked = m.handle({ path: 'cam/ll.m3u8', query: { _HLS_msn: '2', _HLS_part: '0' } });
    // _HLS_msn alone: held until segment 1 is whole (RFC 8216bis 6.2.5.2).
    const segDone = m.handle({ path: 'cam/ll.m3u8', query: { _HLS_msn: '1' } });
    for (const f of frames.filter((x) => x.dts >= cutAt - 1)) m.push(f);
    const whole = (await segDone).body as string;
    expect(whole).toContain('ll/seg-1.m4s');
    expect(whole).toContain('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="ll/part-2.');
    expect(await violations(m, whole)).toEqual([]);
    const part = (await blocked).body as string;
    expect(part).toContain('ll/part-2.0.m4s",INDEPENDENT=YES');
  });
});
