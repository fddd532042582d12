/**
 * RtsPlayer: plays an RTS URL (`artc://host[:port]/app/stream?auth_key=…`) over WebRTC (WHEP) and
 * falls back to HTTP-FLV (mpegts.js) and then HLS (hls.js) when WebRTC is missing, refused,
 * silent or broken. One file on purpose: `tsc -p player/tsconfig.player.json` emits
 * `player/dist/sdk.js`, served as `/player/sdk.js`; the players are loaded lazily from
 * `./vendor/mpegts.js` and `./vendor/hls.js` next to it, only when a fallback needs them.
 */

export type RtsProtocol = 'webrtc' | 'flv' | 'hls';

export interface RtsEndpoints {
  webrtc?: string;
  flv?: string;
  hls?: string;
}

export interface RtsPlayerOptions {
  /** No decoded frame within this time moves on to the next protocol; default 5000. */
  firstFrameTimeoutMs?: number;
  /** WHEP reconnects after the connection fails mid-play, before falling back; default 2. */
  whepRetries?: number;
  /**
   * A WebRTC connection whose ICE stays `disconnected` this long counts as failed (reconnect, then
   * fall back) instead of waiting for the browser's `failed` (about 30 s of consent checks); default 3000.
   */
  disconnectedTimeoutMs?: number;
  /** How long to wait for ICE gathering before POSTing the offer; default 2000. */
  iceGatheringTimeoutMs?: number;
  iceServers?: RTCIceServer[];
  /** Order of protocols to try; default ['webrtc', 'flv', 'hls']. */
  protocols?: RtsProtocol[];
  /** Where mpegts.js and hls.js are served; default `./vendor/` next to this module. */
  vendorBaseUrl?: string;
  /** Start muted (autoplay without a gesture); playback is retried muted if unmuted autoplay is refused. */
  muted?: boolean;
  /** Extra mpegts.js config. */
  flvConfig?: Record<string, unknown>;
  /** Extra hls.js config. */
  hlsConfig?: Record<string, unknown>;
}

export interface RtsPlayerError {
  code: string;
  message: string;
  protocol?: RtsProtocol;
}

export interface RtsFallbackEvent {
  from: RtsProtocol;
  to: RtsProtocol;
  reason: string;
  code: string;
}

export type RtsPlayerEvents = {
  playing: { protocol: RtsProtocol };
  waiting: { protocol: RtsProtocol | undefined; reason: string };
  error: RtsPlayerError;
  fallback: RtsFallbackEvent;
};

export interface RtsPlayerStats {
  protocol: RtsProtocol | undefined;
  /** Round-trip time in ms (WebRTC candidate pair). */
  rtt: number | undefined;
  /** Mean jitter-buffer delay in ms (WebRTC inbound video). */
  jitterBufferDelay: number | undefined;
  framesDecoded: number;
  framesDropped: number;
  /** Audio RTP packets received (WebRTC). */
  audioPacketsReceived: number;
  /** Video freezes the browser counted (WebRTC `freezeCount`). */
  freezeCount: number;
  /** 'waiting' events after the first frame. */
  stalls: number;
  /** From play() to the first decoded frame. */
  timeToFirstFrameMs: number | undefined;
  /** WebRTC: from ICE connected to the first decoded frame (what the server's GOP start buys). */
  firstFrameAfterIceMs: number | undefined;
  currentTime: number;
  /** Media buffered ahead of the playhead in ms (FLV/HLS). */
  bufferedAheadMs: number | undefined;
  fallbacks: number;
}

/** An error with a stable code (`WHEP_HTTP_403`, `NO_FRAME_TIMEOUT`, …). */
export class PlayerError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = 'PlayerError';
  }
}

const DEFAULT_PROTOCOLS: RtsProtocol[] = ['webrtc', 'flv', 'hls'];

