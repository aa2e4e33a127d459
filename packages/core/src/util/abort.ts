import { setTimeout as sleepFor } from 'node:timers/promises';
import { AbortError } from '../errors/agent-id-error.js';

/**
 * Waits `ms` milliseconds; rejects with {@link AbortError} if `signal` fires first. The shape
 * every injectable `sleep` option in this package uses.
 *
 * @example
 * ```ts
 * const sleep: Sleep = (ms) => { clock.advance(ms); return Promise.resolve(); };
 * ```
 */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * The {@link AbortError} for an aborted signal, with the signal's reason as `cause`.
 *
 * @example
 * ```ts
 * if (signal.aborted) throw abortErrorFrom(signal);
 * ```
 */
export function abortErrorFrom(signal: AbortSignal, what = 'The operation'): AbortError {
  return new AbortError(`${what} was aborted by the caller`, { cause: signal.reason });
}

/**
 * The real {@link Sleep}: `node:timers/promises` `setTimeout`, cleared on abort. The timer keeps
 * the process alive on purpose: a retry backoff is awaited, and a one-shot script (a cron job,
 * `agentid token`) whose only pending work is that wait would otherwise exit silently (code 13)
 * in the middle of a retry instead of getting its token or its typed error.
 *
 * @example
 * ```ts
 * await realSleep(200, signal);
 * ```
 */
export const realSleep: Sleep = async (ms, signal) => {
  if (signal?.aborted) throw abortErrorFrom(signal);
  try {
    await sleepFor(Math.max(0, ms), undefined, signal ? { signal } : undefined);
  } catch (error) {
    if (signal?.aborted) throw abortErrorFrom(signal);
    throw error;
  }
};

/**
 * Settles like `promise`, or rejects with {@link AbortError} as soon as `signal` fires. The
 * underlying work is not cancelled: this is how one caller stops waiting for work it shares
 * with others.
 *
 * @example
 * ```ts
 * const token = await raceAbort(sharedAcquisition, req.signal);
 * ```
 */
export function raceAbort<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  what?: string,
): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    // The shared promise may still reject later; someone else handles it, but make sure an
    // orphaned rejection never becomes an unhandled one.
    promise.catch(() => {});
    return Promise.reject(abortErrorFrom(signal, what));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortErrorFrom(signal, what));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
