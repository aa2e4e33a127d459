import { ConfigurationError } from '../errors/agent-id-error.js';
import { describe, expect, it } from 'vitest';
import { AbortError } from '../errors/agent-id-error.js';
import { abortErrorFrom, raceAbort, realSleep } from './abort.js';
import { createManualClock, systemClock } from './clock.js';
import { getHeader, parseRetryAfter } from './retry-after.js';
import { assertFunction, assertNumber, describe as describeValue } from './validate.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('Wed, 21 Oct 2026 07:27:00 GMT');
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('1', now)).toBe(1000);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
  });
  it('reads HTTP-dates relative to now, never negative', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:00:00 GMT', now)).toBe(0);
  });
  it('ignores garbage', () => {
    for (const v of [undefined, null, '', 'soon', '-1', '12abc'])
      expect(parseRetryAfter(v, now)).toBeUndefined();
  });
});

describe('getHeader', () => {
  it('is case-insensitive over records and Headers', () => {
    expect(getHeader({ 'Retry-After': '3' }, 'retry-after')).toBe('3');
    expect(getHeader({ 'retry-after': '4' }, 'Retry-After')).toBe('4');
    expect(getHeader(new Headers({ 'Retry-After': '5' }), 'retry-after')).toBe('5');
    expect(getHeader(undefined, 'x')).toBeUndefined();
    expect(getHeader({}, 'x')).toBeUndefined();
  });
});

describe('clocks', () => {
  it('manual clock advances and sets', () => {
    const c = createManualClock(10);
    c.advance(5);
    expect(c.now()).toBe(15);
    c.set(100);
    expect(c.now()).toBe(100);
  });
  it('system clock is Date.now', () => {
    expect(Math.abs(systemClock.now() - Date.now())).toBeLessThan(50);
  });
});

describe('abort helpers', () => {
  it('raceAbort resolves and rejects like the promise without a signal', async () => {
    await expect(raceAbort(Promise.resolve(1), undefined)).resolves.toBe(1);
    await expect(raceAbort(Promise.reject(new Error('x')), new AbortController().signal)).rejects.toThrow(
      'x',
    );
    await expect(raceAbort(Promise.resolve(2), new AbortController().signal)).resolves.toBe(2);
  });
  it('raceAbort rejects with AbortError when the signal fires, leaving the work alone', async () => {
    const ac = new AbortController();
    let resolveWork!: (v: number) => void;
    const work = new Promise<number>((r) => (resolveWork = r));
    const raced = raceAbort(work, ac.signal, 'The thing');
    ac.abort(new Error('stop'));
    const error = await raced.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as AbortError).code).toBe('AGENTID_ABORTED');
    expect((error as Error).message).toContain('The thing');
    expect(((error as Error).cause as Error).message).toBe('stop');
    resolveWork(3);
    await expect(work).resolves.toBe(3);
  });
  it('raceAbort rejects at once for an aborted signal and swallows the orphan rejection', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(raceAbort(Promise.reject(new Error('late')), ac.signal)).rejects.toBeInstanceOf(AbortError);
  });
  it('realSleep waits, and aborts early', async () => {
    const t0 = Date.now();
    await realSleep(10);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(8);
    const ac = new AbortController();
    const p = realSleep(10_000, ac.signal);
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(AbortError);
    await expect(realSleep(1, ac.signal)).rejects.toBeInstanceOf(AbortError);
  });
  it('abortErrorFrom keeps the reason', () => {
    const ac = new AbortController();
    ac.abort('why');
    expect(abortErrorFrom(ac.signal).cause).toBe('why');
  });
});

describe('validators', () => {
  it('name the option', () => {
    expect(() => assertNumber('timeoutMs', 'x')).toThrow(/timeoutMs must be a finite number, got a string/);
    expect(() => assertNumber('timeoutMs', NaN)).toThrow(ConfigurationError);
    expect(() => assertNumber('retries', 1.5, { integer: true })).toThrow(/retries must be an integer/);
    expect(() => assertNumber('retries', -1, { min: 0 })).toThrow(/retries must be >= 0/);
    expect(() => assertNumber('f', 2, { max: 1 })).toThrow(/f must be <= 1/);
    expect(() => assertFunction('fetch', 1)).toThrow(/fetch must be a function, got 1/);
    expect(() => assertFunction('fetch', undefined, true)).not.toThrow();
    expect(describeValue(null)).toBe('null');
    expect(describeValue({})).toBe('object');
  });
});
