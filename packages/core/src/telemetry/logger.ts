import { redact } from '../util/redact.js';

/**
 * Structured fields of a log line. String values are redacted like messages.
 *
 * @example
 * ```ts
 * logger.info('token acquired', { agentId, outcome: 'miss' });
 * ```
 */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * The logger this package writes to: console and winston have this shape; a pino logger is
 * recognised and given its fields first (see `createRedactingLogger`).
 *
 * @example
 * ```ts
 * const logger: Logger = { debug() {}, info: console.info, warn: console.warn, error: console.error };
 * ```
 */
export interface Logger {
  /** Debug details. */
  debug(message: string, fields?: LogFields): void;
  /** Normal events. */
  info(message: string, fields?: LogFields): void;
  /** Recoverable problems. */
  warn(message: string, fields?: LogFields): void;
  /** Failures. */
  error(message: string, fields?: LogFields): void;
}

const noop = (): void => {};

/**
 * A logger that discards everything: the default.
 *
 * @example
 * ```ts
 * createTelemetry({ logger: noopLogger });
 * ```
 */
export const noopLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

function redactFields(fields: LogFields | undefined): LogFields | undefined {
  if (fields === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (typeof value === 'string') out[key] = redact(value);
    else if (value instanceof Error) {
      // Errors are reduced to what is safe: foreign ones (fetch, MSAL) may quote request bodies.
      const code = (value as { code?: unknown }).code;
      out[key] =
        typeof code === 'string'
          ? { name: value.name, code, message: redact(value.message) }
          : { name: value.name, message: redact(value.message) };
    } else out[key] = value;
  }
  return out;
}

/**
 * Whether `logger` is a pino logger (or child): pino's own marks, `levels.values` and
 * `bindings()`, which neither console nor winston has.
 */
function isPino(logger: object): boolean {
  const l = logger as { levels?: { values?: unknown }; bindings?: unknown; child?: unknown };
  return (
    typeof l.bindings === 'function' &&
    typeof l.child === 'function' &&
    typeof l.levels?.values === 'object' &&
    l.levels.values !== null
  );
}

/**
 * Wraps a logger so that every message and string field goes through `redact` (and errors
 * are reduced to name, code and redacted message), and a throwing logger never breaks a call.
 * Console and winston take `(message, fields)` as this package calls them; a pino logger is
 * recognised and called as pino expects, `(fields, message)`, so its JSON lines keep the fields.
 *
 * @example
 * ```ts
 * const logger = createRedactingLogger(console);
 * logger.warn('refresh failed', { error }); // no token in the output
 * ```
 */
export function createRedactingLogger(logger: Partial<Logger> | undefined): Logger {
  if (logger === undefined || logger === noopLogger) return noopLogger;
  // pino takes the fields first (`info(obj, msg)`): given them second it would treat them as
  // printf arguments of the message and drop them.
  const fieldsFirst = isPino(logger);
  const wrap =
    (level: keyof Logger) =>
    (message: string, fields?: LogFields): void => {
      const fn = logger[level] as ((...args: unknown[]) => void) | undefined;
      if (typeof fn !== 'function') return;
      try {
        const safe = redactFields(fields);
        if (safe === undefined) fn.call(logger, redact(message));
        else if (fieldsFirst) fn.call(logger, safe, redact(message));
        else fn.call(logger, redact(message), safe);
      } catch {
        // Logging is best-effort.
      }
    };
  return Object.freeze({
    debug: wrap('debug'),
    info: wrap('info'),
    warn: wrap('warn'),
    error: wrap('error'),
  });
}
