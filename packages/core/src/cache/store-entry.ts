import type { AccessToken } from '../token/access-token.js';
import type { L1Entry } from './memory-cache.js';

/**
 * Where a token came from: fresh from L1 (`hit`), from L1 inside the refresh-ahead window
 * while one background refresh runs (`refresh`), acquired by this call (`miss`), shared with an
 * acquisition already in flight (`coalesced`), or read from the shared L2 (`l2`).
 *
 * @example
 * ```ts
 * span.setAttribute('agentid.cache.outcome', result.outcome);
 * ```
 */
export type CacheOutcome = 'hit' | 'refresh' | 'miss' | 'coalesced' | 'l2';

/**
 * What {@link TokenStore.get} resolves to. Frozen; cache hits return a pre-built instance.
 *
 * @example
 * ```ts
 * const { token, outcome } = await store.get(key, acquire);
 * ```
 */
export interface TokenResult {
  readonly token: AccessToken;
  readonly outcome: CacheOutcome;
}

/**
 * An L1 entry of the token store, with its results pre-built so that hits allocate nothing.
 * Internal to the cache folder.
 *
 * @example
 * ```ts
 * const entry: StoreEntry = makeEntry(token, usableUntil, refreshOn, ['agent:a']);
 * ```
 */
export interface StoreEntry extends L1Entry<AccessToken> {
  readonly hit: TokenResult;
  readonly refreshing: TokenResult;
  readonly coalesced: TokenResult;
  refreshBlockedUntil: number;
}

/**
 * What one fill (an acquisition or an L2 read) produced: the entry, and the starter's result.
 *
 * @example
 * ```ts
 * const { entry, result } = await fill(key, acquire, tags, 'miss');
 * ```
 */
export interface Filled {
  readonly entry: StoreEntry;
  readonly result: TokenResult;
}

/**
 * Why a fill runs: a cache miss, a background refresh (wants a fresher token than the cached
 * one), or a forced refresh (skips cache reads).
 *
 * @example
 * ```ts
 * const mode: FillMode = options.forceRefresh ? 'force' : 'miss';
 * ```
 */
export type FillMode = 'miss' | 'refresh' | 'force';

/**
 * Builds a {@link StoreEntry} and its three shared, frozen results (`hit`, `refresh`,
 * `coalesced`).
 *
 * @example
 * ```ts
 * l1.set(key, makeEntry(token, times.usableUntil, times.refreshOn, tags));
 * ```
 */
export function makeEntry(value: AccessToken, usableUntil: number, refreshOn: number, tags: readonly string[]): StoreEntry {
  return {
    value,
    usableUntil,
    refreshOn,
    tags: Object.isFrozen(tags) ? tags : Object.freeze([...tags]),
    hit: Object.freeze({ token: value, outcome: 'hit' as const }),
    refreshing: Object.freeze({ token: value, outcome: 'refresh' as const }),
    coalesced: Object.freeze({ token: value, outcome: 'coalesced' as const }),
    refreshBlockedUntil: 0,
  };
}

