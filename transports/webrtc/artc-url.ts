/** `artc://host[:port]/app/stream[?query]`: the RTS playback address. */
export interface ArtcUrl {
  host: string;
  app: string;
  stream: string;
  query: Record<string, string>;
}

export function parseArtcUrl(url: string): ArtcUrl {
  const u = new URL(url);
  if (u.protocol !== 'artc:') throw new TypeError(`not an artc:// URL: ${url}`);
  const parts = u.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length !== 2 || !u.host) throw new TypeError(`expected artc://host/app/stream: ${url}`);
  return { host: u.host, app: parts[0], stream: parts[1], query: Object.fromEntries(u.searchParams) };
}

/** The WHEP endpoint an artc:// URL maps to, given where the WHEP routes are mounted. */
export function whepUrlOf(artc: string, opts: { scheme?: 'http' | 'https'; mount?: string } = {}): string {
  const a = parseArtcUrl(artc);
  const q = new URLSearchParams(a.query).toString();
  const path = `${opts.mount ?? ''}/${encodeURIComponent(a.app)}/${encodeURIComponent(a.stream)}`;
  return `${opts.scheme ?? 'http'}://${a.host}${path}${q ? `?${q}` : ''}`;
}
