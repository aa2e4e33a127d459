import type { Clock } from '@agentid/core';

/** The state of a {@link CircuitBreaker}. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * Options of {@link createCircuitBreaker}.
 *
 * @example
 * ```ts
 * const options: CircuitBreakerOptions = { failureThreshold: 5, cooldownMs: 5_000 };
 * ```
 */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. Default 5. */
  failureThreshold?: number;
  /** How long it stays open before one trial call is let through. Default 5 000. */
  cooldownMs?: number;
}

// Why not cockatiel or opossum: both time the open state with the real clock (opossum arms a
// `setTimeout` for its reset; cockatiel's `halfOpenAfter` reads `Date.now()`), and neither takes a
// clock, so the L2's cooldown could only be tested with fake timers (the project injects time).
// Both also own the call (`fire(fn)` / `execute(fn)`: a wrapper promise and, for opossum, its own
// timeout per call), while the L2 needs only the state machine around its own timed-out Redis
// commands. What remains is the state machine below, 40 lines, tested with a manual clock.

/**
 * A consecutive-failure circuit breaker: `closed` lets calls through; `failureThreshold` failures
 * in a row open it; after `cooldownMs` one trial call is let through (`half-open`), and its
 * outcome closes or re-opens it.
 *
 * @example
 * ```ts
 * if (!breaker.allow()) return undefined; // bypass
 * try { const r = await call(); breaker.success(); return r; } catch (e) { breaker.failure(); throw e; }
 * ```
 */
export interface CircuitBreaker {
  readonly state: BreakerState;
  /** Whether a call may go through now (in half-open, only the one trial call). */
  allow(): boolean;
  /** Reports a successful call (closes the breaker, resets the count). */
  success(): void;
  /** Reports a failed call (counts toward opening; re-opens a half-open breaker). */
  failure(): void;
}

/**
 * Creates a {@link CircuitBreaker}; `onChange` hears every state change.
 *
 * @example
 * ```ts
 * const breaker = createCircuitBreaker({ failureThreshold: 5, cooldownMs: 5_000 }, { now: () => Date.now() }, (s) => log(s));
 * ```
 */
export function createCircuitBreaker(
  options: CircuitBreakerOptions,
  clock: Clock,
  onChange: (state: BreakerState, previous: BreakerState) => void,
): CircuitBreaker {
  const threshold = options.failureThreshold ?? 5;
  const cooldownMs = options.cooldownMs ?? 5_000;
  let state: BreakerState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let trialInFlight = false;
  const move = (next: BreakerState) => {
    if (next === state) return;
    const previous = state;
    state = next;
    onChange(next, previous);
  };
  return {
    get state() {
      return state;
    },
    allow() {
      if (state === 'closed') return true;
      if (state === 'open') {
        if (clock.now() - openedAt < cooldownMs) return false;
        move('half-open');
      }
      if (trialInFlight) return false;
      trialInFlight = true;
      return true;
    },
    success() {
      failures = 0;
      trialInFlight = false;
      move('closed');
    },
    failure() {
      trialInFlight = false;
      failures += 1;
      if (state === 'half-open' || failures >= threshold) {
        openedAt = clock.now();
        move('open');
      }
    },
  };
}
