import { describe, expect, it } from 'vitest';
import { createManualClock } from '../util/clock.js';
import { createMemoryL2, type L2Entry } from './l2.js';
import { createSingleFlight } from './single-flight.js';

const data = (token = 'tok'): L2Entry => ({
  token,
  expiresOn: 1000,
  usableUntil: 900,
  refreshOn: 500,
  meta: { scopes: ['s'] },
});

describe('createMemoryL2', () => {
  it('stores JSON copies with a TTL on the injected clock', async () => {
    const clock = createManualClock(0);
    const l2 = createMemoryL2({ clock });
    const d = data();
    await l2.set('k', d, 100);
    const got = await l2.get('k');
    expect(got).toEqual(d);
    expect(got).not.toBe(d);
    clock.set(100);
    expect(await l2.get('k')).toBeUndefined();
    expect(l2.size).toBe(0);
    await l2.set('z', d, 0);
    expect(await l2.get('z')).toBeUndefined();
    await l2.set('d', d, 10);
    await l2.delete('d');
    expect(await l2.get('d')).toBeUndefined();
  });

  it('grants one lease at a time with increasing fencing tokens', async () => {
    const clock = createManualClock(0);
    const l2 = createMemoryL2({ clock });
    const a = await l2.lock!('k', 1000);
    expect(a?.fencingToken).toBe(1);
    expect(await l2.lock!('k', 1000)).toBeUndefined();
    expect(await l2.lock!('other', 1000)).toBeDefined();
    await a!.release();
    const b = await l2.lock!('k', 1000);
    expect(b!.fencingToken).toBeGreaterThan(a!.fencingToken);
    // A lapsed holder cannot release the lock a newer holder has.
    clock.advance(1000);
    const c = await l2.lock!('k', 1000);
    expect(c).toBeDefined();
    await b!.release();
    expect(await l2.lock!('k', 1000)).toBeUndefined();
    await c!.release();
    expect(await l2.lock!('k', 1000)).toBeDefined();
  });
});

describe('createSingleFlight', () => {
  it('runs fn once per key while in flight, then frees the key', async () => {
    const flights = createSingleFlight<string, number>();
    let calls = 0;
    let release!: (n: number) => void;
    const fn = () => {
      calls++;
      return new Promise<number>((r) => (release = r));
    };
    const a = flights.run('k', fn);
    const b = flights.run('k', fn);
    const other = flights.run('j', async () => 7);
    expect(a.shared).toBe(false);
    expect(b.shared).toBe(true);
    expect(b.promise).toBe(a.promise);
    expect(flights.has('k')).toBe(true);
    expect(flights.size).toBe(2);
    release(42);
    expect(await a.promise).toBe(42);
    expect(await other.promise).toBe(7);
    expect(calls).toBe(1);
    expect(flights.has('k')).toBe(false);
    const c = flights.run('k', fn);
    expect(c.shared).toBe(false);
    release(1);
    await c.promise;
    expect(calls).toBe(2);
  });

  it('shares failures and does not cache them; sync throws become rejections', async () => {
    const flights = createSingleFlight<string, number>();
    const a = flights.run('k', () => {
      throw new Error('boom');
    });
    const b = flights.run('k', async () => 1);
    await expect(a.promise).rejects.toThrow('boom');
    await expect(b.promise).rejects.toThrow('boom');
    await Promise.resolve();
    expect(flights.has('k')).toBe(false);
    await expect(flights.run('k', async () => 2).promise).resolves.toBe(2);
  });
});
