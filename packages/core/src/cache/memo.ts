import { ConfigurationError } from '../errors/agent-id-error.js';
import { assertFunction, assertNumber } from '../util/validate.js';

/**
 * Options of {@link createMemo}. Size it like the token cache it serves (`store.maxEntries`,
 * `store.maxBytes`): a memo smaller than the cache misses on every hit once the cache outgrows it.
 *
 * @example
 * ```ts
 * const options: MemoOptions<string, Facts> = { maxEntries: store.maxEntries, maxBytes: store.maxBytes, sizeOf: (k) => k.length + 300 };
 * ```
 */
export interface MemoOptions<K, V> {
  /** Entries per generation (the memo holds at most twice as many). */
  maxEntries: number;
  /** Bytes per generation, as counted by `sizeOf`. Default: unbounded (then give only `maxEntries`). */
  maxBytes?: number;
  /** The approximate bytes an entry holds (key and value). Default: 0 (only `maxEntries` counts). */
  sizeOf?: (key: K, value: V) => number;
}

/**
 * A bounded memo of values derived from a key (cache keys, per-assertion facts).
 *
 * @example
 * ```ts
 * const hit = memo.get(assertion) ?? compute(assertion);
 * ```
 */
export interface Memo<K, V> {
  /** The value, or `undefined`. O(1). */
  get(key: K): V | undefined;
  /** Stores (or replaces) a value. O(1) (amortized: a full generation is dropped whole). */
  set(key: K, value: V): void;
  /** Forgets one entry; `true` if it was held. */
  delete(key: K): boolean;
  /** Forgets every entry. */
  clear(): void;
  /** Entries held, in both generations. */
  readonly size: number;
}

/**
 * Creates a {@link Memo}: two generations of Maps. Lookups read the young generation, then the
 * old one (promoting what they find there); when the young generation reaches `maxEntries` or
 * `maxBytes`, it becomes the old one and the previous old one is dropped whole. So every operation
 * is O(1), nothing is preallocated (an idle memo costs two empty Maps), the memo never holds more
 * than twice its bounds, and everything used since the last rotation survives it (an LRU would
 * need a linked list, and evicting the oldest entry of one Map is O(size) in V8).
 *
 * @example
 * ```ts
 * const keys = createMemo<string, string>({ maxEntries: store.maxEntries });
 * let key = keys.get(raw);
 * if (key === undefined) keys.set(raw, (key = tokenCacheKey(parts)));
 * ```
 */
export function createMemo<K, V>(options: MemoOptions<K, V>): Memo<K, V> {
  if (options === null || typeof options !== 'object')
    throw new ConfigurationError('options must be an object');
  const { maxEntries, maxBytes = Infinity, sizeOf } = options;
  assertNumber('maxEntries', maxEntries, { min: 1, integer: true });
  if (maxBytes !== Infinity) assertNumber('maxBytes', maxBytes, { min: 1 });
  assertFunction('sizeOf', sizeOf, true);
  let young = new Map<K, V>();
  let old = new Map<K, V>();
  let youngBytes = 0;

  const put = (key: K, value: V): void => {
    if (sizeOf !== undefined) {
      const previous = young.get(key);
      if (previous !== undefined) youngBytes -= sizeOf(key, previous);
      youngBytes += sizeOf(key, value);
    }
    young.set(key, value);
    if (young.size >= maxEntries || youngBytes >= maxBytes) {
      old = young;
      young = new Map();
      youngBytes = 0;
    }
  };

  return {
    get(key) {
      const value = young.get(key);
      if (value !== undefined) return value;
      const aged = old.get(key);
      if (aged !== undefined) {
        old.delete(key);
        put(key, aged);
      }
      return aged;
    },
    set(key, value) {
      old.delete(key);
      put(key, value);
    },
    delete(key) {
      const value = young.get(key);
      if (value !== undefined) {
        if (sizeOf !== undefined) youngBytes -= sizeOf(key, value);
        young.delete(key);
        old.delete(key);
        return true;
      }
      return old.delete(key);
    },
    clear() {
      young = new Map();
      old = new Map();
      youngBytes = 0;
    },
    get size() {
      return young.size + old.size;
    },
  };
}
