import { describe, expect, it, vi } from 'vitest';
import { L2UnavailableError } from '../errors/agent-id-error.js';
import { createManualClock, type ManualClock } from '../util/clock.js';
import { createMemoryL2, type L2Cache, type L2Entry } from './l2.js';
import {
  type Acquire,
  createTokenStore,
  type TokenAcquisition,
  type TokenStoreEvent,
  type TokenStoreOptions,
} from './token-store.js';

const T0 = 1_800_000_000_000;
const REFRESH_AT = 1_620_000;

const tokenResponse = (token: string): TokenAcquisition => ({
  token,
  expiresInSec: 3600,
  meta: {
    scopes: ['api://r/.default'],
    subject: 'agent',
    claims: { scp: [], roles: ['R'], actorFacets: [11], subjectFacets: [11] },
  },
});

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((res) => (resolve = res));
  return { promise, resolve };
}

const flush = () => new Promise((r) => setImmediate(r));

function replica(clock: ManualClock, l2: L2Cache, overrides: Partial<TokenStoreOptions> = {}) {
  const events: TokenStoreEvent[] = [];
  const sleeps: number[] = [];
  const store = createTokenStore({
    l1: { maxEntries: 100, maxBytes: 1_000_000 },
    l2,
    clock,
    onEvent: (e) => events.push(e),
    // Fake time: a poll "waits" by moving the clock, then lets other work run.
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
      await flush();
    },
    ...overrides,
  });
  return { store, events, sleeps };
}

