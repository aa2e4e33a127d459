import { ConfigurationError } from '../errors/agent-id-error.js';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../util/clock.js';
import { createMemoryCache, entryBytes, type L1Entry } from './memory-cache.js';

const entry = (token = 'x'.repeat(100), usableUntil = 10_000, tags: string[] = []): L1Entry => ({
  value: { token },
  usableUntil,
  refreshOn: usableUntil / 2,
  tags,
});

describe('createMemoryCache: options', () => {
  it('refuses unbounded or invalid configurations with ConfigurationError naming the option', () => {
    expect(() => createMemoryCache({ maxBytes: 1e6 } as never)).toThrow(/maxEntries is required/);
    expect(() => createMemoryCache({ maxEntries: 10 } as never)).toThrow(/maxBytes is required/);
    expect(() => createMemoryCache({ maxEntries: 0, maxBytes: 1e6 })).toThrow(/maxEntries must be >= 1/);
    expect(() => createMemoryCache({ maxEntries: Infinity, maxBytes: 1e6 })).toThrow(/maxEntries/);
    expect(() => createMemoryCache({ maxEntries: 1.5, maxBytes: 1e6 })).toThrow(
      /maxEntries must be an integer/,
    );
    expect(() => createMemoryCache({ maxEntries: 10, maxBytes: 10 })).toThrow(/maxBytes must be >= 512/);
    expect(() => createMemoryCache(undefined as never)).toThrow(ConfigurationError);
    expect(() => createMemoryCache({ maxEntries: 10, maxBytes: 1e6, clock: {} as never })).toThrow(/clock/);
  });
});

