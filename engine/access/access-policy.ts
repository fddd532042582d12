import { isIP } from 'node:net';
import type { DomainConfig } from '../config/config.js';
import { verifyAuthKey } from './auth-key.js';

/**
 * Domains and signed URLs, as in the service we model: publishing only on ingest domains; playing
 * on play or rts domains bound (directly or through their parent) to the stream's ingest domain;
 * an rts domain serves only RTS, a play domain everything but RTS. With no domains configured one
 * default domain takes everything without auth.
 */
export type PlayProtocol = 'rtmp' | 'flv' | 'hls' | 'rts';
export type Protocol = PlayProtocol | 'publish';

export interface AccessRequest {
  action: 'publish' | 'play';
  protocol: PlayProtocol | 'rtmp';
  /** Host of the URL (port is ignored). */
  host: string;
  app: string;
  stream: string;
  /** Path signed by auth_key: `/{app}/{stream}` for RTMP/RTS, `/{app}/{stream}.flv`, `/{app}/{stream}.m3u8`. */
  uri: string;
  query: Readonly<Record<string, string>>;
}

export type AccessVerdict =
  | { ok: true; domain: string; ingestDomain: string; streamKey: string }
  | { ok: false; status: number; code: string; reason: string };

export const DEFAULT_DOMAIN = '_';

export function streamKeyOf(ingestDomain: string, app: string, stream: string): string {
  return `${ingestDomain}/${app}/${stream}`;
}

function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  return colon > 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

export class AccessPolicy {
  private readonly byName = new Map<string, DomainConfig>();
  constructor(
    private readonly domains: readonly DomainConfig[],
    private readonly now: () => number = () => Date.now() / 1000,
  ) {
    for (const d of domains) this.byName.set(d.name.toLowerCase(), d);
  }

  get configured(): boolean {
    return this.domains.length > 0;
  }

  /** The domain a request names: the URL's host, or `domain=` where the host is an IP or localhost. */
  domainOf(
    host: string,
    query: Readonly<Record<string, string>>,
    wanted: 'ingest' | 'play',
  ): DomainConfig | undefined {
    const h = hostName(host);
    const named = query.domain?.toLowerCase();
    if (named) return this.byName.get(named);
    const byHost = this.byName.get(h);
    if (byHost) return byHost;
    if (isIP(h) || h === 'localhost') {
      const candidates = this.domains.filter((d) =>
        wanted === 'ingest' ? d.type === 'ingest' : d.type !== 'ingest',
      );
      if (candidates.length === 1) return candidates[0];
    }
    return undefined;
  }

  /** The ingest domain a streaming domain serves (directly or through its parent). */
  ingestOf(d: DomainConfig): string | undefined {
    let cur: DomainConfig | undefined = d;
    for (let hops = 0; cur && hops < 4; hops++) {
      if (cur.ingest) return cur.ingest.toLowerCase();
      cur = cur.parent ? this.byName.get(cur.parent.toLowerCase()) : undefined;
    }
    return undefined;
  }

  check(req: AccessRequest): AccessVerdict {
    if (!this.configured) {
      return {
        ok: true,
        domain: DEFAULT_DOMAIN,
        ingestDomain: DEFAULT_DOMAIN,
        streamKey: streamKeyOf(DEFAULT_DOMAIN, req.app, req.stream),
      };
    }
    const dom = this.domainOf(req.host, req.query, req.action === 'publish' ? 'ingest' : 'play');
    if (!dom) {
      return {
        ok: false,
        status: 403,
        code: 'RTS_ERR_DOMAIN_UNKNOWN',
        reason: `unknown domain ${req.query.domain ?? hostName(req.host)}`,
      };
    }
    let ingest: string | undefined;
    if (req.action === 'publish') {
      if (dom.type !== 'ingest') {
        return {
          ok: false,
          status: 403,
          code: 'RTS_ERR_DOMAIN_NOT_INGEST',
          reason: `domain ${dom.name} is a ${dom.type} domain: publishing needs an ingest domain`,
        };
      }
      ingest = dom.name.toLowerCase();
    } else {
      if (dom.type === 'ingest') {
        return {
          ok: false,
          status: 403,
          code: 'RTS_ERR_DOMAIN_NOT_PLAY',
          reason: `domain ${dom.name} is an ingest domain: play from a streaming domain bound to it`,
        };
      }
      if (dom.type === 'rts' && req.protocol !== 'rts') {
        return {
          ok: false,
          status: 403,
          code: 'RTS_ERR_DOMAIN_RTS_ONLY',
          reason: `domain ${dom.name} is an RTS domain: it serves only artc:// (WebRTC) playback, not ${req.protocol.toUpperCase()}`,
        };
      }
      if (dom.type === 'play' && req.protocol === 'rts') {
        return {
          ok: false,
          status: 403,
          code: 'RTS_ERR_DOMAIN_NOT_RTS',
          reason: `domain ${dom.name} is not an RTS domain: RTS playback needs a separate rts domain`,
        };
      }
      ingest = this.ingestOf(dom);
      if (!ingest) {
        return {
          ok: false,
          status: 403,
          code: 'RTS_ERR_DOMAIN_UNBOUND',
          reason: `domain ${dom.name} is not bound to an ingest domain`,
        };
      }
    }
    const keys = this.keysOf(dom);
    if (keys.length > 0) {
      const v = verifyAuthKey({
        uri: req.uri,
        authKey: req.query.auth_key,
        keys,
        validitySeconds: this.validityOf(dom),
        nowSeconds: this.now(),
      });
      if (!v.ok) return { ok: false, status: 403, code: 'RTS_ERR_AUTH', reason: v.reason };
    }
    return {
      ok: true,
      domain: dom.name.toLowerCase(),
      ingestDomain: ingest,
      streamKey: streamKeyOf(ingest, req.app, req.stream),
    };
  }

  private keysOf(d: DomainConfig): string[] {
    let cur: DomainConfig | undefined = d;
    for (let hops = 0; cur && hops < 4; hops++) {
      const keys = [cur.authKey, cur.authKey2].filter((k): k is string => !!k);
      if (keys.length > 0) return keys;
      cur = cur.parent ? this.byName.get(cur.parent.toLowerCase()) : undefined;
    }
    return [];
  }

  private validityOf(d: DomainConfig): number {
    if (d.authValidity !== undefined) return d.authValidity;
    const p = d.parent ? this.byName.get(d.parent.toLowerCase()) : undefined;
    return p?.authValidity ?? 0;
  }
}
