import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../logging/logger.js';
import type { LiveStream } from '../stream/live-stream.js';
import { LatencyHistogram } from '../telemetry/metrics.js';
import { RtcChild, RtcTap } from './rtc-child.js';
import type { FromRtcProcess } from './rtc-frames.js';
import type { RtcProcessData } from './rtc-process.js';
import {
  decodeWire,
  encodeWire,
  type FromWorker,
  type HttpLikeRequest,
  type HttpLikeResponse,
  type ToWorker,
} from './worker-messages.js';
import { restartDelayMs, WorkerReplies } from './worker-replies.js';

/**
 * The node's WebRTC egress processes (`rtc.processes`, one per core by default): child processes
 * started by `rts serve` or on the first RTS viewer, process i owning UDP port `rtc.port + i`
 * (rtc-process.ts; the node's side of one of them, and the feed of a stream to it: rtc-child.ts).
 * A WHEP POST goes to the process with the fewest sessions; the stream is attached there and its
 * frames forwarded (config frames and the current GOP first); PATCH/DELETE of a session go to the
 * process that answered its POST. A process that exits unexpectedly is started again with back-off
 * (its viewers are gone and reconnect).
 */
export class RtcProcesses {
  private readonly children: RtcChild[] = [];
  private readonly replies: WorkerReplies;
  private readonly sessionChild = new Map<string, number>();
  private started?: Promise<void>;
  private closing = false;
  private pollTimer?: NodeJS.Timeout;

  constructor(
    readonly count: number,
    private readonly data: Omit<RtcProcessData, 'index'>,
    private readonly logger: Logger,
    onEvent?: (key: string, name: string, data?: Record<string, unknown>) => void,
  ) {
    this.replies = new WorkerReplies(logger, onEvent);
    const window = (data.config as { rtc: { ipcWindowBytes?: number } }).rtc.ipcWindowBytes ?? 4 << 20;
    for (let i = 0; i < count; i++) this.children.push(new RtcChild(i, window, logger));
  }

  get running(): boolean {
    return this.started !== undefined;
  }

  /** Starts the RTC processes once (on the first RTS viewer). */
  ensure(): Promise<void> {
    if (this.closing) return Promise.reject(new Error('node shutting down'));
    this.started ??= Promise.all(this.children.map((c) => this.spawn(c))).then(() => {
      this.pollTimer = setInterval(() => void this.refreshCounts(), 2000);
      this.pollTimer.unref();
    });
    return this.started;
  }

  private get basePort(): number {
    return (this.data.config as { rtc: { port: number } }).rtc.port;
  }

