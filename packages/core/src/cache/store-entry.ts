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
 * An L1 entry of the token store. What it hands out (its results, and its token as a resolved
 * promise) is made at first use and shared after, so that hits allocate nothing and entries that
 * are never hit carry none of it. Internal to the cache folder.
 *
 * @example
 * ```ts
 * const entry: StoreEntry = makeEntry(token, usableUntil, refreshOn, ['agent:a']);
 * ```
 */
export interface StoreEntry extends L1Entry<AccessToken> {
  refreshBlockedUntil: number;
  /** `min(refreshOn, usableUntil)`: a hit before it is fresh. */
  readonly freshUntil: number;
  /** {@link ENTRY_NEW}, then {@link ENTRY_CACHED} once L1 took it, {@link ENTRY_GONE} once it left L1. */
  state: EntryState;
  /** The {@link CacheSlot} bound with this entry, if any (at most one). */
  slot: CacheSlot | undefined;
  /** See {@link resolvedOf} and {@link resultOf}. */
  resolved: Promise<AccessToken> | undefined;
  hitResult: TokenResult | undefined;
  refreshResult: TokenResult | undefined;
  coalescedResult: TokenResult | undefined;
}

/**
 * The entry's token as a resolved promise, one per entry.
 *
 * @example
 * ```ts
 * return resolvedOf(entry);
 * ```
 */
export function resolvedOf(entry: StoreEntry): Promise<AccessToken> {
  return (entry.resolved ??= Promise.resolve(entry.value));
}

/**
 * The entry's frozen result for a cache outcome of L1 (`hit`, `refresh`, `coalesced`), one per entry and outcome.
 *
 * @example
 * ```ts
 * return Promise.resolve(resultOf(entry, 'hit'));
 * ```
 */
export function resultOf(entry: StoreEntry, outcome: 'hit' | 'refresh' | 'coalesced'): TokenResult {
  if (outcome === 'hit') return (entry.hitResult ??= Object.freeze({ token: entry.value, outcome }));
  if (outcome === 'refresh') return (entry.refreshResult ??= Object.freeze({ token: entry.value, outcome }));
  return (entry.coalescedResult ??= Object.freeze({ token: entry.value, outcome }));
}

/** Where a {@link StoreEntry} is: not (yet) in L1, in L1, or gone from it (replaced, evicted, deleted). */
export type EntryState = 0 | 1 | 2;
export const ENTRY_NEW = 0;
export const ENTRY_CACHED = 1;
export const ENTRY_GONE = 2;

/**
 * A remembered L1 lookup for one key, for `store.get(slot, ...)` and `store.getFresh(slot)`.
 * The store binds a slot with the entry it found or filled for the key, and unbinds it the moment
 * that entry leaves L1 (replaced, refreshed, evicted, invalidated) or another slot takes it
 * over; a fresh hit through a bound slot then reads only the slot: no L1 search, and the entry
 * is not touched (the slot is marked used instead, and L1 spares the entry once when it comes up
 * for eviction: CLOCK's second chance). Keep one per repeating request (`PreparedRequest` is one).
 *
 * @example
 * ```ts
 * const slot = new CacheSlot(key);
 * const hit = store.getFresh(slot) ?? store.get(slot, acquire).then((r) => r.token);
 * ```
 */
export class CacheSlot {
  // Only the store writes these; the hit path reads the first ones (keep them together).
  /** @internal The store that bound the slot. */
  store: object | undefined = undefined;
  /** @internal The store's invalidation count when the slot was bound. */
  epoch = -1;
  /** @internal Whole seconds from the store's base before which the entry is surely fresh (a small integer). */
  freshSec = 0;
  /** @internal Hit since the entry was last spared or bound. */
  used = false;
  /** @internal The entry's resolved token. */
  resolved: Promise<AccessToken> | undefined = undefined;
  /** @internal The entry the slot is bound with (`undefined`: unbound). */
  entry: StoreEntry | undefined = undefined;
  /** The cache key. */
  readonly key: string;

  constructor(key: string) {
    this.key = key;
  }
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
 * Builds a {@link StoreEntry}.
 *
 * @example
 * ```ts
 * l1.set(key, makeEntry(token, times.usableUntil, times.refreshOn, tags));
 * ```
 */
export function makeEntry(
  value: AccessToken,
  usableUntil: number,
  refreshOn: number,
  tags: readonly string[],
): StoreEntry {
  return {
    value,
    usableUntil,
    refreshOn,
    tags: Object.isFrozen(tags) ? tags : Object.freeze([...tags]),
    refreshBlockedUntil: 0,
    freshUntil: Math.min(refreshOn, usableUntil),
    state: ENTRY_NEW,
    slot: undefined,
    resolved: undefined,
    hitResult: undefined,
    refreshResult: undefined,
    coalescedResult: undefined,
  };
}
