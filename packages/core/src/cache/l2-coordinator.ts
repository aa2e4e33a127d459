import { L2UnavailableError } from '../errors/agent-id-error.js';
import { createAccessToken } from '../token/access-token.js';
import type { Sleep } from '../util/abort.js';
import type { Clock } from '../util/clock.js';
import type { L2Cache, L2Entry, L2Lock } from './l2.js';
import { type Filled, type FillMode, makeEntry, type StoreEntry } from './store-entry.js';
import type { TokenStoreEvent } from './token-store.js';

/**
 * Wiring of {@link createL2Coordinator}; all values come from the token store's options.
 *
 * @example
 * ```ts
 * createL2Coordinator({ l2, clock, sleep, signal, lockLeaseMs: 15_000, lockPollMinMs: 25, lockPollMaxMs: 1000, l2TimeoutMs: 2000, emit, adopt });
 * ```
 */
export interface L2CoordinatorOptions {
  l2: L2Cache;
  clock: Clock;
  sleep: Sleep;
  signal: AbortSignal;
  lockLeaseMs: number;
  lockPollMinMs: number;
  lockPollMaxMs: number;
  l2TimeoutMs: number;
  emit(event: TokenStoreEvent): void;
  /** Called with an entry read from L2, to count it and put it in L1 (if not invalidated). */
  adopt(key: string, entry: StoreEntry, startEpoch: number): void;
}

/**
 * The L2 half of the token store: read-through, distributed lock (renewed while held), polling a
 * peer's acquisition, write-back, and tag invalidations that could not be published yet.
 * Internal to {@link createTokenStore}.
 *
 * @example
 * ```ts
 * const filled = await coordinator.fill(key, tags, 'miss', epoch, (tags) => acquireEntry(tags));
 * ```
 */
export interface L2Coordinator {
  fill(
    key: string,
    tags: readonly string[],
    mode: FillMode,
    startEpoch: number,
    acquire: (tags: readonly string[]) => Promise<StoreEntry>,
  ): Promise<Filled>;
  delete(key: string): Promise<void>;
  /** Rejects with `L2UnavailableError` when the L2 was not told (then remembered and retried). */
  invalidateTag(tag: string): Promise<void>;
}

const BUSY = Symbol('busy');
const FAILED = Symbol('failed');

/**
 * A holder renews its lease for at most this many store leases (5 min by default): a holder
 * stuck longer is presumed dead. A waiter waits one lease more before it acquires without the
 * lock (only an L2 whose locks never lapse gets there).
 */
const MAX_HOLD_LEASES = 20;
/** Unpublished tag invalidations remembered; beyond, this replica stops reading L2 entries at all. */
const MAX_PENDING_TAGS = 10_000;

type L2Operation = 'get' | 'set' | 'delete' | 'lock' | 'release' | 'renew' | 'invalidate';

function isL2Entry(value: unknown): value is L2Entry {
  const e = value as L2Entry | null | undefined;
  return (
    e !== null &&
    typeof e === 'object' &&
    typeof e.token === 'string' &&
    e.token !== '' &&
    Number.isFinite(e.expiresOn) &&
    Number.isFinite(e.usableUntil) &&
    Number.isFinite(e.refreshOn) &&
    e.meta !== null &&
    typeof e.meta === 'object' &&
    Array.isArray(e.meta.scopes)
  );
}

/**
 * Creates the {@link L2Coordinator}. Every L2 failure (rejection, timeout, corrupt entry) is
 * reported as an `l2-error` event and bypassed, never thrown.
 *
 * @example
 * ```ts
 * const coordinator = createL2Coordinator(options);
 * ```
 */