/**
 * Maps a play URL to its endpoints:
 * - `artc://host[:port]/app/stream?q` → WHEP `http(s)://host[:port]/app/stream?q`, FLV `…/stream.flv?q`, HLS `…/stream.m3u8?q`
 *   (https when the page is https);
 * - `http(s)://…/stream.flv?q` → FLV, then HLS `…/stream.m3u8?q`;
 * - `http(s)://…/stream.m3u8?q` → HLS only;
 * - any other `http(s)://…` is taken as a WHEP endpoint with FLV and HLS derived from it.
 */
export function rtsUrlToEndpoints(url: string, pageProtocol?: string): RtsEndpoints {
  const u = new URL(url);
  const page = pageProtocol ?? (typeof location !== 'undefined' ? location.protocol : 'http:');
  const withExt = (base: URL, ext: string): string => {
    const v = new URL(base.href);
    v.pathname = v.pathname.replace(/\/+$/, '') + ext;
    return v.href;
  };
  if (u.protocol === 'artc:' || u.protocol === 'webrtc:') {
    const http = new URL(`${page === 'https:' ? 'https' : 'http'}://${u.host}${u.pathname}${u.search}`);
    return { webrtc: http.href, flv: withExt(http, '.flv'), hls: withExt(http, '.m3u8') };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new PlayerError('BAD_URL', `unsupported URL scheme ${u.protocol}`);
  }
  if (/\.flv$/i.test(u.pathname)) {
    const base = new URL(u.href);
    base.pathname = base.pathname.replace(/\.flv$/i, '');
    return { flv: u.href, hls: withExt(base, '.m3u8') };
  }
  if (/\.m3u8$/i.test(u.pathname)) return { hls: u.href };
  return { webrtc: u.href, flv: withExt(u, '.flv'), hls: withExt(u, '.m3u8') };
}

type Listener<T> = (ev: T) => void;

// Minimal shapes of the lazily loaded players (only what we call).
interface MpegtsPlayer {
  on(event: string, fn: (...args: unknown[]) => void): void;
  attachMediaElement(el: HTMLMediaElement): void;
  load(): void;
  unload(): void;
  detachMediaElement(): void;
  destroy(): void;
}
interface MpegtsLib {
  isSupported(): boolean;
  createPlayer(source: Record<string, unknown>, config?: Record<string, unknown>): MpegtsPlayer;
  Events: { ERROR: string };
}
interface HlsInstance {
  on(
    event: string,
    fn: (event: string, data: { fatal?: boolean; type?: string; details?: string }) => void,
  ): void;
  loadSource(url: string): void;
  attachMedia(el: HTMLMediaElement): void;
  destroy(): void;
}
interface HlsLib {
  new (config?: Record<string, unknown>): HlsInstance;
  isSupported(): boolean;
  Events: { ERROR: string };
}

interface Session {
  protocol: RtsProtocol;
  index: number;
  teardown(): void;
  pc?: RTCPeerConnection;
  /** performance.now() when ICE connected (WebRTC). */
  iceConnectedAt?: number;
}

const scriptLoads = new Map<string, Promise<void>>();
function loadScript(src: string): Promise<void> {
  let p = scriptLoads.get(src);
  if (!p) {
    p = new Promise<void>((resolve, reject) => {
      const s = document.createElement('script');
      s.src = src;
      s.async = true;
      s.onload = () => resolve();
      s.onerror = () => reject(new PlayerError('VENDOR_LOAD', `cannot load ${src}`));
      document.head.appendChild(s);
    });
    scriptLoads.set(src, p);
  }
  return p;
}

function errorText(err: unknown): { code: string; message: string } {
  if (err instanceof PlayerError) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: 'PLAYER_ERROR', message: `${err.name}: ${err.message}` };
  return { code: 'PLAYER_ERROR', message: String(err) };
}

