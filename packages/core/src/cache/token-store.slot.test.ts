import { describe, expect, it, vi } from 'vitest';
import { createManualClock } from '../util/clock.js';
import { createMemoryCache } from './memory-cache.js';
import {
  type Acquire,
  CacheSlot,
  createTokenStore,
  type TokenAcquisition,
  type TokenStoreOptions,
} from './token-store.js';

const T0 = 1_800_000_000_000;
// Default policy on a 3600 s token: usable until +3240 s, refresh from +1620 s.
const REFRESH_AT = 1_620_000;
const USABLE_FOR = 3_240_000;

const tokenResponse = (token: string): TokenAcquisition => ({
  token,
  expiresInSec: 3600,
  meta: { scopes: ['api://r/.default'] },
});

function setup(overrides: Partial<TokenStoreOptions> = {}) {
  const clock = createManualClock(T0);
  const store = createTokenStore({ l1: { maxEntries: 100, maxBytes: 1_000_000 }, clock, ...overrides });
  let n = 0;
  const acquire = vi.fn<Acquire>(async () => tokenResponse(`tok-${++n}`));
  return { clock, store, acquire };
}

const tokenOf = async (p: Promise<{ token: { token: string } }> | undefined) =>
  p === undefined ? undefined : (await p).token.token;
const fresh = async (p: ReturnType<ReturnType<typeof createTokenStore>['getFresh']>) =>
  p === undefined ? undefined : (await p).token;

describe('createTokenStore: cache slots', () => {
  it('a slot filled by get serves fresh hits, counted as hits, one shared promise', async () => {
    const { store, acquire } = setup();
    const slot = new CacheSlot('k');
    expect(store.getFresh(slot)).toBeUndefined();
    expect(await tokenOf(store.get(slot, acquire))).toBe('tok-1');
    const a = store.getFresh(slot);
    const b = store.getFresh(slot);
    expect(a).toBe(b);
    expect(await fresh(a)).toBe('tok-1');
    // The key alone finds the same entry.
    expect(await fresh(store.getFresh('k'))).toBe('tok-1');
    expect(acquire).toHaveBeenCalledTimes(1);
    expect(store.stats()).toMatchObject({ hits: 3, misses: 1, size: 1 });
    expect(store).toMatchObject({ maxEntries: 100, maxBytes: 1_000_000 });
  });

  it('serves nothing from a slot after invalidation by tag, key or all', async () => {
    for (const target of [{ tag: 'agent:a' }, { key: 'k' }, 'all'] as const) {
      const { store, acquire } = setup();
      const slot = new CacheSlot('k');
      await store.get(slot, acquire, { tags: ['agent:a'] });
      expect(await fresh(store.getFresh(slot))).toBe('tok-1');
      await store.invalidate(target);
      expect(store.getFresh(slot)).toBeUndefined();
      expect(await tokenOf(store.get(slot, acquire))).toBe('tok-2');
      expect(await fresh(store.getFresh(slot))).toBe('tok-2');
    }
  });

  it('serves the replacement after a forced refresh, also through another slot of the key', async () => {
    const { store, acquire } = setup();
    const slot = new CacheSlot('k');
    const other = new CacheSlot('k');
    await store.get(slot, acquire);
    await store.get(other, acquire);
    expect(await fresh(store.getFresh(slot))).toBe('tok-1');
    await store.get('k', acquire, { forceRefresh: true });
    expect(await fresh(store.getFresh(slot))).toBe('tok-2');
    expect(await fresh(store.getFresh(other))).toBe('tok-2');
    expect(await fresh(store.getFresh(slot))).toBe('tok-2');
  });

  it('checks freshness at every hit: nothing in the refresh window, never an expired token', async () => {
    const { store, acquire, clock } = setup();
    const slot = new CacheSlot('k');
    await store.get(slot, acquire);
    clock.set(T0 + REFRESH_AT - 1);
    expect(await fresh(store.getFresh(slot))).toBe('tok-1');
    clock.set(T0 + REFRESH_AT);
    expect(store.getFresh(slot)).toBeUndefined();
    // get serves it from the refresh window and refreshes it once in the background.
    expect((await store.get(slot, acquire)).outcome).toBe('refresh');
    await vi.waitFor(() => expect(acquire).toHaveBeenCalledTimes(2));
    await vi.waitFor(async () => expect(await fresh(store.getFresh(slot))).toBe('tok-2'));
    clock.set(T0 + REFRESH_AT + USABLE_FOR);
    expect(store.getFresh(slot)).toBeUndefined();
    expect((await store.get(slot, acquire)).outcome).toBe('miss');
  });

  it('drops an evicted entry at once, and spares once an entry hit through its slot', async () => {
    const { store, acquire } = setup({ l1: { maxEntries: 2, maxBytes: 1_000_000 } });
    const a = new CacheSlot('a');
    await store.get(a, acquire);
    await store.get('b', acquire);
    // Hit through the slot only (no LRU move): at the next insertion 'b' goes instead of 'a'.
    expect(await fresh(store.getFresh(a))).toBe('tok-1');
    await store.get('c', acquire);
    expect(await fresh(store.getFresh(a))).toBe('tok-1');
    expect(store.getFresh('b')).toBeUndefined();
    // Not hit since: evicted, and the slot knows it.
    await store.get('d', acquire);
    await store.get('e', acquire);
    expect(store.getFresh(a)).toBeUndefined();
    expect(await tokenOf(store.get(a, acquire))).toBe('tok-6');
  });

  it('never binds a slot for another store, nor with a MemoryCache given in the options', async () => {
    const one = setup();
    const two = setup();
    const slot = new CacheSlot('k');
    await one.store.get(slot, one.acquire);
    expect(two.store.getFresh(slot)).toBeUndefined();
    expect(await fresh(one.store.getFresh(slot))).toBe('tok-1');

    const clock = createManualClock(T0);
    const l1 = createMemoryCache({ maxEntries: 10, maxBytes: 100_000, clock });
    const own = setup({ l1, clock });
    const mine = new CacheSlot('k');
    await own.store.get(mine, own.acquire);
    expect(await fresh(own.store.getFresh(mine))).toBe('tok-1');
    l1.delete('k');
    expect(own.store.getFresh(mine)).toBeUndefined();
  });

  it('keeps a slot unarmed when the acquisition was invalidated while in flight', async () => {
    const { store } = setup();
    const slot = new CacheSlot('k');
    let release!: () => void;
    const slow = vi.fn<Acquire>(() => new Promise((r) => (release = () => r(tokenResponse('stale')))));
    const pending = store.get(slot, slow);
    await store.invalidate('all');
    release();
    expect(await tokenOf(pending)).toBe('stale');
    expect(store.getFresh(slot)).toBeUndefined();
    expect(store.stats().size).toBe(0);
  });
});