export function createL2Coordinator(options: L2CoordinatorOptions): L2Coordinator {
  const { l2, clock, sleep, signal, lockLeaseMs, lockPollMinMs, lockPollMaxMs, l2TimeoutMs, emit, adopt } =
    options;

  // A hung L2 is a failed L2: give every call a deadline (real time, like a socket timeout).
  function timed<T>(promise: Promise<T>): Promise<T> {
    if (!Number.isFinite(l2TimeoutMs)) return promise;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`L2 call timed out after ${l2TimeoutMs} ms`)),
        l2TimeoutMs,
      );
      timer.unref?.();
      promise.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  async function call<T>(
    key: string,
    operation: L2Operation,
    fn: () => Promise<T>,
  ): Promise<T | typeof FAILED> {
    try {
      return await timed(Promise.resolve().then(fn));
    } catch (error) {
      emit({ type: 'l2-error', key, operation, error });
      return FAILED;
    }
  }

  // Tag invalidations this replica could not publish: until it has, it refuses every L2 entry
  // carrying one of them (another replica may have written it before the invalidation).
  const pending = new Set<string>();
  let pendingOverflow = false;
  let flushing: Promise<void> | undefined;

  function remember(tag: string): void {
    if (pending.size >= MAX_PENDING_TAGS && !pending.has(tag)) pendingOverflow = true;
    else pending.add(tag);
  }

  /** Tells the L2 of the invalidations it missed (one flush at a time; stops at the first failure). */
  function flushPending(): Promise<void> {
    if (pending.size === 0) return Promise.resolve();
    flushing ??= (async () => {
      try {
        for (const tag of [...pending]) {
          if ((await call(tag, 'invalidate', () => l2.invalidateTag!(tag))) === FAILED) return;
          pending.delete(tag);
        }
      } finally {
        flushing = undefined;
      }
    })();
    return flushing;
  }

  function refused(tags: readonly string[], data: L2Entry): boolean {
    if (pendingOverflow) return true;
    if (pending.size === 0) return false;
    return tags.some((t) => pending.has(t)) || (data.tags ?? []).some((t) => pending.has(t));
  }

  /** A usable (or, when refreshing, fresher) entry from L2; FAILED if L2 failed. */
  async function read(
    key: string,
    tags: readonly string[],
    mode: FillMode,
    startEpoch: number,
  ): Promise<Filled | undefined | typeof FAILED> {
    await flushPending();
    const data = await call(key, 'get', () => l2.get(key));
    if (data === FAILED || data === undefined || data === null) return data ?? undefined;
    if (!isL2Entry(data)) {
      emit({
        type: 'l2-error',
        key,
        operation: 'get',
        error: new TypeError('L2 returned a malformed entry'),
      });
      return undefined;
    }
    if (refused(tags, data)) return undefined;
    const now = clock.now();
    if (now >= data.usableUntil) return undefined;
    // A background refresh wants a newer token than the one it is replacing, not the same one.
    if (mode === 'refresh' && now >= data.refreshOn) return undefined;
    const token = createAccessToken({
      ...data.meta,
      token: data.token,
      expiresOn: data.expiresOn,
      refreshOn: data.refreshOn,
    });
    const entry = makeEntry(
      token,
      data.usableUntil,
      data.refreshOn,
      tags.length > 0 ? tags : (data.tags ?? []),
    );
    adopt(key, entry, startEpoch);
    emit({ type: 'l2-hit', key });
    return { entry, result: Object.freeze({ token, outcome: 'l2' as const }) };
  }

  async function lock(key: string): Promise<L2Lock | typeof BUSY | undefined> {
    if (typeof l2.lock !== 'function') return undefined;
    const held = await call(key, 'lock', () => l2.lock!(key, lockLeaseMs));
    if (held === FAILED) return undefined;
    return held ?? BUSY;
  }

  /**
   * Polls L2 with exponential backoff until the lock holder's token appears or this waiter gets
   * the lock itself (the holder failed and released it, its entry was invalidated meanwhile, or
   * its lease lapsed: it died). A live holder renews its lease, so a slow acquisition is waited
   * for, not repeated. Returns the token, or the lock to acquire under (`undefined`: the L2
   * failed, or the lock stayed held longer than any holder may hold it: acquire without one).
   */
  async function waitForPeer(
    key: string,
    tags: readonly string[],
    mode: FillMode,
    startEpoch: number,
  ): Promise<Filled | { lock: L2Lock | undefined }> {
    emit({ type: 'lock-wait', key });
    const started = clock.now();
    const leaseEnd = started + lockLeaseMs;
    const giveUp = started + (MAX_HOLD_LEASES + 1) * lockLeaseMs;
    let delay = lockPollMinMs;
    for (let now = started; now < giveUp; now = clock.now()) {
      // Within the first lease, wake up at its end at the latest: the earliest a dead holder frees it.
      await sleep(Math.min(delay, (now < leaseEnd ? leaseEnd : giveUp) - now), signal);
      const found = await read(key, tags, mode === 'force' ? 'refresh' : mode, startEpoch);
      if (found === FAILED) return { lock: undefined };
      if (found !== undefined) return found;
      const again = await lock(key);
      if (again !== BUSY) {
        if (again !== undefined && clock.now() >= leaseEnd)
          emit({ type: 'lock-takeover', key, locked: true });
        return { lock: again };
      }
      delay = Math.min(delay * 2, lockPollMaxMs);
    }
    // Held for longer than a holder renews its lease: the L2's locks do not lapse.
    emit({ type: 'lock-takeover', key, locked: false });
    return { lock: undefined };
  }

  /** Renews a held lock every third of its lease (real time, like the lease) until stopped. */
  function keepAlive(key: string, held: L2Lock): () => void {
    if (typeof held.renew !== 'function') return () => undefined;
    const lease = typeof held.leaseMs === 'number' && held.leaseMs > 0 ? held.leaseMs : lockLeaseMs;
    const every = Math.max(1, Math.floor(lease / 3));
    let left = Math.ceil((MAX_HOLD_LEASES * Math.max(lease, lockLeaseMs)) / every);
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async (): Promise<void> => {
      const renewed = await call(key, 'renew', () => held.renew!());
      if (stopped) return;
      if (renewed === false) {
        // Lapsed before we renewed it (or taken): the fencing token keeps our write from overwriting a newer one.
        emit({ type: 'lock-lost', key });
        return;
      }
      if (--left > 0) schedule();
    };
    const schedule = (): void => {
      timer = setTimeout(() => void tick(), every);
      timer.unref?.();
    };
    schedule();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  function toL2(entry: StoreEntry, fencingToken: number | undefined): L2Entry {
    const t = entry.value;
    const meta: Record<string, unknown> = { scopes: [...t.scopes] };
    if (t.subject !== undefined) meta['subject'] = t.subject;
    if (t.actor !== undefined) meta['actor'] = t.actor;
    if (t.tenantId !== undefined) meta['tenantId'] = t.tenantId;
    if (t.claims !== undefined) meta['claims'] = t.claims;
    const data: L2Entry = {
      token: t.token,
      expiresOn: t.expiresOnTimestamp,
      usableUntil: entry.usableUntil,
      refreshOn: entry.refreshOn,
      meta: meta as unknown as L2Entry['meta'],
      tags: entry.tags,
    };
    if (fencingToken !== undefined) data.fencingToken = fencingToken;
    return data;
  }

  return {
    async fill(key, tags, mode, startEpoch, acquire) {
      if (mode !== 'force') {
        const found = await read(key, tags, mode, startEpoch);
        if (found !== undefined && found !== FAILED) return found;
      }
      const first = await lock(key);
      let held: L2Lock | undefined;
      if (first === BUSY) {
        // For a forced refresh, a token the peer acquired after we asked is fresh enough.
        const waited = await waitForPeer(key, tags, mode, startEpoch);
        if ('entry' in waited) return waited;
        held = waited.lock;
      } else {
        held = first;
      }
      const stop = held === undefined ? undefined : keepAlive(key, held);
      try {
        // Double-checked: a peer may have written the token between our read and our lock
        // (it acquired, wrote and released in that gap). Without this read, K replicas that miss
        // together can still make more than one request for the key.
        if (held !== undefined && mode !== 'force') {
          const found = await read(key, tags, mode, startEpoch);
          if (found !== undefined && found !== FAILED) return found;
        }
        const entry = await acquire(tags);
        const ttlMs = entry.usableUntil - clock.now();
        if (ttlMs > 0) await call(key, 'set', () => l2.set(key, toL2(entry, held?.fencingToken), ttlMs));
        return { entry, result: Object.freeze({ token: entry.value, outcome: 'miss' as const }) };
      } finally {
        stop?.();
        if (held !== undefined) {
          const lease = held;
          await call(key, 'release', () => lease.release());
        }
      }
    },
    async delete(key) {
      await call(key, 'delete', () => l2.delete(key));
    },
    async invalidateTag(tag) {
      if (typeof l2.invalidateTag !== 'function') return;
      try {
        await timed(Promise.resolve().then(() => l2.invalidateTag!(tag)));
        pending.delete(tag);
      } catch (error) {
        emit({ type: 'l2-error', key: tag, operation: 'invalidate', error });
        remember(tag);
        throw new L2UnavailableError(
          'The shared (L2) cache could not be reached: the invalidation did not reach the other replicas (this one refuses the entries it covers until it has told the L2)',
          {
            cause: error,
          },
        );
      }
    },
  };
}
