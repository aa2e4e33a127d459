import { ConfigurationError } from '../errors/agent-id-error.js';
import { describe, expect, it } from 'vitest';
import { createMemo } from './memo.js';

describe('createMemo', () => {
  it('refuses invalid bounds with ConfigurationError naming the option', () => {
    expect(() => createMemo(undefined as never)).toThrow(ConfigurationError);
    expect(() => createMemo({} as never)).toThrow(/maxEntries/);
    expect(() => createMemo({ maxEntries: 0 })).toThrow(/maxEntries must be >= 1/);
    expect(() => createMemo({ maxEntries: 1.5 })).toThrow(/maxEntries must be an integer/);
    expect(() => createMemo({ maxEntries: 10, maxBytes: 0 })).toThrow(/maxBytes/);
    expect(() => createMemo({ maxEntries: 10, sizeOf: 1 as never })).toThrow(/sizeOf/);
  });

  it('gets what was set, replaces, deletes and clears', () => {
    const memo = createMemo<string, number>({ maxEntries: 10 });
    expect(memo.get('a')).toBeUndefined();
    memo.set('a', 1);
    memo.set('a', 2);
    expect(memo.get('a')).toBe(2);
    expect(memo.size).toBe(1);
    expect(memo.delete('a')).toBe(true);
    expect(memo.delete('a')).toBe(false);
    memo.set('b', 3);
    memo.clear();
    expect(memo.get('b')).toBeUndefined();
    expect(memo.size).toBe(0);
  });

  it('never holds more than twice maxEntries, and keeps what is used', () => {
    const memo = createMemo<number, number>({ maxEntries: 100 });
    memo.set(-1, -1);
    for (let i = 0; i < 10_000; i++) {
      memo.set(i, i);
      // Used all along: promoted at each rotation, never dropped.
      expect(memo.get(-1)).toBe(-1);
      expect(memo.size).toBeLessThanOrEqual(200);
    }
    // The most recent entries are all there; the oldest unused ones are gone.
    for (let i = 9_950; i < 10_000; i++) expect(memo.get(i)).toBe(i);
    expect(memo.get(0)).toBeUndefined();
  });

  it('is bounded by bytes as counted by sizeOf', () => {
    const memo = createMemo<string, string>({
      maxEntries: 1_000_000,
      maxBytes: 10_000,
      sizeOf: (k, v) => k.length + v.length,
    });
    for (let i = 0; i < 1_000; i++) memo.set(`key-${i}`, 'v'.repeat(100));
    // About 100 entries fit in a generation of 10 000 bytes: at most twice that is kept.
    expect(memo.size).toBeLessThanOrEqual(2 * Math.ceil(10_000 / 107) + 2);
    expect(memo.get('key-999')).toBe('v'.repeat(100));
    expect(memo.get('key-0')).toBeUndefined();
  });
});
