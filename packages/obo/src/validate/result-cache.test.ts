import { describe, expect, it } from 'vitest';
import type { Principal } from './principal.js';
import { createResultCache, type ValidatedEntry } from './result-cache.js';

const entry = (token: string): ValidatedEntry => ({
  token,
  principal: { oid: token.slice(0, 8) } as Principal,
  expMs: Infinity,
  nbfMs: -Infinity,
  scopes: new Set(),
  roles: new Set(),
});
const tok = (payload: string, sig = 's'.repeat(342)) => `eyJhbGciOiJSUzI1NiJ9.${payload}.${sig}`;

describe('createResultCache', () => {
  it('answers only for the identical token, whatever string object carries it', () => {
    const c = createResultCache(10);
    const t = tok('eyJhIjoxfQ');
    const e = entry(t);
    c.set(e);
    expect(c.get(t)).toBe(e);
    expect(c.get(Buffer.from(t).toString())).toBe(e);
    expect(c.get(tok('eyJiIjoxfQ'))).toBeUndefined(); // same index (signature), another payload
    expect(c.get(t.slice(1))).toBeUndefined();
    c.delete(tok('eyJiIjoxfQ')); // not the cached token: nothing is deleted
    expect(c.get(t)).toBe(e);
    c.delete(t);
    expect(c.get(t)).toBeUndefined();
  });

  it('holds at most maxEntries, drops the unused first, and keeps a token in use', () => {
    const c = createResultCache(4);
    const hot = tok('eyJob3QiOjF9');
    c.set(entry(hot));
    const others = Array.from({ length: 20 }, (_, i) => tok('eyJ9', String(i).padStart(342, 'x')));
    for (const t of others) {
      c.set(entry(t));
      expect(c.get(hot)?.token).toBe(hot);
    }
    expect(others.filter((t) => c.get(t) !== undefined).length).toBeLessThanOrEqual(3);
    expect(c.get(others[0]!)).toBeUndefined();
    expect(c.get(others[19]!)?.token).toBe(others[19]);
  });
});
