import { describe, expect, it } from 'vitest';
import { Hist, parsePlaylist } from '../../../benchmarks/hls/common.js';

const LL = `#EXTM3U
#EXT-X-VERSION:9
#EXT-X-TARGETDURATION:2
#EXT-X-PART-INF:PART-TARGET=0.250
#EXT-X-MEDIA-SEQUENCE:4
#EXT-X-MAP:URI="ll/init-0.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z
#EXT-X-PART:DURATION=0.250,URI="ll/part-4.0.m4s",INDEPENDENT=YES
#EXT-X-PART:DURATION=1.750,URI="ll/part-4.1.m4s"
#EXTINF:2.000,
ll/seg-4.m4s
#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:02.000Z
#EXT-X-PART:DURATION=0.250,URI="ll/part-5.0.m4s",INDEPENDENT=YES
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="ll/part-5.1.m4s"
`;

describe('benchmarks/hls parsePlaylist', () => {
  it('reads segments, parts with their msn and media end time, map and hint', () => {
    const p = parsePlaylist(LL);
    const t0 = Date.parse('2026-01-01T00:00:00.000Z');
    expect(p.targetMs).toBe(2000);
    expect(p.map).toBe('ll/init-0.mp4');
    expect(p.hint).toBe('ll/part-5.1.m4s');
    expect(p.segments).toEqual([{ msn: 4, part: -1, uri: 'll/seg-4.m4s', endWall: t0 + 2000 }]);
    expect(p.parts.map((x) => [x.msn, x.part, x.endWall - t0])).toEqual([
      [4, 0, 250],
      [4, 1, 2000],
      [5, 0, 2250],
    ]);
  });

  it('reads a classic playlist', () => {
    const p = parsePlaylist(
      '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z\n#EXTINF:2.000,\ns/seg-7.ts\n#EXTINF:1.500,\ns/seg-8.ts\n',
    );
    expect(p.segments.map((s) => [s.msn, s.uri])).toEqual([
      [7, 's/seg-7.ts'],
      [8, 's/seg-8.ts'],
    ]);
    expect(p.segments[1].endWall - p.segments[0].endWall).toBe(1500);
  });
});

describe('benchmarks/hls Hist', () => {
  it('gives quantiles within a few percent and merges', () => {
    const a = new Hist();
    const b = new Hist();
    for (let i = 1; i <= 1000; i++) (i % 2 ? a : b).add(i);
    a.merge(JSON.parse(JSON.stringify(b)));
    expect(a.n).toBe(1000);
    expect(a.q(0.5)).toBeGreaterThan(480);
    expect(a.q(0.5)).toBeLessThan(520);
    expect(a.q(0.99)).toBeGreaterThan(960);
    expect(a.max).toBe(1000);
  });
});