export class RtsPlayer {
  readonly video: HTMLVideoElement;
  private readonly opts: Required<
    Omit<RtsPlayerOptions, 'iceServers' | 'vendorBaseUrl' | 'flvConfig' | 'hlsConfig'>
  > &
    RtsPlayerOptions;
  private readonly listeners = new Map<keyof RtsPlayerEvents, Set<Listener<never>>>();
  private gen = 0;
  private chain: RtsProtocol[] = [];
  private endpoints: RtsEndpoints = {};
  private session: Session | undefined;
  private playing = false;
  private startedAt = 0;
  private ttff: number | undefined;
  private ffAfterIce: number | undefined;
  private stallCount = 0;
  private fallbackCount = 0;
  private readonly onWaiting = (): void => {
    if (!this.playing || !this.session) return;
    this.stallCount++;
    this.emit('waiting', { protocol: this.session.protocol, reason: 'buffering' });
  };
  private readonly onPlaying = (): void => {
    if (this.playing && this.session && this.stallCount > 0)
      this.emit('playing', { protocol: this.session.protocol });
  };

  constructor(video: HTMLVideoElement, opts: RtsPlayerOptions = {}) {
    this.video = video;
    this.opts = {
      firstFrameTimeoutMs: 5000,
      whepRetries: 2,
      disconnectedTimeoutMs: 3000,
      iceGatheringTimeoutMs: 2000,
      protocols: DEFAULT_PROTOCOLS,
      muted: false,
      ...(Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as RtsPlayerOptions),
    };
    video.addEventListener('waiting', this.onWaiting);
    video.addEventListener('playing', this.onPlaying);
  }

  /** The protocol currently playing (or being tried). */
  get protocol(): RtsProtocol | undefined {
    return this.session?.protocol;
  }

  on<K extends keyof RtsPlayerEvents>(event: K, fn: Listener<RtsPlayerEvents[K]>): this {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(fn as Listener<never>);
    return this;
  }

  off<K extends keyof RtsPlayerEvents>(event: K, fn: Listener<RtsPlayerEvents[K]>): this {
    this.listeners.get(event)?.delete(fn as Listener<never>);
    return this;
  }

  /**
   * Plays `url`, trying each protocol in turn. Resolves with the protocol that delivered a first
   * frame; rejects (after an 'error' event) when every protocol failed.
   */
  async play(url: string): Promise<RtsProtocol> {
    this.stop();
    const gen = ++this.gen;
    this.endpoints = rtsUrlToEndpoints(url);
    this.chain = this.opts.protocols.filter((p) => this.endpoints[p] !== undefined);
    this.startedAt = performance.now();
    this.ttff = undefined;
    this.ffAfterIce = undefined;
    this.stallCount = 0;
    this.fallbackCount = 0;
    this.video.muted = this.opts.muted;
    if (this.chain.length === 0) {
      const e = new PlayerError('BAD_URL', `nothing to play for ${url}`);
      this.emit('error', { code: e.code, message: e.message });
      throw e;
    }
    return this.runChain(0, gen);
  }

  /** Stops playback: closes the peer connection (and DELETEs the WHEP resource) or the players. */
  stop(): void {
    this.gen++;
    this.playing = false;
    const s = this.session;
    this.session = undefined;
    s?.teardown();
  }

  /** Stops and detaches from the video element. */
  destroy(): void {
    this.stop();
    this.video.removeEventListener('waiting', this.onWaiting);
    this.video.removeEventListener('playing', this.onPlaying);
    this.listeners.clear();
  }

