import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { PlayProtocol } from '../../engine/access/access-policy.js';
import { RefusedError } from '../../engine/errors.js';
import type { Logger } from '../../engine/logging/logger.js';
import type { PlayContext, RtsNode } from '../../engine/node.js';
import { HttpFlvPlayer, WsFlvPlayer } from '../flv/http-flv-player.js';
import { whepPathOf } from '../webrtc/whep-path.js';
import { parseRequestTarget, type RequestTarget } from './request-target.js';

const CORS: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Location, Link, ETag, Content-Length',
};
const PREFLIGHT: Record<string, string> = {
  ...CORS,
  'Access-Control-Allow-Methods': 'GET, POST, PATCH, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'Content-Type, Authorization, If-Match, If-None-Match',
  'Access-Control-Max-Age': '86400',
};
/** Largest request body accepted (SDP offers, trickle ICE fragments). */
const MAX_BODY_BYTES = 64 * 1024;
/** Bytes of a too-big body read and dropped before its connection is cut (see readBody). */
const BODY_DRAIN_BYTES = 4 * 1024 * 1024;
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

const ROOT = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../../' : '../../../', import.meta.url),
);
/** Files of the web player, served at /player/. */
const PLAYER_FILES: Record<string, { file: string; type: string }> = {
  '': { file: 'player/index.html', type: 'text/html; charset=utf-8' },
  'index.html': { file: 'player/index.html', type: 'text/html; charset=utf-8' },
  'sdk.js': { file: 'player/dist/sdk.js', type: 'text/javascript; charset=utf-8' },
  'vendor/mpegts.js': {
    file: 'node_modules/mpegts.js/dist/mpegts.js',
    type: 'text/javascript; charset=utf-8',
  },
  'vendor/hls.js': { file: 'node_modules/hls.js/dist/hls.min.js', type: 'text/javascript; charset=utf-8' },
  'vendor/hls.mjs': { file: 'node_modules/hls.js/dist/hls.mjs', type: 'text/javascript; charset=utf-8' },
};

let nextId = 1;

interface CachedBody {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}
/** Immutable HLS bodies (segments, parts, init) kept on the main thread: most requests never reach a worker. */
const HLS_CACHE_ENTRIES = 4096;

function queryOf(url: URL): Record<string, string> {
  const q: Record<string, string> = {};
  for (const [k, v] of url.searchParams) q[k] = v;
  return q;
}

function send(
  res: ServerResponse,
  status: number,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const h: Record<string, string> = { ...CORS, ...headers };
  if (!h['Content-Type'])
    h['Content-Type'] = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream';
  res.writeHead(status, h);
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, `${JSON.stringify(value, null, 2)}\n`, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache',
  });
}

function refusal(err: unknown): { status: number; reason: string } {
  if (err instanceof RefusedError) return { status: err.status, reason: err.message };
  return { status: 500, reason: 'internal error' };
}

/**
 * The HTTP listener (main thread): API, HTTP-FLV and WebSocket-FLV players (their sockets stay
 * here), and the front door of HLS and WHEP, whose work runs on the stream's worker.
 */
