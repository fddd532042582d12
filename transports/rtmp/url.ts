import { RTMP_DEFAULT_PORT } from './constants.js';
import { RtmpProtocolError } from './errors.js';

/** The parts of an `rtmp://host[:port]/app[/inst]/stream[?query]` URL. */
export interface RtmpUrl {
  readonly host: string;
  readonly port: number;
  /** Application path (may contain `/`, e.g. `live/inst`), without query. */
  readonly app: string;
  /** Stream name (play path) including its `?query`, as clients send it in publish/play. */
  readonly streamName: string;
  /** `rtmp://host:port/app`, as sent in connect. */
  readonly tcUrl: string;
}

/**
 * Splits an RTMP URL the way ffmpeg and OBS do: the last path segment is the stream name,
 * everything before it the app. `rtmp://h/app` alone has an empty stream name.
 */
export function parseRtmpUrl(url: string): RtmpUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch (err) {
    throw new RtmpProtocolError('RTS_ERR_RTMP_URL', `invalid RTMP URL ${url}`, { cause: err });
  }
  if (u.protocol !== 'rtmp:') throw new RtmpProtocolError('RTS_ERR_RTMP_URL', `not an rtmp:// URL: ${url}`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port === '' ? RTMP_DEFAULT_PORT : Number(u.port);
  const path = u.pathname.replace(/^\/+/, '');
  const cut = path.lastIndexOf('/');
  const app = cut < 0 ? path : path.slice(0, cut);
  const stream = cut < 0 ? '' : path.slice(cut + 1);
  const streamName = decodeURIComponent(stream) + u.search;
  const hostPart = u.hostname.includes(':') && !u.hostname.startsWith('[') ? `[${u.hostname}]` : u.hostname;
  return { host, port, app, streamName, tcUrl: `rtmp://${hostPart}:${port}/${app}` };
}

/** Splits `name?a=1&b=2` into the name and its query parameters. */
export function splitQuery(s: string): { path: string; query: Record<string, string> } {
  const q = s.indexOf('?');
  if (q < 0) return { path: s, query: {} };
  const query: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(s.slice(q + 1))) {
    if (!Object.hasOwn(query, k)) query[k] = v;
  }
  return { path: s.slice(0, q), query };
}
