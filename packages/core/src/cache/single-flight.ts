/**
 * The outcome of {@link SingleFlight.run}: the shared promise, and whether this caller joined
 * work somebody else started.
 *
 * @example
 * ```ts
 * const { promise, shared } = flights.run(key, load);
 * ```
 */
export interface Flight<V> {
  readonly promise: Promise<V>;
  readonly shared: boolean;
}

/**
 * Coalesces concurrent calls per key: while a call for a key is in flight, later calls for the
 * same key get the same promise instead of starting another.
 *
 * @example
 * ```ts
 * const flights = createSingleFlight<string, Token>();
 * const [a, b] = [flights.run('k', fetchToken), flights.run('k', fetchToken)]; // one fetchToken call
 * ```
 */
export interface SingleFlight<K, V> {
  /** Runs `fn` for `key`, or joins the call already in flight. */
  run(key: K, fn: () => Promise<V> | V): Flight<V>;
  /** Whether a call for `key` is in flight. */
  has(key: K): boolean;
  readonly size: number;
}

/**
 * Creates a {@link SingleFlight}. `fn` runs at most once per key at a time; the key is free
 * again as soon as its promise settles (success or failure: failures are not cached).
 *
 * @example
 * ```ts
 * const flights = createSingleFlight<string, number>();
 * const { promise, shared } = flights.run('answer', async () => 42);
 * ```
 */
export function createSingleFlight<K, V>(): SingleFlight<K, V> {
  const inFlight = new Map<K, Promise<V>>();
  return {
    run(key, fn) {
      const current = inFlight.get(key);
      if (current !== undefined) return { promise: current, shared: true };
      // Async wrapper: a synchronous throw in fn becomes a rejection like any other.
      const promise = (async () => fn())();
      inFlight.set(key, promise);
      const clear = (): void => {
        if (inFlight.get(key) === promise) inFlight.delete(key);
      };
      // then(clear, clear), not finally(): finally would re-reject and go unhandled.
      promise.then(clear, clear);
      return { promise, shared: false };
    },
    has: (key) => inFlight.has(key),
    get size() {
      return inFlight.size;
    },
  };
}