describe('createTokenStore with L2', () => {
  it('writes acquisitions to L2 and serves other replicas from it', async () => {
    const clock = createManualClock(T0);
    const l2 = createMemoryL2({ clock });
    const a = replica(clock, l2);
    const b = replica(clock, l2);
    const acquire = vi.fn<Acquire>(async () => tokenResponse('shared'));
    expect((await a.store.get('k', acquire, { tags: ['agent:x'] })).outcome).toBe('miss');
    const fromL2 = await b.store.get('k', acquire);
    expect(fromL2.outcome).toBe('l2');
    expect(fromL2.token.token).toBe('shared');
    expect(fromL2.token.claims?.roles).toEqual(['R']);
    expect(Object.isFrozen(fromL2.token.claims)).toBe(true);
    expect(fromL2.token.expiresOn.getTime()).toBe(T0 + 3_600_000);
    expect((await b.store.get('k', acquire)).outcome).toBe('hit');
    expect(acquire).toHaveBeenCalledTimes(1);
    expect(b.store.stats().l2Hits).toBe(1);
    expect(b.events.map((e) => e.type)).toContain('l2-hit');
    // Tags travel with the entry.
    await b.store.invalidate({ tag: 'agent:x' });
    expect(b.store.stats().size).toBe(0);
  });

  it('stores the lock fencing token with the entry', async () => {
    const clock = createManualClock(T0);
    const l2 = createMemoryL2({ clock });
    const { store } = replica(clock, l2);
    await store.get('k', async () => tokenResponse('t'));
    const entry = (await l2.get('k')) as L2Entry;
    expect(entry.fencingToken).toBe(1);
    expect(entry.usableUntil).toBe(T0 + 3_240_000);
    expect(entry.meta.subject).toBe('agent');
  });

  it('ignores unusable L2 entries', async () => {
    const clock = createManualClock(T0);
    const l2 = createMemoryL2({ clock });
    await l2.set(
      'k',
      { token: 'old', expiresOn: T0 + 10, usableUntil: T0, refreshOn: T0, meta: { scopes: [] } },
      60_000,
    );
    const { store } = replica(clock, l2);
    expect((await store.get('k', async () => tokenResponse('new'))).token.token).toBe('new');
  });

  it('forceRefresh does not read L2', async () => {
    const clock = createManualClock(T0);
    const l2 = createMemoryL2({ clock });
    await replica(clock, l2).store.get('k', async () => tokenResponse('cached'));
    const { store } = replica(clock, l2);
    const r = await store.get('k', async () => tokenResponse('forced'), { forceRefresh: true });
    expect(r).toMatchObject({ outcome: 'miss' });
    expect(r.token.token).toBe('forced');
    expect(((await l2.get('k')) as L2Entry).token).toBe('forced');
  });

  it('a background refresh does not adopt an L2 entry that is itself due for refresh', async () => {
    const clock = createManualClock(T0);
    const l2 = createMemoryL2({ clock });
    const a = replica(clock, l2);
    await a.store.get('k', async () => tokenResponse('v1'));
    clock.advance(REFRESH_AT);
    const refresh = vi.fn<Acquire>(async () => tokenResponse('v2'));
    expect((await a.store.get('k', refresh)).outcome).toBe('refresh');
    await flush();
    expect(refresh).toHaveBeenCalledTimes(1);
    expect((await a.store.get('k', refresh)).token.token).toBe('v2');
  });

  it('a background refresh adopts a fresher token another replica already wrote', async () => {
    const clock = createManualClock(T0);
    const l2 = createMemoryL2({ clock });
    const a = replica(clock, l2);
    const b = replica(clock, l2);
    await a.store.get('k', async () => tokenResponse('v1'));
    clock.advance(REFRESH_AT);
    await b.store.get('k', async () => tokenResponse('v2'), { forceRefresh: true });
    const refresh = vi.fn<Acquire>(async () => tokenResponse('v3'));
    await a.store.get('k', refresh);
    await flush();
    expect(refresh).not.toHaveBeenCalled();
    expect((await a.store.get('k', refresh)).token.token).toBe('v2');
  });

  it('replicas share one acquisition through the lock: the waiter polls until the token appears', async () => {
    const clock = createManualClock(T0);
    const l2 = createMemoryL2({ clock });
    const a = replica(clock, l2);
    const d = deferred<TokenAcquisition>();
    const acquire = vi.fn<Acquire>(() => d.promise);
    const b = replica(clock, l2, {
      sleep: async (ms) => {
        b.sleeps.push(ms);
        clock.advance(ms);
        if (b.sleeps.length === 3) d.resolve(tokenResponse('from-a'));
        await flush();
      },
    });
    const first = a.store.get('k', acquire);
    await flush();
    const second = b.store.get('k', acquire);
    expect((await first).outcome).toBe('miss');
    const r = await second;
    expect(r.outcome).toBe('l2');
    expect(r.token.token).toBe('from-a');
    expect(acquire).toHaveBeenCalledTimes(1);
    expect(b.sleeps).toEqual([25, 50, 100]);
    expect(b.events.map((e) => e.type)).toContain('lock-wait');
  });

  it('reads L2 again after winning the lock: a peer that wrote and released in between is not repeated', async () => {
    const clock = createManualClock(T0);
    const inner = createMemoryL2({ clock });
    let reads = 0;
    // The peer writes its token just after our first read (a miss) and before we lock.
    const l2: L2Cache = {
      ...inner,
      async get(key) {
        const r = await inner.get(key);
        if (++reads === 1)
          await inner.set(
            key,
            {
              token: 'from-peer',
              expiresOn: T0 + 3_600_000,
              usableUntil: T0 + 3_300_000,
              refreshOn: T0 + REFRESH_AT,
              meta: { scopes: ['api://r/.default'] },
            },
            3_300_000,
          );
        return r;
      },
      lock: (key, lease) => inner.lock!(key, lease),
    };
    const { store } = replica(clock, l2);
    const acquire = vi.fn<Acquire>(async () => tokenResponse('mine'));
    const r = await store.get('k', acquire);
    expect(r.outcome).toBe('l2');
    expect(r.token.token).toBe('from-peer');
    expect(acquire).not.toHaveBeenCalled();
    expect(reads).toBe(2);
    // The lock was released.
    expect(await inner.lock!('k', 1000)).toBeDefined();
  });

  it('a tag invalidation reaches the shared L2: other replicas no longer read entries written before it', async () => {
    const clock = createManualClock(T0);
    const l2 = createMemoryL2({ clock });
    const a = replica(clock, l2);
    const b = replica(clock, l2);
    await a.store.get('k1', async () => tokenResponse('old'), { tags: ['agent:x'] });
    await a.store.get('k2', async () => tokenResponse('other'), { tags: ['agent:y'] });
    clock.advance(1);
    await b.store.invalidate({ tag: 'agent:x' });
    clock.advance(1);
    const acquire = vi.fn<Acquire>(async () => tokenResponse('new'));
    const r = await b.store.get('k1', acquire, { tags: ['agent:x'] });
    expect(r.outcome).toBe('miss');
    expect(r.token.token).toBe('new');
    // The entry written after the invalidation is served; the other tag is untouched.
    expect((await replica(clock, l2).store.get('k1', acquire)).token.token).toBe('new');
    expect((await b.store.get('k2', acquire)).outcome).toBe('l2');
    expect(acquire).toHaveBeenCalledTimes(1);
  });

  it('takes over when the holder lets the lease pass without writing', async () => {
    const clock = createManualClock(T0);
    const l2 = createMemoryL2({ clock });
    const stuck = await l2.lock!('k', 15_000);
    expect(stuck).toBeDefined();
    const b = replica(clock, l2);
    const acquire = vi.fn<Acquire>(async () => tokenResponse('b'));
    const r = await b.store.get('k', acquire);
    expect(r.outcome).toBe('miss');
    expect(acquire).toHaveBeenCalledTimes(1);
    // Exponential polling, capped at lockPollMaxMs, for one lease in total.
    expect(b.sleeps.slice(0, 7)).toEqual([25, 50, 100, 200, 400, 800, 1000]);
    expect(b.sleeps.reduce((s, x) => s + x, 0)).toBe(15_000);
    expect(b.events.map((e) => e.type)).toEqual(expect.arrayContaining(['lock-wait', 'acquired']));
    expect(((await l2.get('k')) as L2Entry).fencingToken).toBe(2);
  });

  it('a holder that releases without writing (its acquisition failed) frees the waiters at their next poll, not after the lease', async () => {
    const clock = createManualClock(T0);
    const l2 = createMemoryL2({ clock });
    const held = await l2.lock!('k', 15_000);
    const b = replica(clock, l2, {
      sleep: async (ms) => {
        b.sleeps.push(ms);
        clock.advance(ms);
        if (b.sleeps.length === 2) await held!.release();
        await flush();
      },
    });
    const acquire = vi.fn<Acquire>(async () => tokenResponse('b'));
    expect((await b.store.get('k', acquire)).outcome).toBe('miss');
    expect(b.sleeps).toEqual([25, 50]);
    expect(acquire).toHaveBeenCalledTimes(1);
    expect(((await l2.get('k')) as L2Entry).fencingToken).toBe(2);
  });

  it('acquires without the lock only when the lock stays held longer than any holder may hold it (20 leases)', async () => {
    const clock = createManualClock(T0);
    const base = createMemoryL2({ clock });
    const l2: L2Cache = {
      ...base,
      get: base.get,
      set: base.set,
      delete: base.delete,
      lock: async () => undefined,
    };
    const b = replica(clock, l2, { lockLeaseMs: 100 });
    const acquire = vi.fn<Acquire>(async () => tokenResponse('b'));
    expect((await b.store.get('k', acquire)).outcome).toBe('miss');
    expect(acquire).toHaveBeenCalledTimes(1);
    // The holder's 20 renewed leases, plus one.
    expect(b.sleeps.reduce((s, x) => s + x, 0)).toBe(2_100);
    expect(b.events).toContainEqual({ type: 'lock-takeover', key: 'k', locked: false });
  });

  it('a waiter keeps waiting past the lease while the holder still holds the lock: it never acquires without it', async () => {
    const clock = createManualClock(T0);
    const base = createMemoryL2({ clock });
    // A live holder renews its lease: the lock stays busy for several leases, then its token appears.
    let busy = 0;
    const l2: L2Cache = {
      get: base.get,
      set: base.set,
      delete: base.delete,
      lock: async (key, lease) => {
        if (++busy < 12) return undefined;
        if (busy === 12)
          await base.set(
            key,
            {
              token: 'from-holder',
              expiresOn: T0 + 3_600_000,
              usableUntil: T0 + 3_300_000,
              refreshOn: T0 + REFRESH_AT,
              meta: { scopes: ['api://r/.default'] },
            },
            3_300_000,
          );
        return base.lock!(key, lease);
      },
    };
    const b = replica(clock, l2, { lockLeaseMs: 100, lockPollMaxMs: 50 });
    const acquire = vi.fn<Acquire>(async () => tokenResponse('b'));
    const r = await b.store.get('k', acquire);
    expect(b.sleeps.reduce((s, x) => s + x, 0)).toBeGreaterThan(100);
    expect(acquire).not.toHaveBeenCalled();
    expect(r.outcome).toBe('l2');
    expect(r.token.token).toBe('from-holder');
  });

  it('the holder renews its lease while it acquires: a slow acquisition (longer than the lease) is not repeated by a waiter', async () => {
    // Real time: leases and renewals are real-time things.
    const l2 = createMemoryL2();
    const options = {
      l1: { maxEntries: 100, maxBytes: 1_000_000 },
      l2,
      lockLeaseMs: 60,
      lockPollMinMs: 5,
      lockPollMaxMs: 20,
    };
    const events: TokenStoreEvent[] = [];
    const a = createTokenStore({ ...options, onEvent: (e) => events.push(e) });
    const b = createTokenStore(options);
    let calls = 0;
    const acquire = vi.fn<Acquire>(async () => {
      await new Promise((r) => setTimeout(r, 300));
      return tokenResponse(`t${++calls}`);
    });
    const first = a.get('k', acquire);
    await new Promise((r) => setTimeout(r, 10));
    const [ra, rb] = await Promise.all([first, b.get('k', acquire)]);
    expect(acquire).toHaveBeenCalledTimes(1);
    expect(rb.token.token).toBe(ra.token.token);
    expect(rb.outcome).toBe('l2');
    expect(events.filter((e) => e.type === 'l2-error' || e.type === 'lock-lost')).toEqual([]);
  });

  it('an invalidation the L2 missed rejects with L2UnavailableError; L2 entries with that tag are refused until a retry reaches the L2', async () => {
    const clock = createManualClock(T0);
    const base = createMemoryL2({ clock });
    let down = false;
    const l2: L2Cache = {
      get: base.get,
      set: base.set,
      delete: base.delete,
      lock: base.lock!,
      invalidateTag: async (tag) => {
        if (down) throw new Error('l2 unreachable');
        await base.invalidateTag!(tag);
      },
    };
    const a = replica(clock, l2);
    const b = replica(clock, l2);
    await a.store.get('k', async () => tokenResponse('old'), { tags: ['agent:x'] });
    await a.store.get('k2', async () => tokenResponse('old2'), { tags: ['agent:x'] });
    down = true;
    clock.advance(1);
    const rejected = await b.store.invalidate({ tag: 'agent:x' }).catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(L2UnavailableError);
    expect(rejected).toMatchObject({ code: 'AGENTID_SHARED_CACHE_UNAVAILABLE', retryable: true });
    expect(b.events).toContainEqual(expect.objectContaining({ type: 'l2-error', operation: 'invalidate' }));
    // Still down: b does not serve the entry written before its invalidation (L2 reads still work).
    const acquire = vi.fn<Acquire>(async () => tokenResponse('new'));
    const r = await b.store.get('k', acquire, { tags: ['agent:x'] });
    expect(r.token.token).toBe('new');
    expect(acquire).toHaveBeenCalledTimes(1);
    // The shared store never heard of it: other replicas would still be served old2.
    expect((await base.get('k2'))?.token).toBe('old2');
    // Back: b's next L2 read publishes it first; then nobody is served old2.
    down = false;
    clock.advance(1);
    await b.store.get('k3', async () => tokenResponse('other'), { tags: ['agent:y'] });
    expect(await base.get('k2')).toBeUndefined();
    // Published: b reads shared entries with that tag again (written after the invalidation).
    clock.advance(1);
    await a.store.get('k4', async () => tokenResponse('after'), { tags: ['agent:x'] });
    clock.advance(1);
    expect((await b.store.get('k4', acquire, { tags: ['agent:x'] })).outcome).toBe('l2');
  });

  describe('never fails a request because L2 failed', () => {
    const failing = (op: keyof L2Cache, how: 'reject' | 'hang' | 'garbage' = 'reject'): L2Cache => {
      const base = createMemoryL2({ clock: createManualClock(T0) });
      const l2: L2Cache = {
        get: (k) => base.get(k),
        set: (k, e, t) => base.set(k, e, t),
        delete: (k) => base.delete(k),
        lock: (k, l) => base.lock!(k, l),
      };
      const impl =
        how === 'reject'
          ? () => Promise.reject(new Error(`l2 ${op} down`))
          : how === 'hang'
            ? () => new Promise<never>(() => {})
            : () => Promise.resolve({ token: 42 });
      (l2 as unknown as Record<string, unknown>)[op] = impl;
      return l2;
    };

    it.each([['get'], ['set'], ['lock']] as const)('%s rejecting', async (op) => {
      const clock = createManualClock(T0);
      const { store, events } = replica(clock, failing(op));
      const r = await store.get('k', async () => tokenResponse('direct'));
      expect(r.token.token).toBe('direct');
      expect(events).toContainEqual(expect.objectContaining({ type: 'l2-error', operation: op }));
    });

    it('release rejecting', async () => {
      const clock = createManualClock(T0);
      const base = createMemoryL2({ clock });
      const l2: L2Cache = {
        get: base.get,
        set: base.set,
        delete: base.delete,
        lock: async () => ({ fencingToken: 1, release: () => Promise.reject(new Error('nope')) }),
      };
      const { store, events } = replica(clock, l2);
      expect((await store.get('k', async () => tokenResponse('x'))).outcome).toBe('miss');
      expect(events).toContainEqual(expect.objectContaining({ type: 'l2-error', operation: 'release' }));
    });

    it('get hanging past l2TimeoutMs', async () => {
      const clock = createManualClock(T0);
      const { store, events } = replica(clock, failing('get', 'hang'), { l2TimeoutMs: 20 });
      const r = await store.get('k', async () => tokenResponse('direct'));
      expect(r.outcome).toBe('miss');
      const err = events.find((e) => e.type === 'l2-error');
      expect(String((err as { error: Error }).error.message)).toContain('timed out after 20 ms');
    });

    it('get returning a malformed entry', async () => {
      const clock = createManualClock(T0);
      const { store, events } = replica(clock, failing('get', 'garbage'));
      expect((await store.get('k', async () => tokenResponse('direct'))).token.token).toBe('direct');
      expect(events).toContainEqual(expect.objectContaining({ type: 'l2-error', operation: 'get' }));
    });

    it('get failing while polling a lock holder', async () => {
      const clock = createManualClock(T0);
      const base = createMemoryL2({ clock });
      await base.lock!('k', 15_000);
      let gets = 0;
      const l2: L2Cache = {
        get: async (k) => (++gets > 1 ? Promise.reject(new Error('flaky')) : base.get(k)),
        set: base.set,
        delete: base.delete,
        lock: base.lock!,
      };
      const b = replica(clock, l2);
      expect((await b.store.get('k', async () => tokenResponse('direct'))).token.token).toBe('direct');
      expect(b.sleeps).toEqual([25]);
    });

    it('delete failing during invalidate', async () => {
      const clock = createManualClock(T0);
      const { store, events } = replica(clock, failing('delete'));
      await store.get('k', async () => tokenResponse('x'));
      await expect(store.invalidate({ key: 'k' })).resolves.toBeUndefined();
      expect(events).toContainEqual(expect.objectContaining({ type: 'l2-error', operation: 'delete' }));
    });
  });

  it('invalidate({ key }) removes the key from L2 too', async () => {
    const clock = createManualClock(T0);
    const l2 = createMemoryL2({ clock });
    const { store } = replica(clock, l2);
    await store.get('k', async () => tokenResponse('x'));
    await store.invalidate({ key: 'k' });
    expect(await l2.get('k')).toBeUndefined();
  });

  it('works with an L2 that has no lock', async () => {
    const clock = createManualClock(T0);
    const base = createMemoryL2({ clock });
    const l2: L2Cache = { get: base.get, set: base.set, delete: base.delete };
    const a = replica(clock, l2);
    const b = replica(clock, l2);
    await a.store.get('k', async () => tokenResponse('x'));
    expect((await b.store.get('k', async () => tokenResponse('y'))).outcome).toBe('l2');
    const stored = (await l2.get('k')) as L2Entry;
    expect(stored.fencingToken).toBeUndefined();
  });
});
