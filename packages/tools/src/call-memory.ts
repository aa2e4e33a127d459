import type { GetTokenOptions } from '@agentid/core';
import { createMemo } from '@agentid/core/broker';

/** A tool whose token it refused gets a fresh one on its next call, at most once per this interval. */
export const REFUSED_REFRESH_INTERVAL_MS = 60_000;
/** After a claims challenge the retry did not satisfy, that tool's challenges fail at once for this long. */
export const CHALLENGE_COOLDOWN_MS = 60_000;

interface State {
  /** The next plain token of this tool and user skips the cache. */
  refreshNext: boolean;
  refreshedAt: number;
  /** When a claims re-acquisition last failed to satisfy the tool (its retry was challenged again). */
  challengeFailedAt: number;
}

/**
 * What the `401` answers of a tool API taught, per tool and user (`key`): a tool API decides what
 * it answers, so nothing it says reaches beyond its own token, and nothing it says costs more than
 * a bounded number of token requests. Empty (and free on the hot path) until some tool answers 401.
 * @internal
 */
export interface CallMemory {
  /** Options of the next plain token of `key`: `forceRefresh` once after a refused token. */
  tokenOptions(key: () => string, signal: AbortSignal | undefined): GetTokenOptions;
  /** The tool refused its token (a `401` without a claims challenge): the next call gets a fresh one, at most once per interval. */
  refused(key: string): void;
  /** Whether a claims challenge of `key` may get a re-acquisition and a retry now. */
  mayRetryChallenge(key: string): boolean;
  /** The retry with the challenge's claims was challenged again: no more re-acquisitions for a while. */
  challengeFailed(key: string): void;
}

const NONE: GetTokenOptions = Object.freeze({});

/** @internal */
export function createCallMemory(now: () => number, maxEntries = 10_000): CallMemory {
  const states = createMemo<string, State>({ maxEntries });
  const stateOf = (key: string): State => {
    let s = states.get(key);
    if (s === undefined)
      states.set(key, (s = { refreshNext: false, refreshedAt: -Infinity, challengeFailedAt: -Infinity }));
    return s;
  };
  return {
    tokenOptions(key, signal) {
      const s = states.size === 0 ? undefined : states.get(key());
      if (s?.refreshNext) {
        s.refreshNext = false;
        s.refreshedAt = now();
        return signal ? { forceRefresh: true, signal } : { forceRefresh: true };
      }
      return signal ? { signal } : NONE;
    },
    refused(key) {
      const s = stateOf(key);
      if (now() - s.refreshedAt >= REFUSED_REFRESH_INTERVAL_MS) s.refreshNext = true;
    },
    mayRetryChallenge(key) {
      const s = states.size === 0 ? undefined : states.get(key);
      return s === undefined || now() - s.challengeFailedAt >= CHALLENGE_COOLDOWN_MS;
    },
    challengeFailed(key) {
      stateOf(key).challengeFailedAt = now();
    },
  };
}
