import type { HlsPart, HlsSegment } from './types.js';

function withQuery(uri: string, q: string): string {
  return q ? `${uri}?${q}` : uri;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** EXT-X-TARGETDURATION: never below any listed EXTINF rounded to the nearest integer (RFC 8216 4.3.3.1). */
export function targetDurationOf(configuredMs: number, maxSegmentMs: number): number {
  return Math.max(Math.ceil(configuredMs / 1000), Math.round(maxSegmentMs / 1000), 1);
}

export interface ClassicPlaylistInput {
  stream: string;
  targetDuration: number;
  mediaSequence: number;
  discontinuitySequence: number;
  segments: readonly HlsSegment[];
  ended: boolean;
  childQuery: string;
}

/** RFC 8216 media playlist with MPEG-TS segments. */
export function writeClassicPlaylist(p: ClassicPlaylistInput): string {
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${p.targetDuration}`,
    `#EXT-X-MEDIA-SEQUENCE:${p.mediaSequence}`,
  ];
  if (p.discontinuitySequence > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${p.discontinuitySequence}`);
  lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  for (const s of p.segments) {
    if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.programDateTime).toISOString()}`);
    lines.push(`#EXTINF:${seconds(s.durationMs)},`);
    lines.push(withQuery(`${p.stream}/seg-${s.msn}.ts`, p.childQuery));
  }
  if (p.ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

export interface LlPlaylistInput {
  targetDuration: number;
  partTargetMs: number;
  mediaSequence: number;
  discontinuitySequence: number;
  segments: readonly HlsSegment[];
  /** The segment being built: its msn, parts so far, start time and init. */
  current?: {
    msn: number;
    parts: readonly HlsPart[];
    programDateTime: number;
    discontinuity: boolean;
    initId: number;
  };
  /** Parts are listed for segments with msn ≥ this (the last few target durations). */
  partsFromMsn: number;
  ended: boolean;
  childQuery: string;
}

/** RFC 8216bis low-latency media playlist with fMP4 segments and parts; URIs relative to `{stream}/ll.m3u8`. */
export function writeLlPlaylist(p: LlPlaylistInput): string {
  const q = p.childQuery;
  const partTarget = seconds(p.partTargetMs);
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:9',
    `#EXT-X-TARGETDURATION:${p.targetDuration}`,
    `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${seconds(p.partTargetMs * 3)},HOLD-BACK=${p.targetDuration * 3}`,
    `#EXT-X-PART-INF:PART-TARGET=${partTarget}`,
    `#EXT-X-MEDIA-SEQUENCE:${p.mediaSequence}`,
  ];
  if (p.discontinuitySequence > 0) lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${p.discontinuitySequence}`);
  lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  let mapId = -1;
  const head = (s: { discontinuity: boolean; initId: number; programDateTime: number }) => {
    if (s.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    if (s.initId !== mapId) {
      mapId = s.initId;
      lines.push(`#EXT-X-MAP:URI="${withQuery(`ll/init-${s.initId}.mp4`, q)}"`);
    }
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.programDateTime).toISOString()}`);
  };
  const parts = (msn: number, list: readonly HlsPart[]) => {
    list.forEach((part, i) => {
      const ind = part.independent ? ',INDEPENDENT=YES' : '';
      lines.push(
        `#EXT-X-PART:DURATION=${seconds(part.durationMs)},URI="${withQuery(`ll/part-${msn}.${i}.m4s`, q)}"${ind}`,
      );
    });
  };
  for (const s of p.segments) {
    head(s);
    if (s.msn >= p.partsFromMsn && s.parts) parts(s.msn, s.parts);
    lines.push(`#EXTINF:${seconds(s.durationMs)},`);
    lines.push(withQuery(`ll/seg-${s.msn}.m4s`, q));
  }
  if (p.ended) {
    lines.push('#EXT-X-ENDLIST');
  } else if (p.current) {
    const c = p.current;
    if (c.parts.length > 0) {
      head(c);
      parts(c.msn, c.parts);
    }
    lines.push(
      `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${withQuery(`ll/part-${c.msn}.${c.parts.length}.m4s`, q)}"`,
    );
  }
  return `${lines.join('\n')}\n`;
}
