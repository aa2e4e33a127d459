/**
 * A source of wall-clock time in epoch milliseconds. Injected everywhere time matters so tests
 * fake time without patching globals.
 *
 * @example
 * ```ts
 * let t = 0;
 * const clock: Clock = { now: () => t };
 * ```
 */
export interface Clock {
  /** The current time in epoch milliseconds. */
  now(): number;
}

/**
 * The real clock (`Date.now`).
 *
 * @example
 * ```ts
 * systemClock.now(); // 1763900000000
 * ```
 */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/**
 * A settable clock for tests and simulations.
 *
 * @example
 * ```ts
 * const clock = createManualClock(1_000);
 * clock.advance(500);
 * clock.now(); // 1500
 * ```
 */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`. */
  advance(ms: number): void;
  /** Sets the absolute time. */
  set(ms: number): void;
}

/**
 * Creates a {@link ManualClock} starting at `start` ms.
 *
 * @example
 * ```ts
 * const clock = createManualClock(Date.UTC(2026, 0, 1));
 * ```
 */
export function createManualClock(start = 0): ManualClock {
  let t = start;
  return {
    /** The current time in epoch milliseconds. */
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
    set(ms: number) {
      t = ms;
    },
  };
}
