/**
 * Parent side of the player processes: spawns P children (pinned with taskset when asked),
 * spreads N players over them, forwards the publisher's send times, and merges their results.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LatencyHistogram } from './histogram.js';
import type { FromPlayers, PlayerClient, PlayerProcessResult, ToPlayers } from './player-messages.js';

export interface PoolOptions {
  protocol: 'rtmp' | 'flv';
  url: string;
  players: number;
  processes: number;
  /** CPU list for taskset (e.g. "1"), or undefined to not pin. */
  cpus: string | undefined;
  sampleEvery: number;
  concurrency: number;
  connectTimeoutMs: number;
  /** Default 'light'. */
  client?: PlayerClient;
}

export interface PoolResult extends Omit<PlayerProcessResult, 'latency'> {
  latency: LatencyHistogram;
  processes: number;
}

interface Child {
  proc: ChildProcess;
  waiters: ((m: FromPlayers) => boolean)[];
  exited: Promise<void>;
}

/** How a child entry point is run: .ts files through tsx, built .js files directly. */
export function nodeArgsFor(script: URL): { script: string; execArgv: string[] } {
  const path = fileURLToPath(script);
  return { script: path, execArgv: path.endsWith('.ts') ? ['--import', 'tsx'] : [] };
}

/** The command and args to run `node ...args`, behind taskset when `cpus` is set. */
export function pinnedCommand(cpus: string | undefined, args: string[]): { cmd: string; args: string[] } {
  if (cpus === undefined) return { cmd: process.execPath, args };
  return { cmd: 'taskset', args: ['-c', cpus, process.execPath, ...args] };
}

export class PlayerPool {
  readonly #children: Child[] = [];
  readonly #opts: PoolOptions;
  #batchKeys: number[] = [];
  #batchTimes: number[] = [];
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(opts: PoolOptions) {
    this.#opts = opts;
  }

