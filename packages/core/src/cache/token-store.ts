import { setMaxListeners } from 'node:events';
import { ConfigurationError, MalformedResponseError } from '../errors/agent-id-error.js';
import {
  createLifetimePolicy,
  type LifetimePolicy,
  type LifetimePolicyOptions,
} from '../policy/lifetime-policy.js';
import { type AccessToken, type AccessTokenMeta, createAccessToken } from '../token/access-token.js';
import { abortErrorFrom, raceAbort, realSleep, type Sleep } from '../util/abort.js';
import { type Clock, systemClock } from '../util/clock.js';
import { assertFunction, assertNumber, withOptionPath } from '../util/validate.js';
import type { L2Cache } from './l2.js';
import { createL2Coordinator } from './l2-coordinator.js';
import { createMemoryCache, type MemoryCache, type MemoryCacheOptions } from './memory-cache.js';
import { createSingleFlight } from './single-flight.js';
import {
  type CacheSlot,
  ENTRY_CACHED,
  ENTRY_GONE,
  ENTRY_NEW,
  type Filled,
  type FillMode,
  makeEntry,
  resolvedOf,
  resultOf,
  type StoreEntry,
  type TokenResult,
} from './store-entry.js';

// Re-exported: they are part of this module's public surface (TSDoc in store-entry.ts).
export type { CacheOutcome, TokenResult } from './store-entry.js';
export { CacheSlot } from './store-entry.js';

/**
 * What an `acquire` callback returns: the raw token response, in the token endpoint's units.
 *
 * @example
 * ```ts
 * const acquire: Acquire = async () => ({ token: r.accessToken, expiresInSec: 3599, meta: { scopes } });
 * ```
 */
export interface TokenAcquisition {
  token: string;
  /** `expires_in`. */
  expiresInSec: number;
  /** `refresh_in`, when the server sent one. */
  refreshInSec?: number;
  /** `ext_expires_in`. Kept for the caller; never used to serve a token past its expiry. */
  extExpiresInSec?: number;
  meta: AccessTokenMeta;
}

/**
 * Gets a token from the network. The signal is the store's (aborted only when the store's own
 * `signal` fires), never a caller's: the acquisition is shared.
 *
 * @example
 * ```ts
 * const acquire: Acquire = (signal) => network.run({ signal }, () => msal.acquireTokenByClientCredential(req)).then(toAcquisition);
 * ```
 */
export type Acquire = (signal: AbortSignal) => Promise<TokenAcquisition>;

/**
 * Per-call options of {@link TokenStore.get}.
 *
 * @example
 * ```ts
 * await store.get(key, acquire, { signal: req.signal, tags: [cacheTags.agent(agentId)] });
 * ```
 */
export interface TokenStoreGetOptions {
  /** Skip the cache read (still coalesces with an acquisition in flight). */
  forceRefresh?: boolean;
  /** Stops this caller waiting (AbortError); the shared acquisition goes on for the others. */
  signal?: AbortSignal;
  /** Tags stored with a new entry, for {@link TokenStore.invalidate}. */
  tags?: readonly string[];
}

/**
 * Things worth logging or counting. `key`s are cache keys (hashes and ids, never tokens).
 *
 * @example
 * ```ts
 * onEvent: (e) => { if (e.type === 'l2-error') logger.warn('L2 failed', { op: e.operation }); }
 * ```
 */
export type TokenStoreEvent =
  | { type: 'acquired'; key: string; mode: 'miss' | 'refresh' | 'force'; durationMs: number }
  | { type: 'acquire-error'; key: string; mode: 'miss' | 'refresh' | 'force'; error: unknown }
  | { type: 'refresh-start'; key: string }
  | { type: 'refresh-error'; key: string; error: unknown }
  | { type: 'l2-hit'; key: string }
  | {
      type: 'l2-error';
      key: string;
      operation: 'get' | 'set' | 'delete' | 'lock' | 'release' | 'renew' | 'invalidate';
      error: unknown;
    }
  | { type: 'lock-wait'; key: string }
  /** A waiter took the lock after the holder's lease passed (`locked`), or gave up on a lock held longer than any holder may hold it and acquired without it. */
  | { type: 'lock-takeover'; key: string; locked: boolean }
  /** The holder's lease lapsed before it could renew it (e.g. a blocked event loop); its write is fenced. */
  | { type: 'lock-lost'; key: string };