  async stats(): Promise<RtsPlayerStats> {
    const s: RtsPlayerStats = {
      protocol: this.session?.protocol,
      rtt: undefined,
      jitterBufferDelay: undefined,
      framesDecoded: 0,
      framesDropped: 0,
      audioPacketsReceived: 0,
      freezeCount: 0,
      stalls: this.stallCount,
      timeToFirstFrameMs: this.ttff,
      firstFrameAfterIceMs: this.ffAfterIce,
      currentTime: this.video.currentTime,
      bufferedAheadMs: undefined,
      fallbacks: this.fallbackCount,
    };
    const pc = this.session?.pc;
    if (pc) {
      const report = await pc.getStats();
      report.forEach((r: Record<string, unknown>) => {
        if (r.type === 'inbound-rtp' && r.kind === 'video') {
          s.framesDecoded = Number(r.framesDecoded ?? 0);
          s.framesDropped = Number(r.framesDropped ?? 0);
          s.freezeCount = Number(r.freezeCount ?? 0);
          const emitted = Number(r.jitterBufferEmittedCount ?? 0);
          if (emitted > 0) s.jitterBufferDelay = (Number(r.jitterBufferDelay ?? 0) / emitted) * 1000;
        } else if (r.type === 'inbound-rtp' && r.kind === 'audio') {
          s.audioPacketsReceived = Number(r.packetsReceived ?? 0);
        } else if (r.type === 'candidate-pair' && (r.nominated || r.selected) && r.state === 'succeeded') {
          if (typeof r.currentRoundTripTime === 'number') s.rtt = r.currentRoundTripTime * 1000;
        }
      });
    } else {
      const q = this.video.getVideoPlaybackQuality?.();
      if (q) {
        s.framesDecoded = q.totalVideoFrames;
        s.framesDropped = q.droppedVideoFrames;
      }
      const b = this.video.buffered;
      if (b.length > 0)
        s.bufferedAheadMs = Math.max(0, (b.end(b.length - 1) - this.video.currentTime) * 1000);
    }
    return s;
  }

  private emit<K extends keyof RtsPlayerEvents>(event: K, ev: RtsPlayerEvents[K]): void {
    for (const fn of [...(this.listeners.get(event) ?? [])]) {
      try {
        (fn as Listener<RtsPlayerEvents[K]>)(ev);
      } catch {
        // a throwing listener must not break playback
      }
    }
  }

  private async runChain(start: number, gen: number): Promise<RtsProtocol> {
    let lastErr: unknown;
    for (let i = start; i < this.chain.length; i++) {
      const protocol = this.chain[i];
      try {
        await this.attempt(protocol, i, gen);
        return protocol;
      } catch (err) {
        if (gen !== this.gen) throw new PlayerError('ABORTED', 'playback was stopped');
        lastErr = err;
        this.session?.teardown();
        this.session = undefined;
        const { code, message } = errorText(err);
        const next = this.chain[i + 1];
        if (next) {
          this.fallbackCount++;
          this.emit('fallback', { from: protocol, to: next, reason: message, code });
        } else {
          this.emit('error', { code, message, protocol });
        }
      }
    }
    throw lastErr instanceof Error ? lastErr : new PlayerError('ALL_FAILED', 'no protocol could play');
  }

  /** A failure after the first frame: retry WebRTC a few times, else continue down the chain. */
  private midPlayFailure(session: Session, gen: number, err: unknown, retriesLeft: number): void {
    if (gen !== this.gen || this.session !== session) return;
    const { code, message } = errorText(err);
    this.playing = false;
    session.teardown();
    this.session = undefined;
    if (session.protocol === 'webrtc' && retriesLeft > 0) {
      this.emit('waiting', { protocol: 'webrtc', reason: `reconnecting: ${message}` });
      this.attempt('webrtc', session.index, gen, retriesLeft - 1).catch((e) => {
        if (gen === this.gen) this.continueAfter(session.index, gen, e);
      });
      return;
    }
    const next = this.chain[session.index + 1];
    if (next) {
      this.fallbackCount++;
      this.emit('fallback', { from: session.protocol, to: next, reason: message, code });
      this.runChain(session.index + 1, gen).catch(() => {});
    } else {
      this.emit('error', { code, message, protocol: session.protocol });
    }
  }

  private continueAfter(index: number, gen: number, err: unknown): void {
    const { code, message } = errorText(err);
    const from = this.chain[index];
    const next = this.chain[index + 1];
    if (next) {
      this.fallbackCount++;
      this.emit('fallback', { from, to: next, reason: message, code });
      this.runChain(index + 1, gen).catch(() => {});
    } else {
      this.emit('error', { code, message, protocol: from });
    }
  }

