/**
 * K headless WHEP viewers in child processes (whep-load-client.ts, node-datachannel), driven over
 * stdin/stdout for one measurement window: connect all, `mark` the window start, `stop`, summaries.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { nodeArgsFor, pinnedCommand } from '../load/player-pool.js';

/** The summary line of one client process (see whep-load-client.ts). */
export interface ClientSummary {
  viewers: number;
  connected: number;
  playing: number;
  failures: string[];
  videoPackets: number;
  audioPackets: number;
  videoLostAtEnd: number;
  duplicates: number;
  nacksSent: number;
  connectRetries: number;
  ttffAllMs?: number[];
  window?: { ms: number; packets: number; realtime: number; maxStallMs: number };
}

export interface ViewerPoolOptions {
  url: string;
  viewers: number;
  processes: number;
  /** New viewers per second over all processes. */
  rampPerSec: number;
  /** Upper bound of the hold after connecting (the window normally ends earlier with stop()). */
  maxHoldSeconds: number;
  /** taskset CPU list for the clients, or undefined. */
  cpus?: string;
}

interface Client {
  proc: ChildProcess;
  events: Record<string, unknown>[];
  summary: ClientSummary | undefined;
  exited: Promise<void>;
  waiters: (() => void)[];
}

export class WhepViewerPool {
  readonly #clients: Client[] = [];

  constructor(o: ViewerPoolOptions) {
    const procs = Math.max(1, Math.min(o.viewers, o.processes));
    const { script, execArgv } = nodeArgsFor(
      new URL(`./whep-load-client${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
    );
    for (let i = 0; i < procs; i++) {
      const n = Math.floor(o.viewers / procs) + (i < o.viewers % procs ? 1 : 0);
      const arg = JSON.stringify({
        url: o.url,
        viewers: n,
        seconds: o.maxHoldSeconds,
        rampPerSec: o.rampPerSec / procs,
        name: `p${i}`,
        control: true,
      });
      const { cmd, args } = pinnedCommand(o.cpus, [...execArgv, script, arg]);
      const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
      const client: Client = {
        proc,
        events: [],
        summary: undefined,
        waiters: [],
        exited: new Promise((resolve) => {
          proc.once('exit', () => resolve());
          proc.once('error', () => resolve());
        }),
      };
      let buffered = '';
      proc.stdout?.setEncoding('utf8').on('data', (s: string) => {
        buffered += s;
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (!line.startsWith('{')) continue;
          const msg = JSON.parse(line) as Record<string, unknown>;
          if (typeof msg.t === 'string') client.events.push(msg);
          else client.summary = msg as unknown as ClientSummary;
          for (const w of client.waiters.splice(0)) w();
        }
      });
      void client.exited.then(() => {
        for (const w of client.waiters.splice(0)) w();
      });
      this.#clients.push(client);
    }
  }

  get pids(): number[] {
    return this.#clients.map((c) => c.proc.pid ?? 0).filter((p) => p > 0);
  }

  /** Waits until every client printed event `t` (or exited); false on timeout. */
  async #all(t: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (const c of this.#clients) {
      while (!c.events.some((e) => e.t === t) && c.proc.exitCode === null && c.proc.signalCode === null) {
        const left = deadline - Date.now();
        if (left <= 0) return false;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 1000));
          c.waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    }
    return true;
  }

  /** Resolves when every viewer connected or gave up. */
  async connected(timeoutMs: number): Promise<{ connected: number; playing: number }> {
    if (!(await this.#all('connected', timeoutMs)))
      throw new Error(`viewers not connected after ${timeoutMs} ms`);
    let connected = 0;
    let playing = 0;
    for (const c of this.#clients) {
      const e = c.events.find((x) => x.t === 'connected');
      connected += Number(e?.connected ?? 0);
      playing += Number(e?.playing ?? 0);
    }
    return { connected, playing };
  }

  /** Starts the measurement window in every client. */
  async mark(): Promise<void> {
    for (const c of this.#clients) c.proc.stdin?.write('mark\n');
    await this.#all('mark', 5000);
  }

  /** Ends the window; resolves with every client's summary once they exited (bounded). */
  async stop(timeoutMs = 30_000): Promise<ClientSummary[]> {
    for (const c of this.#clients) c.proc.stdin?.end('stop\n');
    const timer = setTimeout(() => this.kill(), timeoutMs);
    await Promise.all(this.#clients.map((c) => c.exited));
    clearTimeout(timer);
    return this.#clients.map((c) => c.summary).filter((s): s is ClientSummary => s !== undefined);
  }

  kill(): void {
    for (const c of this.#clients) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
  }
}
