import { ConfigurationError } from '../errors/agent-id-error.js';
import { describe, expect, it, vi } from 'vitest';
import {
  AbortError,
  MalformedResponseError,
  NetworkError,
  TokenPolicyError,
} from '../errors/agent-id-error.js';
import { createLifetimePolicy } from '../policy/lifetime-policy.js';
import { createManualClock } from '../util/clock.js';
import { createMemoryCache } from './memory-cache.js';
import {
  type Acquire,
  createTokenStore,
  type TokenAcquisition,
  type TokenStoreEvent,
  type TokenStoreOptions,
} from './token-store.js';

const T0 = 1_800_000_000_000;
// Default policy on a 3600 s token: usable until +3240 s, refresh from +1620 s.
const REFRESH_AT = 1_620_000;
const USABLE_FOR = 3_240_000;

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tokenResponse = (token: string, expiresInSec = 3600): TokenAcquisition => ({
  token,
  expiresInSec,
  meta: { scopes: ['api://r/.default'], subject: 'agent', actor: 'agent', tenantId: 't' },
});

function setup(overrides: Partial<TokenStoreOptions> = {}) {
  const clock = createManualClock(T0);
  const events: TokenStoreEvent[] = [];
  const store = createTokenStore({
    l1: { maxEntries: 100, maxBytes: 1_000_000 },
    clock,
    onEvent: (e) => events.push(e),
    ...overrides,
  });
  let n = 0;
  const acquire = vi.fn<Acquire>(async () => tokenResponse(`tok-${++n}`));
  return { clock, events, store, acquire };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('createTokenStore: options', () => {
  it('validates up front with ConfigurationErrors naming the option', () => {
    expect(() => createTokenStore(undefined as never)).toThrow(ConfigurationError);
    expect(() => createTokenStore({} as never)).toThrow(/l1 is required/);
    expect(() => createTokenStore({ l1: { maxEntries: 1 } as never })).toThrow(/maxBytes is required/);
    const l1 = { maxEntries: 1, maxBytes: 10_000 };
    expect(() => createTokenStore({ l1, lockLeaseMs: 0 })).toThrow(/lockLeaseMs/);
    expect(() => createTokenStore({ l1, lockPollMinMs: 10, lockPollMaxMs: 5 })).toThrow(/lockPollMaxMs/);
    expect(() => createTokenStore({ l1, onEvent: 1 as never })).toThrow(/onEvent/);
    expect(() => createTokenStore({ l1, policy: { clockSkewSec: -1 } })).toThrow(/clockSkewSec/);
    expect(() => createTokenStore({ l1, clock: {} as never })).toThrow(/clock/);
  });

  it('accepts a ready cache and a ready policy', async () => {
    const clock = createManualClock(T0);
    const l1 = createMemoryCache({ maxEntries: 10, maxBytes: 100_000, clock });
    const store = createTokenStore({
      l1,
      policy: createLifetimePolicy({ minRemainingSec: 0, clockSkewSec: 0 }),
      clock,
    });
    const { token } = await store.get('k', async () => tokenResponse('x', 10));
    expect(token.expiresOn.getTime()).toBe(T0 + 10_000);
    expect(l1.size).toBe(1);
  });
});

describe('createTokenStore: hits and misses', () => {
  it('acquires on a miss, then serves the same token from L1', async () => {
    const { store, acquire } = setup();
    const first = await store.get('k', acquire);
    expect(first.outcome).toBe('miss');
    expect(first.token.token).toBe('tok-1');
    expect(first.token.expiresOn.getTime()).toBe(T0 + 3_600_000);
    expect(first.token.refreshOn.getTime()).toBe(T0 + REFRESH_AT);
    expect(first.token.scopes).toEqual(['api://r/.default']);
    const second = await store.get('k', acquire);
    const third = await store.get('k', acquire);
    expect(second.outcome).toBe('hit');
    expect(second.token).toBe(first.token);
    // The hot path hands out one pre-built, frozen result: nothing is allocated per hit.
    expect(third).toBe(second);
    expect(Object.isFrozen(second)).toBe(true);
    expect(acquire).toHaveBeenCalledTimes(1);
    expect(store.stats()).toMatchObject({ hits: 2, misses: 1, coalesced: 0, refreshes: 0, size: 1 });
    expect(store.stats().bytes).toBeGreaterThan(0);
  });

  it('reads the clock once and does not touch the acquire function on a hit', async () => {
    const { store, acquire, clock } = setup();
    await store.get('k', acquire);
    const now = vi.spyOn(clock, 'now');
    await store.get('k', acquire);
    expect(now).toHaveBeenCalledTimes(1);
    expect(acquire).toHaveBeenCalledTimes(1);
  });

  it('keys are independent', async () => {
    const { store, acquire } = setup();
    expect((await store.get('a', acquire)).token.token).toBe('tok-1');
    expect((await store.get('b', acquire)).token.token).toBe('tok-2');
  });

  it('never serves a token past usableUntil: it acquires again', async () => {
    const { store, acquire, clock } = setup();
    await store.get('k', acquire);
    clock.advance(USABLE_FOR);
    const r = await store.get('k', acquire);
    expect(r.outcome).toBe('miss');
    expect(r.token.token).toBe('tok-2');
  });

  it('rejects with the acquire error, not an unusable token, when acquisition fails', async () => {
    const { store, clock, events } = setup();
    await store.get('k', async () => tokenResponse('old'));
    clock.advance(USABLE_FOR + 1);
    const boom = new NetworkError('down');
    await expect(store.get('k', async () => Promise.reject(boom))).rejects.toBe(boom);
    expect(events.some((e) => e.type === 'acquire-error' && e.error === boom)).toBe(true);
  });

  it('rejects tokens the lifetime policy cannot use, and caches nothing', async () => {
    const { store } = setup();
    await expect(store.get('k', async () => tokenResponse('short', 200))).rejects.toBeInstanceOf(
      TokenPolicyError,
    );
    expect(store.stats().size).toBe(0);
  });

  it('rejects an acquisition without a token', async () => {
    const { store } = setup();
    await expect(store.get('k', async () => ({ ...tokenResponse('x'), token: '' }))).rejects.toBeInstanceOf(
      MalformedResponseError,
    );
    await expect(store.get('k', async () => undefined as never)).rejects.toBeInstanceOf(
      MalformedResponseError,
    );
  });

  it('passes the store signal (not a caller signal) to acquire', async () => {
    const ac = new AbortController();
    const { store } = setup({ signal: ac.signal });
    let seen: AbortSignal | undefined;
    await store.get(
      'k',
      async (signal) => {
        seen = signal;
        return tokenResponse('x');
      },
      { signal: new AbortController().signal },
    );
    expect(seen).toBe(ac.signal);
  });

  it('survives an onEvent listener that throws', async () => {
    const { store, acquire } = setup({
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    await expect(store.get('k', acquire)).resolves.toMatchObject({ outcome: 'miss' });
  });
});

describe('createTokenStore: single-flight', () => {
  it('shares one acquisition among concurrent callers', async () => {
    const { store } = setup();
    const d = deferred<TokenAcquisition>();
    const acquire = vi.fn<Acquire>(() => d.promise);
    const calls = [store.get('k', acquire), store.get('k', acquire), store.get('k', acquire)];
    d.resolve(tokenResponse('shared'));
    const results = await Promise.all(calls);
    expect(acquire).toHaveBeenCalledTimes(1);
    expect(results.map((r) => r.outcome)).toEqual(['miss', 'coalesced', 'coalesced']);
    expect(new Set(results.map((r) => r.token)).size).toBe(1);
    expect(store.stats()).toMatchObject({ misses: 1, coalesced: 2, inFlight: 0 });
  });

  it('shares a failure, and the next call tries again', async () => {
    const { store } = setup();
    const d = deferred<TokenAcquisition>();
    const boom = new NetworkError('reset');
    const a = store.get('k', () => d.promise);
    const b = store.get('k', () => d.promise);
    d.reject(boom);
    await expect(a).rejects.toBe(boom);
    await expect(b).rejects.toBe(boom);
    await expect(store.get('k', async () => tokenResponse('ok'))).resolves.toMatchObject({ outcome: 'miss' });
  });

  it("a caller's abort rejects only that caller; the acquisition goes on for the others", async () => {
    const { store } = setup();
    const d = deferred<TokenAcquisition>();
    let acquireSignal: AbortSignal | undefined;
    const acquire = vi.fn<Acquire>((signal) => {
      acquireSignal = signal;
      return d.promise;
    });
    const ac = new AbortController();
    const impatient = store.get('k', acquire, { signal: ac.signal });
    const patient = store.get('k', acquire);
    ac.abort(new Error('client went away'));
    const error = await impatient.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).code).toBe('AGENTID_ABORTED');
    expect(acquireSignal?.aborted).toBe(false);
    d.resolve(tokenResponse('done'));
    expect((await patient).token.token).toBe('done');
    expect(acquire).toHaveBeenCalledTimes(1);
    // And the result was cached for later callers.
    expect((await store.get('k', acquire)).outcome).toBe('hit');
  });

  it('an aborted starter still caches the result for others', async () => {
    const { store } = setup();
    const d = deferred<TokenAcquisition>();
    const ac = new AbortController();
    const starter = store.get('k', () => d.promise, { signal: ac.signal });
    ac.abort();
    await expect(starter).rejects.toBeInstanceOf(AbortError);
    d.resolve(tokenResponse('late'));
    await flush();
    expect((await store.get('k', () => d.promise)).outcome).toBe('hit');
  });

  it('an already-aborted signal rejects at once without acquiring', async () => {
    const { store, acquire } = setup();
    const ac = new AbortController();
    ac.abort();
    await expect(store.get('k', acquire, { signal: ac.signal })).rejects.toBeInstanceOf(AbortError);
    expect(acquire).not.toHaveBeenCalled();
  });

  it('forceRefresh skips the cache but still coalesces', async () => {
    const { store, acquire } = setup();
    await store.get('k', acquire);
    const d = deferred<TokenAcquisition>();
    const slow = vi.fn<Acquire>(() => d.promise);
    const forced = store.get('k', slow, { forceRefresh: true });
    const forcedToo = store.get('k', slow, { forceRefresh: true });
    // A normal caller meanwhile still gets the cached token.
    expect((await store.get('k', slow)).outcome).toBe('hit');
    d.resolve(tokenResponse('fresh'));
    expect((await forced).outcome).toBe('miss');
    expect((await forcedToo).outcome).toBe('coalesced');
    expect(slow).toHaveBeenCalledTimes(1);
    expect((await store.get('k', slow)).token.token).toBe('fresh');
  });
});

describe('createTokenStore: refresh-ahead', () => {
  it('serves the cached token and refreshes exactly once in the background', async () => {
    const { store, clock, events } = setup();
    await store.get('k', async () => tokenResponse('old'));
    clock.advance(REFRESH_AT);
    const d = deferred<TokenAcquisition>();
    const refresh = vi.fn<Acquire>(() => d.promise);
    const r1 = await store.get('k', refresh);
    const r2 = await store.get('k', refresh);
    expect([r1.outcome, r2.outcome]).toEqual(['refresh', 'refresh']);
    expect(r1.token.token).toBe('old');
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(store.stats().refreshes).toBe(1);
    d.resolve(tokenResponse('new'));
    await flush();
    const r3 = await store.get('k', refresh);
    expect(r3.outcome).toBe('hit');
    expect(r3.token.token).toBe('new');
    expect(events.map((e) => e.type)).toContain('refresh-start');
    expect(events.find((e) => e.type === 'acquired' && e.mode === 'refresh')).toBeDefined();
  });

  it('a caller arriving after expiry joins the background refresh', async () => {
    const { store, clock } = setup();
    await store.get('k', async () => tokenResponse('old'));
    clock.advance(REFRESH_AT);
    const d = deferred<TokenAcquisition>();
    const refresh = vi.fn<Acquire>(() => d.promise);
    await store.get('k', refresh);
    clock.advance(USABLE_FOR);
    const joined = store.get('k', refresh);
    d.resolve(tokenResponse('new'));
    expect(await joined).toMatchObject({ outcome: 'coalesced' });
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('swallows a failed refresh, reports it, backs off, and never serves past usableUntil', async () => {
    const { store, clock, events } = setup({ refreshRetryMs: 10_000 });
    await store.get('k', async () => tokenResponse('old'));
    clock.advance(REFRESH_AT);
    const boom = new NetworkError('down');
    const failing = vi.fn<Acquire>(async () => Promise.reject(boom));
    expect((await store.get('k', failing)).token.token).toBe('old');
    await flush();
    expect(events).toContainEqual({ type: 'refresh-error', key: 'k', error: boom });
    // Within the back-off: served, no new attempt.
    clock.advance(5_000);
    expect((await store.get('k', failing)).outcome).toBe('refresh');
    expect(failing).toHaveBeenCalledTimes(1);
    // After it: one more background attempt.
    clock.advance(5_000);
    await store.get('k', failing);
    await flush();
    expect(failing).toHaveBeenCalledTimes(2);
    // Past usableUntil the old token is gone, and the failure surfaces.
    clock.set(T0 + USABLE_FOR);
    await expect(store.get('k', failing)).rejects.toBe(boom);
  });

  it('uses the tags of the entry for a background refresh when none are given', async () => {
    const { store, clock } = setup();
    await store.get('k', async () => tokenResponse('old'), { tags: ['agent:a'] });
    clock.advance(REFRESH_AT);
    await store.get('k', async () => tokenResponse('new'));
    await flush();
    await store.invalidate({ tag: 'agent:a' });
    expect(store.stats().size).toBe(0);
  });
});

describe('createTokenStore: invalidation', () => {
  it('by key, by tag, and everything', async () => {
    const { store, acquire } = setup();
    await store.get('a1', acquire, { tags: ['agent:a', 'user:u'] });
    await store.get('a2', acquire, { tags: ['agent:a'] });
    await store.get('b1', acquire, { tags: ['agent:b', 'user:u'] });
    await store.get('c1', acquire);
    await store.invalidate({ key: 'c1' });
    expect(store.stats().size).toBe(3);
    await store.invalidate({ tag: 'user:u' });
    expect(store.stats().size).toBe(1);
    expect((await store.get('a2', acquire)).outcome).toBe('hit');
    await store.invalidate('all');
    expect(store.stats().size).toBe(0);
    expect((await store.get('a2', acquire)).outcome).toBe('miss');
    await expect(store.invalidate({} as never)).rejects.toThrow(TypeError);
  });

  it('an acquisition in flight during invalidation is returned but not cached', async () => {
    const { store } = setup();
    const d = deferred<TokenAcquisition>();
    const pending = store.get('k', () => d.promise, { tags: ['agent:a'] });
    await store.invalidate({ tag: 'agent:a' });
    d.resolve(tokenResponse('stale-by-policy'));
    expect((await pending).token.token).toBe('stale-by-policy');
    expect(store.stats().size).toBe(0);
  });
});