/**
 * Counters since creation, plus the current L1 size.
 *
 * @example
 * ```ts
 * const { hits, misses } = store.stats();
 * ```
 */
export interface TokenStoreStats {
  /** Served from L1 (including from inside the refresh-ahead window). */
  hits: number;
  /** Calls that started an acquisition (or L2 read). */
  misses: number;
  /** Calls that joined an acquisition in flight. */
  coalesced: number;
  /** Background refreshes started. */
  refreshes: number;
  l2Hits: number;
  inFlight: number;
  size: number;
  bytes: number;
}

/**
 * Options of {@link createTokenStore}.
 *
 * @example
 * ```ts
 * const options: TokenStoreOptions = { l1: { maxEntries: 10_000, maxBytes: 64e6 }, policy: {}, clock };
 * ```
 */
export interface TokenStoreOptions {
  /** A dedicated {@link MemoryCache} (or its options). */
  l1: MemoryCache | MemoryCacheOptions;
  l2?: L2Cache;
  /** A {@link LifetimePolicy} or its options. Default: the default policy. */
  policy?: LifetimePolicy | LifetimePolicyOptions;
  /** How option errors name `l1` and `policy` (the blueprint's `cache.l1.` and `policy.`). Default `l1.`, `policy.`. */
  optionPaths?: { readonly l1: string; readonly policy: string };
  clock?: Clock;
  /** Hears acquisitions, refreshes, L2 hits and errors, lock waits. */
  onEvent?: (event: TokenStoreEvent) => void;
  /** Used to wait between L2 polls. Default: a real timer. */
  sleep?: Sleep;
  /** Aborts acquisitions (and lock waits) in flight, e.g. at shutdown. */
  signal?: AbortSignal;
  /** L2 lock lease, renewed every third of it while the holder acquires (for at most 20 leases). Default 15 000. */
  lockLeaseMs?: number;
  /** First and longest wait between L2 polls while a peer holds the lock. Default 25 / 1 000. */
  lockPollMinMs?: number;
  lockPollMaxMs?: number;
  /** A slower L2 call counts as failed. Default 2 000 (real time). */
  l2TimeoutMs?: number;
  /** After a failed background refresh, wait this long before trying again. Default 5 000. */
  refreshRetryMs?: number;
}

/**
 * A two-level token cache with single-flight, refresh-ahead and the lifetime policy.
 *
 * @example
 * ```ts
 * const { token, outcome } = await store.get(key, acquire, { tags: [cacheTags.agent(id)] });
 * await store.invalidate({ tag: cacheTags.agent(id) });
 * ```
 */
export interface TokenStore {
  /**
   * A usable token for the key from L1, L2 or `acquire` (single-flight, refresh-ahead). Given a
   * {@link CacheSlot}, the store binds it with the entry found or filled, for `getFresh(slot)`.
   */
  get(target: string | CacheSlot, acquire: Acquire, options?: TokenStoreGetOptions): Promise<TokenResult>;
  /**
   * The synchronous half of `get` for hot paths: if L1 holds a fresh token for the key (usable
   * and before its refresh-ahead window, both checked now; outcome `hit`), that token as a
   * resolved promise (one per entry, shared by its hits), else `undefined` (then call `get`,
   * which handles the refresh window, misses and L2). Counted as a hit when found. Through an
   * bound {@link CacheSlot}, a hit reads only the slot (with a MemoryCache given in the options,
   * slots are never bound: every hit searches it).
   */
  getFresh(target: string | CacheSlot): Promise<AccessToken> | undefined;
  /**
   * Drops `'all'`, a `{ tag }` (also in L2) or a `{ key }`. A `{ tag }` the L2 could not be told
   * of rejects with `L2UnavailableError` (L1 is dropped all the same); until a retry reaches the
   * L2 (at the next L2 reads), this store refuses every L2 entry carrying that tag.
   */
  invalidate(target: { tag: string } | { key: string } | 'all'): Promise<void>;
  /** Counters and the current L1 size. */
  stats(): TokenStoreStats;
  /** L1's bounds. Memos that follow the cache (cache keys, per-assertion facts) are sized by them. */
  readonly maxEntries: number;
  readonly maxBytes: number;
}

