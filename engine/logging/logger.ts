/** Namespaced logger; library code logs through this, never `console`. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A child whose lines are prefixed with `ns` (e.g. `rtmp:conn[1.2.3.4:5678]`). */
  child(ns: string): Logger;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogSink = (level: LogLevel, ns: string, msg: string, fields?: Record<string, unknown>) => void;

export function createLogger(sink: LogSink, level: LogLevel = 'info', ns = 'rts'): Logger {
  const min = LEVELS[level];
  const at =
    (l: LogLevel) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      if (LEVELS[l] >= min) sink(l, ns, msg, fields);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (child: string) => createLogger(sink, level, `${ns}:${child}`),
  };
}

/** A logger that drops everything (tests, embedders that bring none). */
export const silentLogger: Logger = createLogger(() => {}, 'error');

/** Writes JSON lines to stderr; used by the CLI. */
export function stderrSink(level: LogLevel, ns: string, msg: string, fields?: Record<string, unknown>): void {
  const line = { t: new Date().toISOString(), level, ns, msg, ...fields };
  process.stderr.write(`${JSON.stringify(line)}\n`);
}