  private async attempt(
    protocol: RtsProtocol,
    index: number,
    gen: number,
    retriesLeft?: number,
  ): Promise<void> {
    const url = this.endpoints[protocol]!;
    let failEarly!: (e: unknown) => void;
    const early = new Promise<never>((_, reject) => {
      failEarly = reject;
    });
    early.catch(() => {});
    const session: Session = { protocol, index, teardown: () => {} };
    this.session = session;
    let firstFrame = false;
    const fail = (e: unknown): void => {
      if (!firstFrame) failEarly(e);
      else this.midPlayFailure(session, gen, e, retries);
    };
    const retries = retriesLeft ?? this.opts.whepRetries;
    switch (protocol) {
      case 'webrtc': {
        await this.startWhep(session, url, fail);
        break;
      }
      case 'flv': {
        await this.startFlv(session, url, fail);
        break;
      }
      case 'hls': {
        await this.startHls(session, url, fail);
        break;
      }
    }
    if (gen !== this.gen) throw new PlayerError('ABORTED', 'playback was stopped');
    this.startVideo();
    await Promise.race([this.waitFirstFrame(gen), early]);
    firstFrame = true;
    this.playing = true;
    const now = performance.now();
    if (this.ttff === undefined) this.ttff = Math.round(now - this.startedAt);
    if (this.ffAfterIce === undefined && session.iceConnectedAt !== undefined)
      this.ffAfterIce = Math.round(now - session.iceConnectedAt);
    this.emit('playing', { protocol });
  }

  private startVideo(): void {
    this.video.play().catch((err: unknown) => {
      if (err instanceof DOMException && err.name === 'NotAllowedError' && !this.video.muted) {
        this.video.muted = true;
        this.video.play().catch(() => {});
      }
    });
  }