const NO_TAGS: readonly string[] = Object.freeze([]);
const unbind = (slot: CacheSlot): void => {
  const entry = slot.entry;
  if (entry === undefined) return;
  if (entry.slot === slot) entry.slot = undefined;
  slot.entry = undefined;
  slot.resolved = undefined;
};
// An entry leaving L1 (our own L1 reports every way out) unbinds its slot at once.
const leave = (entry: StoreEntry): void => {
  entry.state = ENTRY_GONE;
  if (entry.slot !== undefined) unbind(entry.slot);
};
// CLOCK's second chance for entries hit through a slot (those hits do not move them in the LRU).
const secondChance = (entry: StoreEntry): boolean => {
  const slot = entry.slot;
  if (slot === undefined || !slot.used) return false;
  slot.used = false;
  return true;
};

/**
 * Creates a {@link TokenStore}. Behaviour of `get(key, acquire, options)`:
 * - L1 fresh (before `refreshOn`): returned at once (`hit`): one LRU lookup, one clock read,
 *   no allocation but the resolved promise. `getFresh(slot)` with a bound {@link CacheSlot}:
 *   one clock read and the slot, nothing else.
 * - L1 in the refresh-ahead window (still usable): returned at once (`refresh`), and exactly
 *   one background refresh starts for the key. Its failure is reported (`refresh-error`) and
 *   swallowed; the old token is served only while usable, and background retries wait
 *   `refreshRetryMs`.
 * - Otherwise (miss, unusable, or `forceRefresh`): single-flight per key (`miss` for the
 *   caller that starts it, `coalesced` for those who join). With an L2: read it first (`l2`),
 *   then take its lock if it has one (renewed while this store acquires); while a peer holds the
 *   lock, poll L2 with backoff until the peer's token appears or this store gets the lock (the
 *   peer failed, or died and its lease lapsed). Every L2 failure is reported (`l2-error`) and
 *   bypassed: an L2 never fails a request (only an invalidation it missed is reported to the caller).
 * - A caller's `signal` rejects that caller only (AbortError).
 * - An expired or unusable token is never returned; if acquisition fails, its error is thrown.
 * - Invalidation during an acquisition keeps the result out of the cache (it is still returned).
 *
 * @example
 * ```ts
 * const store = createTokenStore({ l1: { maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 }, clock });
 * const { token } = await store.get(key, async () => ({ token: jwt, expiresInSec: 3599, meta: { scopes } }));
 * ```
 */
