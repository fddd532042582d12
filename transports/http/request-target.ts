/**
 * What an HTTP path names. The stream URL layout of the service we model:
 * ```
 * /{app}/{stream}.flv              HTTP-FLV (and WebSocket-FLV on upgrade)
 * /{app}/{stream}.m3u8             HLS (MPEG-TS segments)
 * /{app}/{stream}/ll.m3u8          LL-HLS (fMP4 parts); segments and parts below /{app}/{stream}/
 * /{app}/{stream}                  WHEP (POST an SDP offer); sessions at /{domain}~{app}/{stream}/session/{id}
 * ```
 */
export type RequestTarget =
  | { kind: 'flv'; app: string; stream: string; uri: string }
  | { kind: 'hls'; app: string; stream: string; uri: string; rest: string }
  | { kind: 'whep'; app: string; stream: string; uri: string; rest: string }
  | { kind: 'api'; rest: string[] }
  | { kind: 'player'; rest: string }
  | { kind: 'unknown' };

const SEGMENT = /^[A-Za-z0-9_.~-]{1,128}$/;

export function parseRequestTarget(pathname: string): RequestTarget {
  let path: string;
  try {
    path = decodeURIComponent(pathname);
  } catch {
    return { kind: 'unknown' };
  }
  const parts = path.split('/').filter((p) => p.length > 0);
  if (parts.some((p) => p === '..' || p === '.')) return { kind: 'unknown' };
  if (parts[0] === 'api') return { kind: 'api', rest: parts.slice(1) };
  if (parts[0] === 'player') return { kind: 'player', rest: parts.slice(1).join('/') };
  if (parts.length < 2 || !parts.every((p) => SEGMENT.test(p))) return { kind: 'unknown' };
  const app = parts[0];
  if (parts.length === 2) {
    const file = parts[1];
    if (file.endsWith('.flv')) {
      const stream = file.slice(0, -4);
      return stream ? { kind: 'flv', app, stream, uri: `/${app}/${file}` } : { kind: 'unknown' };
    }
    if (file.endsWith('.m3u8')) {
      const stream = file.slice(0, -5);
      return stream ? { kind: 'hls', app, stream, uri: `/${app}/${file}`, rest: file } : { kind: 'unknown' };
    }
    return { kind: 'whep', app, stream: file, uri: `/${app}/${file}`, rest: '' };
  }
  const stream = parts[1];
  const rest = parts.slice(2).join('/');
  if (parts[2] === 'session') return { kind: 'whep', app, stream, uri: `/${app}/${stream}`, rest };
  const uri = rest === 'll.m3u8' ? `/${app}/${stream}/ll.m3u8` : `/${app}/${stream}.m3u8`;
  return { kind: 'hls', app, stream, uri, rest: `${stream}/${rest}` };
}
