import { ActorStoppedError, TimeoutError } from '../../engine/errors.js';
import { type Logger, silentLogger } from '../../engine/logging/logger.js';

/**
 * Actors run the control plane: a transition function plus a mailbox. The runtime owns the
 * mailbox (a FIFO processed in order, never re-entrant); `stop` is a message queued behind the
 * pending ones; a throw stops the actor and is reported to its parent. Media never goes through
 * a mailbox (see engine/memory/packet-ring.ts).
 *
 * Messages are plain discriminated unions that msgpackr can encode, so that an ActorRef can be in
 * this thread, in another worker (worker-actor-ref.ts) or on another node: only the ref differs.
 */
export interface Envelope<M> {
  msg: M;
  /** Set by ask(): the reply goes to this promise (local) or this id (remote). */
  reply?: (value: unknown, error?: Error) => void;
}

export interface ActorContext<M> {
  readonly self: ActorRef<M>;
  readonly name: string;
  readonly logger: Logger;
  /** Stop this actor after the current message. */
  stop(): void;
}

export interface ActorLogic<S, M> {
  readonly initial: () => S;
  /** Returns the next state; the value of a reply is set with `reply(value)` given to the handler. */
  readonly receive: (
    state: S,
    msg: M,
    ctx: ActorContext<M>,
    reply: (value: unknown) => void,
  ) => S | Promise<S>;
  readonly onStop?: (state: S, ctx: ActorContext<M>) => void;
}

export interface ActorRef<M> {
  readonly name: string;
  readonly stopped: boolean;
  tell(msg: M): void;
  ask<R>(msg: M, timeoutMs?: number): Promise<R>;
  stop(): void;
}

export interface ActorSupervisor {
  childFailed(name: string, error: Error): void;
}

const DEFAULT_ASK_TIMEOUT_MS = 5000;
const STOP = Symbol('stop');

/** An actor in this thread. */
export class LocalActor<S, M> implements ActorRef<M> {
  private state: S;
  private readonly queue: (Envelope<M> | typeof STOP)[] = [];
  private running = false;
  private stopRequested = false;
  private stopNow = false;
  private _stopped = false;
  private readonly ctx: ActorContext<M>;
  private readonly stopWaiters: (() => void)[] = [];

  constructor(
    readonly name: string,
    private readonly logic: ActorLogic<S, M>,
    private readonly parent?: ActorSupervisor,
    logger: Logger = silentLogger,
  ) {
    this.state = logic.initial();
    this.ctx = {
      self: this,
      name,
      logger: logger.child(name),
      stop: () => {
        this.stopNow = true;
      },
    };
  }

  get stopped(): boolean {
    return this._stopped;
  }

  tell(msg: M): void {
    this.enqueue({ msg });
  }

  ask<R>(msg: M, timeoutMs = DEFAULT_ASK_TIMEOUT_MS): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new TimeoutError(`${this.name} did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.enqueue({
        msg,
        reply: (value, error) => {
          clearTimeout(timer);
          if (error) reject(error);
          else resolve(value as R);
        },
      });
    });
  }

  /** Queued behind pending messages. */
  stop(): void {
    if (this._stopped || this.stopRequested) return;
    this.queue.push(STOP);
    this.stopRequested = true;
    this.schedule();
  }

  /** Resolves once the actor has stopped. */
  whenStopped(): Promise<void> {
    if (this._stopped) return Promise.resolve();
    return new Promise((resolve) => this.stopWaiters.push(resolve));
  }

  private enqueue(env: Envelope<M>): void {
    if (this._stopped || this.stopRequested) {
      env.reply?.(undefined, new ActorStoppedError(`${this.name} is stopped`));
      return;
    }
    this.queue.push(env);
    this.schedule();
  }

  private schedule(): void {
    if (this.running) return;
    this.running = true;
    queueMicrotask(() => void this.drain());
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this._stopped) {
        const env = this.queue.shift()!;
        if (env === STOP) {
          this.finish();
          return;
        }
        let replied = false;
        const reply = (value: unknown) => {
          if (replied) return;
          replied = true;
          env.reply?.(value);
        };
        try {
          const next = this.logic.receive(this.state, env.msg, this.ctx, reply);
          this.state = next instanceof Promise ? await next : next;
          if (!replied) env.reply?.(undefined);
        } catch (err) {
          const error = err instanceof Error ? err : new Error(String(err));
          env.reply?.(undefined, error);
          this.ctx.logger.error('actor failed', { error: error.message });
          this.finish();
          this.parent?.childFailed(this.name, error);
          return;
        }
        if (this.stopNow) {
          this.finish();
          return;
        }
      }
    } finally {
      this.running = false;
      if (this.queue.length > 0 && !this._stopped) this.schedule();
    }
  }

  private finish(): void {
    if (this._stopped) return;
    this._stopped = true;
    for (const env of this.queue.splice(0))
      if (env !== STOP) env.reply?.(undefined, new ActorStoppedError(`${this.name} stopped`));
    try {
      this.logic.onStop?.(this.state, this.ctx);
    } catch (err) {
      this.ctx.logger.warn('onStop threw', { error: String(err) });
    }
    for (const w of this.stopWaiters.splice(0)) w();
  }
}

/** Spawns and tracks actors; reports failed children to a callback (the parent's choice: restart or close). */
export class ActorSystem implements ActorSupervisor {
  private readonly actors = new Map<string, LocalActor<unknown, unknown>>();
  constructor(
    private readonly logger: Logger = silentLogger,
    private readonly onFailure?: (name: string, error: Error) => void,
  ) {}

  spawn<S, M>(name: string, logic: ActorLogic<S, M>): LocalActor<S, M> {
    if (this.actors.has(name)) throw new Error(`actor ${name} exists`);
    const a = new LocalActor(name, logic, this, this.logger);
    this.actors.set(name, a as unknown as LocalActor<unknown, unknown>);
    void a.whenStopped().then(() => {
      if (this.actors.get(name) === (a as unknown)) this.actors.delete(name);
    });
    return a;
  }

  get<M>(name: string): ActorRef<M> | undefined {
    return this.actors.get(name) as ActorRef<M> | undefined;
  }

  get size(): number {
    return this.actors.size;
  }

  childFailed(name: string, error: Error): void {
    this.onFailure?.(name, error);
  }

  async stopAll(): Promise<void> {
    const all = [...this.actors.values()];
    for (const a of all) a.stop();
    await Promise.all(all.map((a) => a.whenStopped()));
  }
}