export function createTokenStore(options: TokenStoreOptions): TokenStore {
  if (options === null || typeof options !== 'object')
    throw new ConfigurationError('options must be an object');
  const {
    clock = systemClock,
    onEvent,
    sleep = realSleep,
    lockLeaseMs = 15_000,
    lockPollMinMs = 25,
    lockPollMaxMs = 1_000,
    l2TimeoutMs = 2_000,
    refreshRetryMs = 5_000,
  } = options;
  if (options.l1 === undefined)
    throw new ConfigurationError('l1 is required (a memory cache or its options)');
  // Our own L1 tells us when an entry leaves it and spares entries hit through a CacheSlot, so a
  // slot may skip the L1 lookup; with a given MemoryCache, every hit looks the key up.
  const ownL1 = typeof (options.l1 as MemoryCache).get !== 'function';
  const paths = options.optionPaths ?? { l1: 'l1.', policy: 'policy.' };
  const l1 = (ownL1
    ? withOptionPath(paths.l1, () =>
        createMemoryCache<StoreEntry>(
          { clock, ...(options.l1 as MemoryCacheOptions) },
          { onRemove: leave, secondChance },
        ),
      )
    : options.l1) as unknown as MemoryCache<StoreEntry>;
  const policy =
    options.policy !== undefined && typeof (options.policy as LifetimePolicy).compute === 'function'
      ? (options.policy as LifetimePolicy)
      : withOptionPath(paths.policy, () =>
          createLifetimePolicy(options.policy as LifetimePolicyOptions | undefined),
        );
  if (typeof clock?.now !== 'function') throw new ConfigurationError('clock must have a now() method');
  assertFunction('onEvent', onEvent, true);
  assertFunction('sleep', sleep);
  assertNumber('lockLeaseMs', lockLeaseMs, { min: 1 });
  assertNumber('lockPollMinMs', lockPollMinMs, { min: 0 });
  assertNumber('lockPollMaxMs', lockPollMaxMs, { min: lockPollMinMs });
  if (l2TimeoutMs !== Infinity) assertNumber('l2TimeoutMs', l2TimeoutMs, { min: 1 });
  assertNumber('refreshRetryMs', refreshRetryMs, { min: 0 });
  const storeSignal = options.signal ?? new AbortController().signal;
  // Every acquisition and lock wait in flight listens to this one signal: many at once is normal.
  setMaxListeners(0, storeSignal);

  const emit = (event: TokenStoreEvent): void => {
    try {
      onEvent?.(event);
    } catch {
      // A listener's bug must not break token delivery.
    }
  };
  const flights = createSingleFlight<string, Filled>();
  const counters = { hits: 0, misses: 0, coalesced: 0, refreshes: 0, l2Hits: 0 };
  // Bumped by every invalidation: an acquisition that started before it must not repopulate.
  let epoch = 0;

  const put = (key: string, entry: StoreEntry, now: number): void => {
    if (l1.set(key, entry, now) && entry.state === ENTRY_NEW) entry.state = ENTRY_CACHED;
  };
  // Slots compare times in whole seconds from here (small integers, stored unboxed).
  const base = clock.now();
  const self = {};
  /** Binds `slot` with `entry` (epoch: the store's when the entry was found), if L1 holds it. */
  const bindSlot = (slot: CacheSlot | undefined, entry: StoreEntry | undefined, at: number): void => {
    if (slot === undefined) return;
    if (slot.entry !== entry) unbind(slot);
    if (!ownL1 || entry === undefined || entry.state !== ENTRY_CACHED) return;
    if (entry.slot !== undefined && entry.slot !== slot) unbind(entry.slot);
    entry.slot = slot;
    slot.store = self;
    slot.epoch = at;
    // Rounded down: a slot hit is always before freshUntil; its last second goes to L1.
    slot.freshSec = Math.floor((entry.freshUntil - base) / 1000);
    slot.used = false;
    slot.resolved = entry.resolved;
    slot.entry = entry;
  };

  async function acquireEntry(
    key: string,
    acquire: Acquire,
    tags: readonly string[],
    mode: FillMode,
    startEpoch: number,
  ): Promise<StoreEntry> {
    const started = clock.now();
    try {
      const raw = await acquire(storeSignal);
      if (raw === null || typeof raw !== 'object' || typeof raw.token !== 'string' || raw.token === '') {
        throw new MalformedResponseError('The token acquisition returned no access token');
      }
      const issuedAt = clock.now();
      const times = policy.compute({
        issuedAt,
        expiresInSec: raw.expiresInSec,
        refreshInSec: raw.refreshInSec,
      });
      const token = createAccessToken({
        ...raw.meta,
        token: raw.token,
        expiresOn: times.expiresOn,
        refreshOn: times.refreshOn,
      });
      const entry = makeEntry(token, times.usableUntil, times.refreshOn, tags);
      if (startEpoch === epoch) put(key, entry, issuedAt);
      emit({ type: 'acquired', key, mode, durationMs: issuedAt - started });
      return entry;
    } catch (error) {
      emit({ type: 'acquire-error', key, mode, error });
      throw error;
    }
  }

  const l2 =
    options.l2 === undefined
      ? undefined
      : createL2Coordinator({
          l2: options.l2,
          clock,
          sleep,
          signal: storeSignal,
          lockLeaseMs,
          lockPollMinMs,
          lockPollMaxMs,
          l2TimeoutMs,
          emit,
          adopt(key, entry, startEpoch) {
            counters.l2Hits++;
            if (startEpoch === epoch) put(key, entry, clock.now());
          },
        });

  async function fill(
    key: string,
    acquire: Acquire,
    tags: readonly string[],
    mode: FillMode,
  ): Promise<Filled> {
    const startEpoch = epoch;
    if (l2 === undefined) {
      const entry = await acquireEntry(key, acquire, tags, mode, startEpoch);
      return { entry, result: Object.freeze({ token: entry.value, outcome: 'miss' as const }) };
    }
    return l2.fill(key, tags, mode, startEpoch, (lockTags) =>
      acquireEntry(key, acquire, lockTags, mode, startEpoch),
    );
  }

  function refreshInBackground(
    key: string,
    acquire: Acquire,
    tags: readonly string[],
    old: StoreEntry,
  ): void {
    counters.refreshes++;
    emit({ type: 'refresh-start', key });
    flights
      .run(key, () => fill(key, acquire, tags, 'refresh'))
      .promise.then(undefined, (error: unknown) => {
        old.refreshBlockedUntil = clock.now() + refreshRetryMs;
        emit({ type: 'refresh-error', key, error });
      });
  }

  function load(
    key: string,
    slot: CacheSlot | undefined,
    acquire: Acquire,
    options: TokenStoreGetOptions | undefined,
  ): Promise<TokenResult> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(abortErrorFrom(signal, 'The token request'));
    const mode: FillMode = options?.forceRefresh === true ? 'force' : 'miss';
    const flight = flights.run(key, () => fill(key, acquire, options?.tags ?? NO_TAGS, mode));
    if (flight.shared) counters.coalesced++;
    else counters.misses++;
    const at = epoch;
    const result = flight.shared
      ? flight.promise.then((filled) => {
          bindSlot(slot, filled.entry, at);
          return resultOf(filled.entry, 'coalesced');
        })
      : flight.promise.then((filled) => {
          bindSlot(slot, filled.entry, at);
          return filled.result;
        });
    return raceAbort(result, signal, 'The token request');
  }

  return {
    getFresh(target) {
      const now = clock.now();
      if (typeof target !== 'string') {
        if (
          target.entry !== undefined &&
          target.store === self &&
          target.epoch === epoch &&
          Math.floor((now - base) / 1000) < target.freshSec
        ) {
          if (!target.used) target.used = true;
          counters.hits++;
          return (target.resolved ??= resolvedOf(target.entry));
        }
        const entry = l1.get(target.key, now);
        if (entry === undefined || now >= entry.freshUntil) {
          unbind(target);
          return undefined;
        }
        bindSlot(target, entry, epoch);
        counters.hits++;
        const resolved = resolvedOf(entry);
        if (target.entry === entry) target.resolved = resolved;
        return resolved;
      }
      const entry = l1.get(target, now);
      if (entry === undefined || now >= entry.freshUntil) return undefined;
      counters.hits++;
      return resolvedOf(entry);
    },
    get(target, acquire, options) {
      const now = clock.now();
      const slot = typeof target === 'string' ? undefined : target;
      const key = typeof target === 'string' ? target : target.key;
      if (options?.forceRefresh !== true) {
        const entry = l1.get(key, now);
        if (entry !== undefined) {
          counters.hits++;
          bindSlot(slot, entry, epoch);
          if (now < entry.refreshOn) return Promise.resolve(resultOf(entry, 'hit'));
          if (now >= entry.refreshBlockedUntil && !flights.has(key)) {
            refreshInBackground(key, acquire, options?.tags ?? entry.tags, entry);
          }
          return Promise.resolve(resultOf(entry, 'refresh'));
        }
      }
      return load(key, slot, acquire, options);
    },
    async invalidate(target) {
      epoch++;
      if (target === 'all') {
        l1.clear();
      } else if (
        target !== null &&
        typeof target === 'object' &&
        typeof (target as { tag?: unknown }).tag === 'string'
      ) {
        const { tag } = target as { tag: string };
        l1.deleteByTag(tag);
        await l2?.invalidateTag(tag);
      } else if (
        target !== null &&
        typeof target === 'object' &&
        typeof (target as { key?: unknown }).key === 'string'
      ) {
        const { key } = target as { key: string };
        l1.delete(key);
        await l2?.delete(key);
      } else {
        throw new TypeError("invalidate target must be 'all', { tag } or { key }");
      }
    },
    stats: () => ({ ...counters, inFlight: flights.size, size: l1.size, bytes: l1.bytes }),
    maxEntries: l1.maxEntries,
    maxBytes: l1.maxBytes,
  };
}
