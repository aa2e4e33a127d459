import { LRUCache } from 'lru-cache';
import { type Clock, systemClock } from '../util/clock.js';
import { ConfigurationError } from '../errors/agent-id-error.js';
import { assertFunction, assertNumber } from '../util/validate.js';

/**
 * One L1 entry. `value` is the token (anything with a `token` string, normally an
 * {@link AccessToken}); times are epoch ms from the lifetime policy.
 *
 * @example
 * ```ts
 * const entry: L1Entry = { value: accessToken, usableUntil, refreshOn, tags: ['agent:123'] };
 * ```
 */
export interface L1Entry<V extends { readonly token: string } = { readonly token: string }> {
  readonly value: V;
  readonly usableUntil: number;
  readonly refreshOn: number;
  readonly tags: readonly string[];
}

/**
 * Options of {@link createMemoryCache}. Both bounds are required: an unbounded token cache is a
 * memory leak that grows with users.
 *
 * @example
 * ```ts
 * const options: MemoryCacheOptions = { maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 };
 * ```
 */
export interface MemoryCacheOptions {
  /** Most entries kept; least recently used are evicted first. */
  maxEntries: number;
  /** Most (approximate) bytes kept, see {@link entryBytes}. Also the largest single entry. */
  maxBytes: number;
  clock?: Clock;
}

/**
 * What the owner of a {@link MemoryCache} (the token store) may hook into, beside its options.
 *
 * @example
 * ```ts
 * createMemoryCache(options, { onRemove: (entry) => (entry.gone = true), secondChance: (entry) => entry.used });
 * ```
 */
export interface MemoryCacheHooks<E extends L1Entry = L1Entry> {
  /** Hears every entry that leaves the cache (evicted, deleted, replaced, expired, cleared). */
  onRemove?: (entry: E, key: string) => void;
  /**
   * Asked about the least recently used entry before it is evicted to make room for a new key:
   * `true` keeps it (as the most recently used), as CLOCK's second chance does for entries used
   * without a `get` (by a caller that holds the entry and marked it). At most 16 per insertion,
   * so an insertion stays O(1).
   */
  secondChance?: (entry: E) => boolean;
}

/** The most entries one insertion spares through `secondChance` before it evicts regardless. */
const MAX_SECOND_CHANCES = 16;

/**
 * A bounded in-process LRU of tokens with tag-based invalidation.
 *
 * @example
 * ```ts
 * const l1 = createMemoryCache({ maxEntries: 1000, maxBytes: 8_000_000 });
 * l1.set(key, { value: token, usableUntil, refreshOn, tags: ['agent:a1'] });
 * l1.deleteByTag('agent:a1');
 * ```
 */
export interface MemoryCache<E extends L1Entry = L1Entry> {
  /** The entry, or `undefined` if absent or past `usableUntil` (then it is dropped). O(1). */
  get(key: string, now?: number): E | undefined;
  /** Stores an entry; `false` if refused (larger than `maxBytes`, or already unusable). */
  set(key: string, entry: E, now?: number): boolean;
  /** Removes an entry; `true` if it was there. */
  delete(key: string): boolean;
  /** Deletes every entry carrying `tag`; returns how many. O(entries with the tag). */
  deleteByTag(tag: string): number;
  /** Drops every entry past `usableUntil`; returns how many. O(size). */
  prune(now?: number): number;
  /** Removes every entry. */
  clear(): void;
  /** The keys, most recently used first. */
  keys(): IterableIterator<string>;
  readonly size: number;
  /** Approximate bytes held. */
  readonly bytes: number;
  readonly maxEntries: number;
  readonly maxBytes: number;
}

/** Fixed per-entry cost: the entry object, its LRU slots, times, the AccessToken shell. */
const ENTRY_OVERHEAD_BYTES = 512;

/**
 * The approximate size an entry is charged: the token, key and tags (one byte per character,
 * which is what V8 uses for the ASCII strings tokens and ids are) plus a fixed overhead.
 *
 * @example
 * ```ts
 * entryBytes('k', { value: { token: 'x'.repeat(1500) }, usableUntil: 0, refreshOn: 0, tags: [] }); // 2013
 * ```
 */
export function entryBytes(key: string, entry: L1Entry): number {
  let bytes = ENTRY_OVERHEAD_BYTES + key.length + entry.value.token.length;
  for (const tag of entry.tags) bytes += tag.length;
  return bytes;
}

