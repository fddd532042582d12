import { EventEmitter } from 'node:events';

/**
 * An EventEmitter with a declared event map whose listener errors are contained: a throwing
 * listener is reported as `listenererror` and never thrown into the packet path.
 */
export class TypedEmitter<Events extends { [K in keyof Events]: unknown[] }> {
  private readonly ee = new EventEmitter();
  constructor() {
    this.ee.setMaxListeners(100);
  }

  on<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    this.ee.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    this.ee.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    this.ee.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Emits; a listener that throws is reported as `listenererror` (event name, error). */
  safeEmit<K extends keyof Events & string>(event: K, ...args: Events[K]): void {
    for (const l of this.ee.listeners(event)) {
      try {
        (l as (...a: unknown[]) => void)(...args);
      } catch (err) {
        if (event !== 'listenererror') this.ee.emit('listenererror', event, err);
      }
    }
  }
}