describe('createMemoryCache', () => {
  it('gets what was set, until usableUntil', () => {
    const clock = createManualClock(0);
    const c = createMemoryCache({ maxEntries: 10, maxBytes: 100_000, clock });
    const e = entry();
    expect(c.set('k', e)).toBe(true);
    expect(c.get('k')).toBe(e);
    clock.set(9_999);
    expect(c.get('k')).toBe(e);
    expect(c.get('k', 10_000)).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('refuses an entry that is already unusable', () => {
    const c = createMemoryCache({ maxEntries: 10, maxBytes: 100_000, clock: createManualClock(20_000) });
    expect(c.set('k', entry())).toBe(false);
    expect(c.size).toBe(0);
  });

  it('evicts the least recently used entry beyond maxEntries', () => {
    const c = createMemoryCache({ maxEntries: 2, maxBytes: 100_000, clock: createManualClock(0) });
    c.set('a', entry());
    c.set('b', entry());
    c.get('a');
    c.set('c', entry());
    expect([...c.keys()].sort()).toEqual(['a', 'c']);
  });

  it('is bounded by bytes, computed from the token length plus overhead', () => {
    const e = entry('t'.repeat(1000), 10_000, ['agent:1']);
    expect(entryBytes('key', e)).toBe(512 + 3 + 1000 + 7);
    const c = createMemoryCache({ maxEntries: 1000, maxBytes: 4 * 1600, clock: createManualClock(0) });
    for (let i = 0; i < 10; i++) c.set(`k${i}`, entry('t'.repeat(1000)));
    expect(c.size).toBe(4);
    expect(c.bytes).toBeLessThanOrEqual(c.maxBytes);
    expect(c.get('k9')).toBeDefined();
    expect(c.get('k0')).toBeUndefined();
  });

  it('refuses an entry larger than maxBytes, dropping the old value', () => {
    const c = createMemoryCache({ maxEntries: 10, maxBytes: 1000, clock: createManualClock(0) });
    c.set('k', entry('small', 10_000, ['t']));
    expect(c.set('k', entry('x'.repeat(2000), 10_000, ['t']))).toBe(false);
    expect(c.get('k')).toBeUndefined();
    expect(c.deleteByTag('t')).toBe(0);
  });

  it('deletes by tag and keeps the index exact through eviction and replacement', () => {
    const c = createMemoryCache({ maxEntries: 3, maxBytes: 100_000, clock: createManualClock(0) });
    c.set('a1', entry('x', 10_000, ['agent:a', 'all']));
    c.set('a2', entry('x', 10_000, ['agent:a', 'user:u', 'all']));
    c.set('b1', entry('x', 10_000, ['agent:b', 'user:u', 'all']));
    expect(c.deleteByTag('user:u')).toBe(2);
    expect([...c.keys()]).toEqual(['a1']);
    // Replace a1 with different tags: the old tag no longer reaches it.
    c.set('a1', entry('y', 10_000, ['agent:z']));
    expect(c.deleteByTag('agent:a')).toBe(0);
    expect(c.get('a1')).toBeDefined();
    // Evict via capacity: the evicted key leaves every tag set.
    c.set('n1', entry('x', 10_000, ['n']));
    c.set('n2', entry('x', 10_000, ['n']));
    c.set('n3', entry('x', 10_000, ['n']));
    expect(c.get('a1')).toBeUndefined();
    expect(c.deleteByTag('agent:z')).toBe(0);
    expect(c.deleteByTag('n')).toBe(3);
    expect(c.deleteByTag('missing')).toBe(0);
  });

  it('prunes expired entries and clears', () => {
    const clock = createManualClock(0);
    const c = createMemoryCache({ maxEntries: 10, maxBytes: 100_000, clock });
    c.set('short', entry('x', 100, ['t']));
    c.set('long', entry('x', 10_000, ['t']));
    clock.set(500);
    expect(c.prune()).toBe(1);
    expect([...c.keys()]).toEqual(['long']);
    c.clear();
    expect(c.size).toBe(0);
    expect(c.bytes).toBe(0);
    expect(c.deleteByTag('t')).toBe(0);
  });

  it('delete removes one key', () => {
    const c = createMemoryCache({ maxEntries: 10, maxBytes: 100_000, clock: createManualClock(0) });
    c.set('k', entry('x', 10_000, ['t']));
    expect(c.delete('k')).toBe(true);
    expect(c.delete('k')).toBe(false);
    expect(c.deleteByTag('t')).toBe(0);
  });
});

describe('createMemoryCache: hooks', () => {
  it('reports every entry that leaves: evicted, replaced, deleted, expired, cleared', () => {
    const clock = createManualClock(0);
    const gone: string[] = [];
    const c = createMemoryCache(
      { maxEntries: 2, maxBytes: 100_000, clock },
      { onRemove: (e, key) => gone.push(`${key}:${e.value.token}`) },
    );
    c.set('a', entry('a1'));
    c.set('a', entry('a2'));
    c.set('b', entry('b1'));
    c.set('c', entry('c1'));
    expect(gone).toEqual(['a:a1', 'a:a2']);
    c.delete('b');
    c.set('d', entry('d1', 100));
    clock.set(200);
    expect(c.get('d')).toBeUndefined();
    c.clear();
    expect(gone).toEqual(['a:a1', 'a:a2', 'b:b1', 'd:d1', 'c:c1']);
    expect(() => createMemoryCache({ maxEntries: 1, maxBytes: 1000 }, { onRemove: 1 as never })).toThrow(
      /onRemove/,
    );
    expect(() => createMemoryCache({ maxEntries: 1, maxBytes: 1000 }, { secondChance: 1 as never })).toThrow(
      /secondChance/,
    );
  });

  it('spares the entries secondChance keeps, once each, and at most 16 per insertion', () => {
    const used = new Set<string>();
    const c = createMemoryCache(
      { maxEntries: 3, maxBytes: 100_000, clock: createManualClock(0) },
      {
        secondChance: (e) => used.delete(e.value.token),
      },
    );
    c.set('a', entry('a'));
    c.set('b', entry('b'));
    c.set('c', entry('c'));
    used.add('a');
    // 'a' is the least recently used but was used without a get: 'b' goes instead.
    c.set('d', entry('d'));
    expect([...c.keys()].sort()).toEqual(['a', 'c', 'd']);
    // Its chance is spent: next time it goes.
    c.set('e', entry('e'));
    c.set('f', entry('f'));
    expect([...c.keys()].sort()).toEqual(['d', 'e', 'f']);

    const always = createMemoryCache(
      { maxEntries: 20, maxBytes: 100_000, clock: createManualClock(0) },
      { secondChance: () => true },
    );
    for (let i = 0; i < 20; i++) always.set(`k${i}`, entry());
    expect(always.set('new', entry())).toBe(true);
    expect(always.size).toBe(20);
    expect(always.get('new')).toBeDefined();
  });
});