/**
 * Creates a {@link MemoryCache} on `lru-cache`, bounded by entries and by bytes. Throws
 * `TypeError` when either bound is missing or not a positive integer.
 *
 * @example
 * ```ts
 * const l1 = createMemoryCache({ maxEntries: 10_000, maxBytes: 64 * 1024 * 1024, clock });
 * ```
 */
export function createMemoryCache<E extends L1Entry = L1Entry>(
  options: MemoryCacheOptions,
  hooks: MemoryCacheHooks<E> = {},
): MemoryCache<E> {
  if (options === null || typeof options !== 'object')
    throw new ConfigurationError('options must be an object');
  const { maxEntries, maxBytes, clock = systemClock } = options;
  const { onRemove, secondChance } = hooks ?? {};
  if (maxEntries === undefined)
    throw new ConfigurationError('maxEntries is required: an unbounded token cache grows without limit');
  if (maxBytes === undefined)
    throw new ConfigurationError('maxBytes is required: an unbounded token cache grows without limit');
  assertNumber('maxEntries', maxEntries, { min: 1, integer: true });
  assertNumber('maxBytes', maxBytes, { min: ENTRY_OVERHEAD_BYTES, integer: true });
  if (typeof clock?.now !== 'function') throw new ConfigurationError('clock must have a now() method');
  assertFunction('onRemove', onRemove, true);
  assertFunction('secondChance', secondChance, true);

  const tagIndex = new Map<string, Set<string>>();
  const unindex = (key: string, entry: E): void => {
    for (const tag of entry.tags) {
      const keys = tagIndex.get(tag);
      if (keys === undefined) continue;
      keys.delete(key);
      if (keys.size === 0) tagIndex.delete(tag);
    }
  };

  // No TTL in lru-cache: expiry is decided with the injected clock, not performance.now().
  const lru = new LRUCache<string, E>({
    max: maxEntries,
    maxSize: maxBytes,
    sizeCalculation: (entry, key) => entryBytes(key, entry),
    // Every way out (eviction, delete, replacement, clear) keeps the tag index exact.
    dispose: (entry, key) => {
      unindex(key, entry);
      onRemove?.(entry, key);
    },
  });

  // Before an insertion evicts, the least recently used entries that `secondChance` keeps move to
  // the most recently used end (bounded: a cache of marked entries still takes the insertion).
  const spare = (size: number): void => {
    if (size > maxBytes) return;
    for (
      let spared = 0;
      spared < MAX_SECOND_CHANCES && (lru.size >= maxEntries || lru.calculatedSize + size > maxBytes);
      spared++
    ) {
      const victim = lru.rkeys().next();
      if (victim.done === true) return;
      const entry = lru.peek(victim.value);
      if (entry === undefined || secondChance?.(entry) !== true) return;
      lru.get(victim.value);
    }
  };

  const cache: MemoryCache<E> = {
    get(key, now) {
      const entry = lru.get(key);
      if (entry === undefined) return undefined;
      if ((now ?? clock.now()) >= entry.usableUntil) {
        lru.delete(key);
        return undefined;
      }
      return entry;
    },
    set(key, entry, now) {
      if ((now ?? clock.now()) >= entry.usableUntil) {
        lru.delete(key);
        return false;
      }
      if (secondChance !== undefined && !lru.has(key)) spare(entryBytes(key, entry));
      lru.set(key, entry);
      // lru-cache silently refuses entries larger than maxBytes (and drops the old one).
      if (lru.peek(key) !== entry) return false;
      for (const tag of entry.tags) {
        let keys = tagIndex.get(tag);
        if (keys === undefined) tagIndex.set(tag, (keys = new Set()));
        keys.add(key);
      }
      return true;
    },
    delete: (key) => lru.delete(key),
    deleteByTag(tag) {
      const keys = tagIndex.get(tag);
      if (keys === undefined) return 0;
      // Copy: each delete mutates the index through dispose.
      const victims = [...keys];
      for (const key of victims) lru.delete(key);
      tagIndex.delete(tag);
      return victims.length;
    },
    prune(now) {
      const t = now ?? clock.now();
      const victims: string[] = [];
      for (const [key, entry] of lru.entries()) if (t >= entry.usableUntil) victims.push(key);
      for (const key of victims) lru.delete(key);
      return victims.length;
    },
    clear() {
      lru.clear();
      tagIndex.clear();
    },
    keys: () => lru.keys(),
    get size() {
      return lru.size;
    },
    get bytes() {
      return lru.calculatedSize;
    },
    maxEntries,
    maxBytes,
  };
  return cache;
}