  /** Spawns the processes and connects every player; resolves with connected/failed counts. */
  async start(): Promise<{ connected: number; failed: number; errors: string[] }> {
    const o = this.#opts;
    const n = Math.max(1, Math.min(o.processes, o.players));
    const { script, execArgv } = nodeArgsFor(
      new URL(`./player-process${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
    );
    for (let i = 0; i < n; i++) {
      const { cmd, args } = pinnedCommand(o.cpus, [...execArgv, script]);
      const prof = process.env.RTS_BENCH_PLAYER_PROF;
      if (prof) args.splice(args.indexOf(script), 0, '--cpu-prof', '--cpu-prof-dir', prof);
      const proc = spawn(cmd, args, {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        serialization: 'json',
      });
      const child: Child = {
        proc,
        waiters: [],
        exited: new Promise((resolve) => {
          proc.once('exit', () => resolve());
          proc.once('error', () => resolve());
        }),
      };
      proc.on('message', (raw) => {
        const m = raw as FromPlayers;
        child.waiters = child.waiters.filter((w) => !w(m));
      });
      this.#children.push(child);
    }
    const per = this.#children.map((_, i) => Math.floor(o.players / n) + (i < o.players % n ? 1 : 0));
    const timeoutMs =
      o.connectTimeoutMs +
      Math.ceil(o.players / Math.max(1, o.concurrency * n)) * o.connectTimeoutMs +
      10_000;
    const ready = await Promise.all(
      this.#children.map((c, i) => {
        const p = this.#wait(c, 'ready', Math.min(timeoutMs, 180_000));
        this.#send(c, {
          t: 'start',
          protocol: o.protocol,
          url: o.url,
          count: per[i],
          concurrency: o.concurrency,
          sampleEvery: o.sampleEvery,
          connectTimeoutMs: o.connectTimeoutMs,
          client: o.client ?? 'light',
        });
        return p;
      }),
    );
    this.#flushTimer = setInterval(() => this.#flush(), 100);
    let connected = 0;
    let failed = 0;
    const errors: string[] = [];
    for (const r of ready) {
      if (r.t !== 'ready') continue;
      connected += r.connected;
      failed += r.failed;
      for (const e of r.errors) if (errors.length < 5 && !errors.includes(e)) errors.push(e);
    }
    return { connected, failed, errors };
  }

  /** The publisher wrote tag `key` at wall time `sentAt`. */
  sent(key: number, sentAt: number): void {
    this.#batchKeys.push(key);
    this.#batchTimes.push(sentAt);
  }

  #flush(): void {
    if (this.#batchKeys.length === 0) return;
    const msg: ToPlayers = { t: 'sent', keys: this.#batchKeys, times: this.#batchTimes };
    this.#batchKeys = [];
    this.#batchTimes = [];
    for (const c of this.#children) this.#send(c, msg);
  }

  measure(): void {
    this.#flush();
    for (const c of this.#children) this.#send(c, { t: 'measure' });
  }

  async collect(): Promise<PoolResult> {
    this.#flush();
    const results = await Promise.all(
      this.#children.map((c) => {
        const p = this.#wait(c, 'result', 30_000);
        this.#send(c, { t: 'collect' });
        return p;
      }),
    );
    const latency = new LatencyHistogram();
    const out: PoolResult = {
      players: 0,
      connected: 0,
      failed: 0,
      closedEarly: 0,
      playersWithGaps: 0,
      gaps: 0,
      maxGapMs: 0,
      notRealtime: 0,
      maxBehindMs: 0,
      tags: 0,
      bytes: 0,
      samples: 0,
      unmatched: 0,
      latency,
      cpuPercent: 0,
      loopDelayP99Ms: 0,
      errors: [],
      processes: this.#children.length,
    };
    for (const m of results) {
      if (m.t !== 'result') continue;
      const r = m.result;
      out.players += r.players;
      out.connected += r.connected;
      out.failed += r.failed;
      out.closedEarly += r.closedEarly;
      out.playersWithGaps += r.playersWithGaps;
      out.gaps += r.gaps;
      out.maxGapMs = Math.max(out.maxGapMs, r.maxGapMs);
      out.notRealtime += r.notRealtime;
      out.maxBehindMs = Math.max(out.maxBehindMs, r.maxBehindMs);
      out.tags += r.tags;
      out.bytes += r.bytes;
      out.samples += r.samples;
      out.unmatched += r.unmatched;
      out.cpuPercent += r.cpuPercent;
      out.loopDelayP99Ms = Math.max(out.loopDelayP99Ms, r.loopDelayP99Ms);
      latency.merge(r.latency);
      for (const e of r.errors) if (out.errors.length < 5 && !out.errors.includes(e)) out.errors.push(e);
    }
    return out;
  }

  /** Stops every child: a polite 'stop', then SIGKILL after `graceMs`. Idempotent. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.#flushTimer !== undefined) clearInterval(this.#flushTimer);
    this.#flushTimer = undefined;
    await Promise.all(
      this.#children.map(async (c) => {
        if (c.proc.exitCode !== null || c.proc.signalCode !== null) return;
        this.#send(c, { t: 'stop' });
        const timer = setTimeout(() => c.proc.kill('SIGKILL'), graceMs);
        await c.exited;
        clearTimeout(timer);
      }),
    );
    this.#children.length = 0;
  }

  /** Synchronous last resort (process exit): SIGKILL every child. */
  killNow(): void {
    for (const c of this.#children) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
  }

  #send(c: Child, msg: ToPlayers): void {
    if (c.proc.connected) c.proc.send(msg);
  }

  #wait<T extends FromPlayers['t']>(
    c: Child,
    type: T,
    timeoutMs: number,
  ): Promise<Extract<FromPlayers, { t: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        done();
        reject(new Error(`player process ${c.proc.pid} sent no '${type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      const onExit = (): void => {
        done();
        reject(new Error(`player process ${c.proc.pid} exited before '${type}'`));
      };
      const waiter = (m: FromPlayers): boolean => {
        if (m.t === 'fatal') {
          done();
          reject(new Error(`player process ${c.proc.pid}: ${m.error}`));
          return true;
        }
        if (m.t !== type) return false;
        done();
        resolve(m as Extract<FromPlayers, { t: T }>);
        return true;
      };
      const done = (): void => {
        clearTimeout(timer);
        c.proc.off('exit', onExit);
        c.waiters = c.waiters.filter((w) => w !== waiter);
      };
      c.proc.once('exit', onExit);
      c.waiters.push(waiter);
    });
  }
}