  private spawn(child: RtcChild): Promise<void> {
    const ts = import.meta.url.endsWith('.ts');
    const file = fileURLToPath(new URL(`./rtc-process.${ts ? 'ts' : 'js'}`, import.meta.url));
    const config = this.data.config as { rtc: { port: number } };
    const data: RtcProcessData = {
      ...this.data,
      index: child.index,
      config: { ...config, rtc: { ...config.rtc, port: config.rtc.port + child.index } },
    };
    const proc = fork(file, [JSON.stringify(data)], {
      serialization: 'advanced',
      execArgv: ts ? ['--import', 'tsx'] : [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.proc = proc;
    child.sessions = 0;
    child.inFlight = 0;
    child.latencySeen = new Map();
    child.ready = new Promise<void>((resolve, reject) => {
      const onMsg = (m: FromRtcProcess) => {
        if ('w' in m && decodeWire<FromWorker>(m.w).t === 'ready') {
          proc.off('message', onMsg);
          resolve();
        }
      };
      proc.on('message', onMsg);
      proc.once('exit', (code) => reject(new Error(`RTC process ${child.index} exited (${code})`)));
    }).then(() => {
      child.send({ w: encodeWire<ToWorker>({ t: 'init', config: data.config }) });
    });
    child.ready.catch(() => {});
    proc.on('message', (m: FromRtcProcess) => {
      if ('a' in m) child.inFlight = Math.max(0, child.inFlight - m.a);
      else this.replies.onMessage(m.w, 'RTC process error');
    });
    proc.on('error', (err) =>
      this.logger.error('RTC process failed', { index: child.index, error: err.message }),
    );
    proc.on('exit', (code, signal) => {
      if (child.proc !== proc) return;
      child.proc = undefined;
      for (const { tap, stream } of child.streams.values()) stream.removeTap(tap);
      child.streams.clear();
      for (const [id, i] of this.sessionChild) if (i === child.index) this.sessionChild.delete(id);
      if (this.closing) return;
      child.restarts++;
      this.logger.error('RTC process exited; starting it again', {
        index: child.index,
        code,
        signal,
        restarts: child.restarts,
      });
      setTimeout(() => {
        if (this.closing) return;
        this.spawn(child).catch((err) =>
          this.logger.error('RTC process restart failed', { error: String(err) }),
        );
      }, restartDelayMs(child.restarts)).unref();
    });
    return child.ready;
  }

  private request<T>(
    child: RtcChild,
    build: (id: number) => ToWorker,
    timeoutMs: number,
    body?: Uint8Array,
  ): Promise<T> {
    if (!child.proc?.connected) return Promise.reject(new Error(`RTC process ${child.index} is not running`));
    return this.replies.request(
      `RTC process ${child.index}`,
      (w) => child.send({ w }),
      build,
      timeoutMs,
      body,
    );
  }

  /** True when some RTC process serves this stream (generation `gen`). */
  has(key: string, gen: number): boolean {
    return this.children.some((c) => c.streams.get(key)?.gen === gen);
  }

  /** Attaches a stream to one RTC process (once): its frames are forwarded there from now on. */
  private attach(child: RtcChild, stream: LiveStream): void {
    const cur = child.streams.get(stream.key);
    if (cur && cur.gen === stream.gen) return;
    if (cur) cur.stream.removeTap(cur.tap);
    const attach = encodeWire<ToWorker>({
      t: 'attach',
      key: stream.key,
      app: stream.app,
      stream: stream.name,
      domain: stream.domain,
      gen: stream.gen,
    });
    const tap = new RtcTap(`${stream.key}#${stream.gen}`, child, attach);
    child.streams.set(stream.key, { gen: stream.gen, tap, stream });
    stream.addTap(tap); // sends the attach with the replayed frames
  }

  detach(key: string, gen: number, reason: string): void {
    for (const c of this.children) {
      const cur = c.streams.get(key);
      if (!cur || cur.gen !== gen) continue;
      cur.stream.removeTap(cur.tap);
      c.streams.delete(key);
      c.send({ w: encodeWire<ToWorker>({ t: 'detach', key, gen, reason }) });
    }
  }

  /** RTS viewers of a stream, summed over the processes serving it. */
  async players(key: string): Promise<number> {
    let n = 0;
    await Promise.all(
      this.children
        .filter((c) => c.streams.has(key))
        .map(async (c) => {
          const r = await this.request<{ value: { players: Record<string, number> } }>(
            c,
            (id) => ({ t: 'ask', id, key, q: 'info' }),
            2000,
          ).catch(() => undefined);
          n += r?.value.players.rts ?? 0;
        }),
    );
    return n;
  }

  private async statsOf(c: RtcChild): Promise<Record<string, unknown> | undefined> {
    const r = await this.request<{ value: Record<string, unknown> }>(c, (id) => ({ t: 'stats', id }), 2000);
    const whep = r.value.whep as
      | { sessions?: number; serverLatencyMs?: { buckets: [number, number][] } }
      | undefined;
    if (whep?.sessions !== undefined) c.sessions = whep.sessions;
    if (whep?.serverLatencyMs) c.exportLatency(whep.serverLatencyMs.buckets);
    return whep as Record<string, unknown> | undefined;
  }

  private async refreshCounts(): Promise<void> {
    await Promise.all(this.children.map((c) => this.statsOf(c).catch(() => undefined)));
  }

  /** WHEP totals merged over the processes (latency histograms: bucket counts added). */
  async stats(): Promise<Record<string, unknown> | undefined> {
    if (!this.started) return undefined;
    await this.started;
    const all = await Promise.all(this.children.map((c) => this.statsOf(c).catch(() => undefined)));
    const sum: Record<string, number> = {};
    const latency = new LatencyHistogram();
    const per: Record<string, unknown>[] = [];
    for (const [i, s] of all.entries()) {
      if (!s) continue;
      per.push({
        index: i,
        pid: this.children[i].proc?.pid,
        udpPort: this.basePort + i,
        sessions: s.sessions,
        packetsSent: s.packetsSent,
        ipcInFlightBytes: this.children[i].inFlight,
        ipcSkippedFrames: this.children[i].skippedFrames,
        ipcSkipEpisodes: this.children[i].skipEpisodes,
        restarts: this.children[i].restarts,
      });
      for (const [k, v] of Object.entries(s)) if (typeof v === 'number') sum[k] = (sum[k] ?? 0) + v;
      const l = s.serverLatencyMs as { max: number; buckets: [number, number][] } | undefined;
      if (l) latency.merge(l.buckets, l.max);
    }
    return {
      whep: {
        ...sum,
        ipcSkippedFrames: this.children.reduce((n, c) => n + c.skippedFrames, 0),
        serverLatencyMs: { ...latency.summary(), buckets: latency.buckets() },
        processes: per,
      },
    };
  }

  /** A WHEP offer for `stream`: to the process with the fewest sessions, which then serves the stream. */
  async offer(
    stream: LiveStream,
    req: HttpLikeRequest,
    body: Uint8Array | undefined,
    timeoutMs: number,
  ): Promise<{ res: HttpLikeResponse; body?: Uint8Array }> {
    await this.ensure();
    let best: RtcChild | undefined;
    for (const c of this.children) if (c.proc?.connected && (!best || c.sessions < best.sessions)) best = c;
    if (!best) throw new Error('no RTC process is running');
    best.sessions++; // before any await: concurrent offers spread over the processes
    const chosen = best;
    let r: { res: HttpLikeResponse; body?: Uint8Array };
    try {
      await chosen.ready;
      this.attach(chosen, stream);
      r = await this.request(
        chosen,
        (id) => ({ t: 'http', id, kind: 'whep', key: stream.key, req }),
        timeoutMs,
        body,
      );
    } catch (err) {
      chosen.sessions--;
      throw err;
    }
    const location = r.res.headers.Location ?? r.res.headers.location;
    if (r.res.status < 300 && location) {
      const id = location.split('/').pop();
      if (id) this.sessionChild.set(id, best.index);
    } else {
      best.sessions--;
    }
    return r;
  }

  /** PATCH/DELETE of a WHEP session (`.../session/{id}`): to its process, or asked of all. */
  async session(
    path: string,
    req: HttpLikeRequest,
    body: Uint8Array | undefined,
  ): Promise<{ res: HttpLikeResponse; body?: Uint8Array }> {
    const id = path.split('/').pop() ?? '';
    const known = this.sessionChild.get(id);
    const order = known !== undefined ? [this.children[known]] : this.children;
    let last: { res: HttpLikeResponse; body?: Uint8Array } = {
      res: { status: 404, headers: {}, body: 'no such WHEP session\n' },
    };
    for (const c of order) {
      if (!c.proc?.connected) continue;
      last = await this.request(
        c,
        (rid) => ({ t: 'http', id: rid, kind: 'whep', key: '', req }),
        15_000,
        body,
      );
      if (last.res.status !== 404) {
        if (req.method === 'DELETE') {
          this.sessionChild.delete(id);
          c.sessions = Math.max(0, c.sessions - 1);
        }
        break;
      }
    }
    return last;
  }

  /** Ends every session and stops the processes ('shutdown', then killed after `timeoutMs`). */
  async close(timeoutMs = 8000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.pollTimer);
    this.replies.rejectAll('node shutting down');
    await Promise.all(
      this.children.map(async (c) => {
        const proc = c.proc;
        for (const { tap, stream } of c.streams.values()) stream.removeTap(tap);
        c.streams.clear();
        if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
        c.send({ w: encodeWire<ToWorker>({ t: 'shutdown' }) });
        const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