  private waitFirstFrame(gen: number): Promise<void> {
    const timeoutMs = this.opts.firstFrameTimeoutMs;
    const v = this.video;
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (err?: PlayerError): void => {
        if (done) return;
        done = true;
        clearInterval(poll);
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const decoded = (): boolean => {
        const q = v.getVideoPlaybackQuality?.();
        return (q?.totalVideoFrames ?? 0) > 0 || v.currentTime > 0;
      };
      const poll = setInterval(() => {
        if (gen !== this.gen) finish(new PlayerError('ABORTED', 'playback was stopped'));
        else if (v.readyState >= 2 && decoded()) finish();
      }, 50);
      const timer = setTimeout(
        () => finish(new PlayerError('NO_FRAME_TIMEOUT', `no video frame within ${timeoutMs} ms`)),
        timeoutMs,
      );
      if (typeof v.requestVideoFrameCallback === 'function') {
        v.requestVideoFrameCallback(() => {
          if (gen === this.gen) finish();
        });
      }
    });
  }

  private async startWhep(session: Session, url: string, fail: (e: unknown) => void): Promise<void> {
    if (typeof RTCPeerConnection === 'undefined') {
      throw new PlayerError('WHEP_UNSUPPORTED', 'WebRTC (RTCPeerConnection) is not available');
    }
    const pc = new RTCPeerConnection({ iceServers: this.opts.iceServers ?? [], bundlePolicy: 'max-bundle' });
    session.pc = pc;
    let resource: string | undefined;
    const stream = new MediaStream();
    let disconnected: ReturnType<typeof setTimeout> | undefined;
    session.teardown = () => {
      clearTimeout(disconnected);
      pc.onconnectionstatechange = null;
      pc.oniceconnectionstatechange = null;
      pc.ontrack = null;
      pc.close();
      if (this.video.srcObject === stream) this.video.srcObject = null;
      if (resource) fetch(resource, { method: 'DELETE', keepalive: true }).catch(() => {});
    };
    const vt = pc.addTransceiver('video', { direction: 'recvonly', streams: [stream] });
    const at = pc.addTransceiver('audio', { direction: 'recvonly', streams: [stream] });
    preferCodec(vt, 'video', 'video/h264');
    preferCodec(at, 'audio', 'audio/opus');
    pc.ontrack = (e) => {
      if (!stream.getTracks().includes(e.track)) stream.addTrack(e.track);
      if (this.video.srcObject !== stream) this.video.srcObject = stream;
    };
    pc.oniceconnectionstatechange = () => {
      const state = pc.iceConnectionState;
      if (state === 'connected') session.iceConnectedAt ??= performance.now();
      if (state === 'disconnected') {
        // the server (or the path) is gone: reconnect after a short grace, as the service's SDK does
        disconnected ??= setTimeout(
          () => fail(new PlayerError('WHEP_DISCONNECTED', 'WebRTC connection lost')),
          this.opts.disconnectedTimeoutMs,
        );
      } else {
        clearTimeout(disconnected);
        disconnected = undefined;
      }
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed') {
        fail(new PlayerError('WHEP_CONNECTION_FAILED', 'WebRTC connection failed'));
      }
    };
    await pc.setLocalDescription(await pc.createOffer());
    await waitIceGathering(pc, this.opts.iceGatheringTimeoutMs);
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), this.opts.firstFrameTimeoutMs);
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp', Accept: 'application/sdp' },
        body: pc.localDescription?.sdp ?? '',
        signal: ac.signal,
      });
    } catch (err) {
      throw new PlayerError('WHEP_NETWORK', `WHEP POST ${url} failed: ${errorText(err).message}`);
    } finally {
      clearTimeout(t);
    }
    if (!res.ok) {
      const text = (await res.text().catch(() => '')).trim().slice(0, 300);
      throw new PlayerError(
        `WHEP_HTTP_${res.status}`,
        `WHEP POST answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${text ? `: ${text}` : ''}`,
      );
    }
    const location = res.headers.get('Location');
    if (location) resource = new URL(location, url).href;
    const answer = await res.text();
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  }

  /**
   * Loads a player library served next to the SDK. mpegts.js ships only a UMD build (it sets
   * `window.mpegts` from a classic script and throws as an ES module); hls.js has both (`hls.mjs`
   * as a module, `hls.js`/`hls.min.js` setting `window.Hls`). So: try the preferred way, then the other.
   */
  private async loadVendor<T>(file: string, globalName: string, moduleFirst: boolean): Promise<T> {
    const g = globalThis as unknown as Record<string, unknown>;
    if (g[globalName]) return g[globalName] as T;
    const base = this.opts.vendorBaseUrl ?? new URL('./vendor/', import.meta.url).href;
    const url = new URL(file, base).href;
    const asModule = async (): Promise<unknown> => {
      try {
        const mod = (await import(/* @vite-ignore */ url)) as Record<string, unknown>;
        return mod.default ?? mod[globalName] ?? g[globalName];
      } catch {
        return undefined;
      }
    };
    const asScript = async (): Promise<unknown> => {
      try {
        await loadScript(url);
      } catch {
        return undefined;
      }
      return g[globalName];
    };
    const lib = moduleFirst
      ? ((await asModule()) ?? (await asScript()))
      : ((await asScript()) ?? (await asModule()));
    if (!lib) throw new PlayerError('VENDOR_LOAD', `cannot load ${globalName} from ${url}`);
    return lib as T;
  }

  private async startFlv(session: Session, url: string, fail: (e: unknown) => void): Promise<void> {
    const mpegts = await this.loadVendor<MpegtsLib>('mpegts.js', 'mpegts', false);
    if (!mpegts.isSupported())
      throw new PlayerError('FLV_UNSUPPORTED', 'MediaSource is not available for HTTP-FLV');
    const player = mpegts.createPlayer(
      { type: 'flv', isLive: true, url },
      {
        enableWorker: false,
        enableStashBuffer: false,
        lazyLoad: false,
        autoCleanupSourceBuffer: true,
        liveBufferLatencyChasing: true,
        liveBufferLatencyMaxLatency: 1.5,
        liveBufferLatencyMinRemain: 0.3,
        // Catch up by playing faster (1.2×) once more than 0.5 s is buffered, down to 0.2 s: without it
        // the player keeps whatever latency it joined with (0.3-1.4 s glass-to-glass measured, 0.2-0.4 s
        // with it; benchmarks/latency/glass-to-glass.ts).
        liveSync: true,
        liveSyncMaxLatency: 0.5,
        liveSyncTargetLatency: 0.2,
        liveSyncPlaybackRate: 1.2,
        ...this.opts.flvConfig,
      },
    );
    session.teardown = () => {
      try {
        player.unload();
        player.detachMediaElement();
        player.destroy();
      } catch {
        // already torn down
      }
    };
    player.on(mpegts.Events.ERROR, (type, detail, info) => {
      const msg = (info as { msg?: string; code?: number } | undefined)?.msg ?? '';
      const code = (info as { code?: number } | undefined)?.code;
      fail(
        new PlayerError(
          'FLV_ERROR',
          `${String(type)}: ${String(detail)}${code ? ` ${code}` : ''}${msg ? ` ${msg}` : ''}`,
        ),
      );
    });
    player.attachMediaElement(this.video);
    player.load();
  }

  private async startHls(session: Session, url: string, fail: (e: unknown) => void): Promise<void> {
    const nativeHls = this.video.canPlayType('application/vnd.apple.mpegurl') !== '';
    const hasMse = typeof MediaSource !== 'undefined';
    if (nativeHls && !hasMse) {
      const onError = (): void =>
        fail(new PlayerError('HLS_ERROR', `native HLS error ${this.video.error?.code ?? ''}`));
      this.video.addEventListener('error', onError);
      this.video.src = url;
      session.teardown = () => {
        this.video.removeEventListener('error', onError);
        this.video.removeAttribute('src');
        this.video.load();
      };
      return;
    }
    const Hls = await this.loadVendor<HlsLib>('hls.js', 'Hls', true);
    if (!Hls.isSupported())
      throw new PlayerError('HLS_UNSUPPORTED', 'neither hls.js nor native HLS can play here');
    // maxLiveSyncPlaybackRate: catch up (up to 1.5×) to the node's PART-HOLD-BACK after a slow start
    // or a stall; hls.js's default (1) keeps whatever latency the start left (measured: LL-HLS at
    // GOP 2 s, 2.1 s without, 1.2 s with; benchmarks/hls/browser-latency.ts).
    const hls = new Hls({
      lowLatencyMode: true,
      liveDurationInfinity: true,
      maxLiveSyncPlaybackRate: 1.5,
      ...this.opts.hlsConfig,
    });
    session.teardown = () => hls.destroy();
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (data.fatal) fail(new PlayerError('HLS_ERROR', `${data.type ?? 'error'}: ${data.details ?? ''}`));
    });
    hls.loadSource(url);
    hls.attachMedia(this.video);
  }
}

function preferCodec(t: RTCRtpTransceiver, kind: 'audio' | 'video', mime: string): void {
  try {
    const caps = RTCRtpReceiver.getCapabilities?.(kind);
    if (!caps || typeof t.setCodecPreferences !== 'function') return;
    const wanted = caps.codecs.filter((c) => c.mimeType.toLowerCase() === mime);
    const rest = caps.codecs.filter((c) => /\/(rtx|red|ulpfec)$/i.test(c.mimeType));
    if (wanted.length) t.setCodecPreferences([...wanted, ...rest]);
  } catch {
    // keep the browser's defaults
  }
}

function waitIceGathering(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise<void>((resolve) => {
    const t = setTimeout(done, timeoutMs);
    function done(): void {
      clearTimeout(t);
      pc.removeEventListener('icegatheringstatechange', onChange);
      resolve();
    }
    function onChange(): void {
      if (pc.iceGatheringState === 'complete') done();
    }
    pc.addEventListener('icegatheringstatechange', onChange);
  });
}