export class HttpServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private accepting = true;
  private readonly hlsCache = new Map<string, CachedBody>();
  hlsCacheHits = 0;

  constructor(
    private readonly node: RtsNode,
    private readonly logger: Logger,
  ) {
    this.server = createServer(
      { maxHeaderSize: node.config.http.maxHeaderBytes, requestTimeout: 30_000, keepAliveTimeout: 5000 },
      (req, res) => {
        this.onRequest(req, res).catch((err) => {
          this.logger.warn('request failed', { url: req.url, error: String(err) });
          send(res, 500, 'internal error\n');
        });
      },
    );
    this.server.maxConnections = node.config.limits.maxConnections;
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      this.logger.debug('bad HTTP request', { error: err.code ?? err.message });
      if (socket.writable)
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      this.onUpgrade(req, socket).catch(() => socket.destroy());
    });
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const a = this.server.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });
  }

  /** Stop taking new requests (they get 503); connections in flight go on. */
  async stopAccepting(): Promise<void> {
    this.accepting = false;
    this.server.close();
  }

  async close(): Promise<void> {
    this.accepting = false;
    this.server.close();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.accepting) return send(res, 503, 'node is shutting down\n', { Connection: 'close' });
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      res.writeHead(204, PREFLIGHT);
      res.end();
      return;
    }
    const target = parseRequestTarget(url.pathname);
    switch (target.kind) {
      case 'api': {
        return this.api(target.rest, url, method, res);
      }
      case 'player': {
        return this.player(target.rest, res);
      }
      case 'flv': {
        if (method !== 'GET' && method !== 'HEAD') return send(res, 405, 'use GET\n', { Allow: 'GET' });
        return this.flv(req, res, target, url);
      }
      case 'hls': {
        if (method !== 'GET' && method !== 'HEAD') return send(res, 405, 'use GET\n', { Allow: 'GET' });
        return this.forward(req, res, target, url, 'hls');
      }
      case 'whep': {
        return this.forward(req, res, target, url, 'whep');
      }
      case 'unknown': {
        return send(res, 404, 'not found\n');
      }
    }
  }

  private async authorize(
    req: IncomingMessage,
    target: { app: string; stream: string; uri: string },
    url: URL,
    protocol: PlayProtocol,
    as: PlayContext['protocol'],
  ): Promise<PlayContext> {
    return this.node.authorizePlay(
      {
        action: 'play',
        protocol,
        host: req.headers.host ?? '',
        app: target.app,
        stream: target.stream,
        uri: target.uri,
        query: queryOf(url),
      },
      req.socket.remoteAddress ?? '',
      as,
    );
  }

  private async flv(
    req: IncomingMessage,
    res: ServerResponse,
    target: Extract<RequestTarget, { kind: 'flv' }>,
    url: URL,
  ): Promise<void> {
    let ctx: PlayContext;
    try {
      ctx = await this.authorize(req, target, url, 'flv', 'flv');
    } catch (err) {
      const r = refusal(err);
      return send(res, r.status, `${r.reason}\n`);
    }
    const stream = await this.node.findStream(ctx);
    if (!stream) return send(res, 404, `stream /${target.app}/${target.stream} is not published\n`);
    if (req.method === 'HEAD') return send(res, 200, '', { 'Content-Type': 'video/x-flv' });
    res.writeHead(200, {
      ...CORS,
      'Content-Type': 'video/x-flv',
      'Cache-Control': 'no-cache',
      Connection: 'close',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders();
    const socket = req.socket;
    socket.setNoDelay(true);
    socket.setTimeout(0);
    const hasVideo = !!stream.ring.config('video');
    const hasAudio = !!stream.ring.config('audio');
    const player = new HttpFlvPlayer(
      `flv-${nextId++}`,
      socket,
      this.node.config.players,
      hasAudio || !hasVideo,
      hasVideo || !hasAudio,
    );
    this.attach(ctx, player, socket);
  }

  private attach(ctx: PlayContext, player: HttpFlvPlayer | WsFlvPlayer, socket: Socket): void {
    let detach: ((reason?: string) => void) | undefined;
    try {
      detach = this.node.attachPlayer(ctx, player);
    } catch (err) {
      player.close(String(err));
      return;
    }
    socket.once('close', () => detach?.('player left'));
    socket.on('error', () => socket.destroy());
  }

  private async onUpgrade(req: IncomingMessage, socket: Socket): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const target = parseRequestTarget(url.pathname);
    const key = req.headers['sec-websocket-key'];
    const reject = (status: number, reason: string) => {
      socket.end(
        `HTTP/1.1 ${status} ${reason.replace(/[\r\n]/g, ' ')}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
    };
    if (!this.accepting) return reject(503, 'Shutting Down');
    if (
      target.kind !== 'flv' ||
      (req.headers.upgrade ?? '').toLowerCase() !== 'websocket' ||
      typeof key !== 'string'
    ) {
      return reject(400, 'Bad Request');
    }
    let ctx: PlayContext;
    try {
      ctx = await this.authorize(req, target, url, 'flv', 'ws-flv');
    } catch (err) {
      const r = refusal(err);
      return reject(r.status, r.reason);
    }
    const stream = await this.node.findStream(ctx);
    if (!stream) return reject(404, 'Stream Not Published');
    const accept = createHash('sha1')
      .update(key + WS_GUID)
      .digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    socket.setNoDelay(true);
    let inbound = 0;
    socket.on('data', (d: Buffer) => {
      // Players send nothing but control frames; a close frame (opcode 8) or a flood ends it.
      inbound += d.length;
      if ((d[0] & 0x0f) === 0x8 || inbound > MAX_BODY_BYTES) socket.destroy();
    });
    const hasVideo = !!stream.ring.config('video');
    const hasAudio = !!stream.ring.config('audio');
    const player = new WsFlvPlayer(
      `ws-${nextId++}`,
      socket,
      this.node.config.players,
      hasAudio || !hasVideo,
      hasVideo || !hasAudio,
    );
    this.attach(ctx, player, socket);
  }

  private async forward(
    req: IncomingMessage,
    res: ServerResponse,
    target: Extract<RequestTarget, { kind: 'hls' | 'whep' }>,
    url: URL,
    kind: 'hls' | 'whep',
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const query = queryOf(url);
    const headers: Record<string, string | undefined> = {
      'content-type': req.headers['content-type'],
      'if-match': req.headers['if-match'],
      host: req.headers.host,
      'x-remote-address': req.socket.remoteAddress,
    };
    let body: Uint8Array | undefined;
    if (method === 'POST' || method === 'PATCH') {
      body = await readBody(req, MAX_BODY_BYTES);
      if (!body) return send(res, 413, `request body over ${MAX_BODY_BYTES} bytes\n`);
    }
    const pool = this.node.workers;
    // A WHEP session (PATCH/DELETE of /{domain}~{app}/{stream}/session/{id}) is authorised by its
    // unguessable id and lives on the RTC worker.
    if (kind === 'whep' && target.rest !== '') {
      if (!pool.rtc.running) return send(res, 404, 'no such WHEP session\n');
      const path = `/${target.app}/${target.stream}/${target.rest}`;
      const { res: r, body: bytes } = await pool.rtc.session(path, { method, path, query, headers }, body);
      return send(
        res,
        r.status,
        bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length) : (r.body ?? ''),
        r.headers,
      );
    }
    let ctx: PlayContext;
    try {
      ctx = await this.authorize(
        req,
        target,
        url,
        kind === 'hls' ? 'hls' : 'rts',
        kind === 'hls' ? 'hls' : 'rts',
      );
    } catch (err) {
      const r = refusal(err);
      return send(res, r.status, `${r.reason}\n`);
    }
    let stream =
      (await this.node.findStream(ctx)) ??
      (kind === 'hls' ? this.node.liveOrRecentStream(ctx.streamKey) : undefined);
    if (!stream) return send(res, 404, `stream /${target.app}/${target.stream} is not published\n`);
    const worker = stream.worker;
    let path = target.rest;
    if (kind === 'whep') {
      if (method !== 'POST') return send(res, 405, 'POST an SDP offer\n', { Allow: 'POST, OPTIONS' });
      try {
        stream = await this.node.rtsSource(stream);
      } catch (err) {
        const r = refusal(err);
        return send(res, r.status, `${r.reason}\n`);
      }
      path = whepPathOf(stream.key);
      let answer: Awaited<ReturnType<typeof pool.rtc.offer>>;
      try {
        answer = await pool.rtc.offer(stream, { method, path, query, headers }, body, 15_000);
      } catch (err) {
        return send(res, 503, `WebRTC is not available on this node: ${String(err)}\n`);
      }
      const { res: r, body: bytes } = answer;
      if (r.status < 300)
        this.node.meter.add(stream.domain, 'rts', bytes?.length ?? Buffer.byteLength(r.body ?? ''));
      return send(
        res,
        r.status,
        bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length) : (r.body ?? ''),
        r.headers,
      );
    }
    const cacheKey = `${stream.key}#${stream.gen}#${target.rest}`;
    if (kind === 'hls') {
      const hit = this.hlsCache.get(cacheKey);
      if (hit) {
        this.hlsCacheHits++;
        this.node.meter.add(stream.domain, 'hls', hit.body.length);
        return send(
          res,
          hit.status,
          Buffer.from(hit.body.buffer, hit.body.byteOffset, hit.body.length),
          hit.headers,
        );
      }
    }
    const { res: r, body: bytes } = await pool.http(
      worker,
      kind,
      stream.key,
      { method, path, query, headers },
      body,
      kind === 'hls' ? 20_000 : 15_000,
    );
    if (r.status < 300) {
      const n = bytes?.length ?? Buffer.byteLength(r.body ?? '');
      this.node.meter.add(stream.domain, kind === 'hls' ? 'hls' : 'rts', n);
    }
    if (
      kind === 'hls' &&
      bytes &&
      r.status === 200 &&
      (r.headers['Cache-Control'] ?? '').includes('immutable')
    ) {
      if (this.hlsCache.size >= HLS_CACHE_ENTRIES)
        this.hlsCache.delete(this.hlsCache.keys().next().value as string);
      this.hlsCache.set(cacheKey, { status: r.status, headers: r.headers, body: bytes });
    }
    send(
      res,
      r.status,
      bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length) : (r.body ?? ''),
      r.headers,
    );
  }

  private async api(rest: string[], url: URL, method: string, res: ServerResponse): Promise<void> {
    if (method !== 'GET') return send(res, 405, 'use GET\n', { Allow: 'GET' });
    if (rest[0] !== 'v1') return send(res, 404, 'unknown API version\n');
    if (rest[1] === 'streams' && rest.length === 2) {
      return sendJson(res, 200, { streams: await this.node.streams() });
    }
    if (rest[1] === 'cluster' && rest.length === 2) {
      const c = await this.node.clusterInfo();
      return c
        ? sendJson(res, 200, c)
        : sendJson(res, 404, { error: 'this node is not in a cluster (start it with --nats)' });
    }
    if (rest[1] === 'streams' && rest.length === 4) {
      const domain = url.searchParams.get('domain');
      const candidates = [...this.node.liveStreamsNamed(rest[2], rest[3])].filter(
        (s) => !domain || s.domain === domain,
      );
      if (candidates.length === 0)
        return sendJson(res, 404, { error: `stream /${rest[2]}/${rest[3]} is not published` });
      return sendJson(res, 200, await this.node.stream(candidates[0].key));
    }
    if (rest[1] === 'node' && rest.length === 2) {
      return sendJson(res, 200, await this.node.nodeInfo());
    }
    return sendJson(res, 404, { error: 'no such API' });
  }

  private async player(rest: string, res: ServerResponse): Promise<void> {
    const entry = PLAYER_FILES[rest];
    if (!entry) return send(res, 404, 'not found\n');
    try {
      const data = await readFile(`${ROOT}${entry.file}`);
      send(res, 200, data, { 'Content-Type': entry.type, 'Cache-Control': 'no-cache' });
    } catch {
      send(res, 404, `${entry.file} is missing (run npm run build)\n`);
    }
  }
}

function readBody(req: IncomingMessage, max: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size <= max) {
        parts.push(d);
        return;
      }
      // Too big: the rest is read and dropped, so the client can read the 413 (a socket closed
      // under its upload is a reset it may report instead); past the drain limit it is cut off.
      if (!over) {
        over = true;
        parts.length = 0;
      }
      if (size > max + BODY_DRAIN_BYTES) {
        resolve(undefined);
        req.destroy();
      }
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(parts)));
    req.on('error', reject);
  });
}
