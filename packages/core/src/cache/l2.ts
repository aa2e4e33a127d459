import type { AccessTokenMeta } from '../token/access-token.js';
import { type Clock, systemClock } from '../util/clock.js';

/**
 * A token as stored in a shared (L2) cache: plain JSON data, times in epoch ms. Implementations
 * (e.g. Redis) should encrypt it at rest: `token` is a live bearer token.
 *
 * @example
 * ```ts
 * const entry: L2Entry = { token, expiresOn, usableUntil, refreshOn, meta: { scopes } };
 * ```
 */
export interface L2Entry {
  token: string;
  expiresOn: number;
  usableUntil: number;
  refreshOn: number;
  meta: AccessTokenMeta;
  tags?: readonly string[];
  /** The lock's fencing token when written under a lock; lets an L2 refuse stale writers. */
  fencingToken?: number;
}

/**
 * A held L2 lock. `fencingToken` increases with every grant of the same key. A lock with `renew`
 * is kept alive by the token store while its holder acquires (every third of `leaseMs`), so a
 * slow acquisition (a `Retry-After` longer than the lease) does not let a peer take over.
 *
 * @example
 * ```ts
 * const lock = await l2.lock?.(key, 15_000);
 * try { ... } finally { await lock?.release(); }
 * ```
 */
export interface L2Lock {
  readonly fencingToken: number;
  /** The lease actually granted, when the L2 grants another than the one asked for. */
  readonly leaseMs?: number;
  /** Releases the lock if still held by this holder. */
  release(): Promise<void>;
  /**
   * Extends the lease by `leaseMs` from now, only if this holder still holds the lock (fenced by
   * the holder's own id); `false` when the lock lapsed or another holder has it.
   */
  renew?(): Promise<boolean>;
}

/**
 * A shared cache between replicas. Every method may fail; the token store then falls back to
 * L1 and a direct acquisition. `lock` is optional: with it, replicas share one acquisition per
 * key (it resolves `undefined` while another holder's lease runs).
 *
 * @example
 * ```ts
 * const store = createTokenStore({ l1, l2: createMemoryL2(), policy, clock });
 * ```
 */
export interface L2Cache {
  /** An entry, or `undefined` if absent or expired. */
  get(key: string): Promise<L2Entry | undefined>;
  /** Stores an entry for `ttlMs`. */
  set(key: string, entry: L2Entry, ttlMs: number): Promise<void>;
  /** Removes an entry. */
  delete(key: string): Promise<void>;
  /** Takes the lock of `key` for `leaseMs`; `undefined` while another holder has it (a waiter retries: it must hold the lock to acquire). */
  lock?(key: string, leaseMs: number): Promise<L2Lock | undefined>;
  /**
   * Makes every entry carrying `tag` that was written before now a miss, for every replica
   * (e.g. all tokens of an agent after it was disabled). Optional: without it, a tag
   * invalidation only reaches this replica's L1. Rejects when the invalidation did not reach the
   * shared store: the token store then rejects with `L2UnavailableError`, refuses shared entries
   * with that tag and tells the L2 again at its next reads.
   */
  invalidateTag?(tag: string): Promise<void>;
}

/**
 * Options of {@link createMemoryL2}.
 *
 * @example
 * ```ts
 * const l2 = createMemoryL2({ clock });
 * ```
 */
export interface MemoryL2Options {
  clock?: Clock;
}

/**
 * An in-memory {@link L2Cache} with TTLs and fencing-token leases on the injected clock. Entries
 * are JSON round-tripped, like a real remote store, so what works here serializes. For tests,
 * and to share tokens between stores in one process.
 *
 * @example
 * ```ts
 * const l2 = createMemoryL2({ clock });
 * const a = createTokenStore({ l1: l1a, l2, policy, clock });
 * const b = createTokenStore({ l1: l1b, l2, policy, clock }); // shares a's tokens and locks
 * ```
 */
export function createMemoryL2(options: MemoryL2Options = {}): L2Cache & { readonly size: number } {
  const clock = options.clock ?? systemClock;
  const data = new Map<
    string,
    { json: string; expiresAt: number; writtenAt: number; tags: readonly string[] }
  >();
  const tagInvalidatedAt = new Map<string, number>();
  const locks = new Map<string, { fencingToken: number; expiresAt: number }>();
  let fencing = 0;
  return {
    async get(key) {
      const hit = data.get(key);
      if (hit === undefined) return undefined;
      if (clock.now() >= hit.expiresAt) {
        data.delete(key);
        return undefined;
      }
      for (const tag of hit.tags) {
        const at = tagInvalidatedAt.get(tag);
        if (at !== undefined && at >= hit.writtenAt) return undefined;
      }
      return JSON.parse(hit.json) as L2Entry;
    },
    async set(key, entry, ttlMs) {
      if (!(ttlMs > 0)) return;
      const now = clock.now();
      data.set(key, {
        json: JSON.stringify(entry),
        expiresAt: now + ttlMs,
        writtenAt: now,
        tags: [...(entry.tags ?? [])],
      });
    },
    async delete(key) {
      data.delete(key);
    },
    async invalidateTag(tag) {
      tagInvalidatedAt.set(tag, clock.now());
    },
    async lock(key, leaseMs) {
      const now = clock.now();
      const held = locks.get(key);
      if (held !== undefined && now < held.expiresAt) return undefined;
      const grant = { fencingToken: ++fencing, expiresAt: now + leaseMs };
      locks.set(key, grant);
      return {
        fencingToken: grant.fencingToken,
        async release() {
          // Only the current holder releases: a holder whose lease lapsed must not free a lock
          // someone else has since taken.
          if (locks.get(key) === grant) locks.delete(key);
        },
        async renew() {
          const at = clock.now();
          if (locks.get(key) !== grant || at >= grant.expiresAt) return false;
          grant.expiresAt = at + leaseMs;
          return true;
        },
      };
    },
    get size() {
      return data.size;
    },
  };
}
