import { ConfigurationError } from '../errors/agent-id-error.js';
import { describe, expect, it } from 'vitest';
import { MalformedResponseError, TokenPolicyError } from '../errors/agent-id-error.js';
import { createLifetimePolicy } from './lifetime-policy.js';

const T0 = 1_800_000_000_000;

describe('createLifetimePolicy: validation', () => {
  it('has the documented defaults', () => {
    expect(createLifetimePolicy()).toMatchObject({
      maxLifetimeSec: 3600,
      minRemainingSec: 300,
      clockSkewSec: 60,
      refreshAheadFraction: 0.5,
    });
  });

  const bad: Array<[object, RegExp]> = [
    [{ maxLifetimeSec: 0 }, /maxLifetimeSec/],
    [{ maxLifetimeSec: Infinity }, /maxLifetimeSec/],
    [{ minRemainingSec: -1 }, /minRemainingSec/],
    [{ clockSkewSec: 'x' }, /clockSkewSec/],
    [{ refreshAheadFraction: 1.5 }, /refreshAheadFraction/],
    [{ refreshAheadFraction: -0.1 }, /refreshAheadFraction/],
    [{ maxLifetimeSec: 300, minRemainingSec: 240, clockSkewSec: 60 }, /maxLifetimeSec \(300\) must exceed/],
  ];
  it.each(bad)('rejects %j with a ConfigurationError naming the option', (options, message) => {
    expect(() => createLifetimePolicy(options as never)).toThrow(ConfigurationError);
    expect(() => createLifetimePolicy(options as never)).toThrow(message);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(createLifetimePolicy())).toBe(true);
  });
});

describe('compute', () => {
  const policy = createLifetimePolicy();

  it('defaults: a 3600 s token is usable for 3240 s and refreshed from 1620 s', () => {
    expect(policy.compute({ issuedAt: T0, expiresInSec: 3600 })).toEqual({
      expiresOn: T0 + 3_600_000,
      usableUntil: T0 + 3_240_000,
      refreshOn: T0 + 1_620_000,
    });
  });

  it('caps a long-lived (CAE) token at maxLifetime', () => {
    const t = policy.compute({ issuedAt: T0, expiresInSec: 86_400 });
    expect(t.expiresOn).toBe(T0 + 3_600_000);
    expect(t.usableUntil).toBe(T0 + 3_240_000);
  });

  it('uses refresh_in when it falls before usableUntil', () => {
    expect(policy.compute({ issuedAt: T0, expiresInSec: 3600, refreshInSec: 1800 }).refreshOn).toBe(
      T0 + 1_800_000,
    );
    expect(policy.compute({ issuedAt: T0, expiresInSec: 3600, refreshInSec: 0 }).refreshOn).toBe(T0);
    expect(policy.compute({ issuedAt: T0, expiresInSec: 3600, refreshInSec: -5 }).refreshOn).toBe(T0);
  });

  it('ignores refresh_in at or past usableUntil (falls back to the fraction)', () => {
    expect(policy.compute({ issuedAt: T0, expiresInSec: 3600, refreshInSec: 3240 }).refreshOn).toBe(
      T0 + 1_620_000,
    );
    expect(policy.compute({ issuedAt: T0, expiresInSec: 3600, refreshInSec: 5000 }).refreshOn).toBe(
      T0 + 1_620_000,
    );
  });

  it('keeps refreshOn <= usableUntil < expiresOn for many shapes', () => {
    for (const fraction of [0, 0.25, 0.5, 0.9, 1]) {
      const p = createLifetimePolicy({ refreshAheadFraction: fraction, maxLifetimeSec: 7200 });
      for (const expiresInSec of [361, 600, 3599, 5000, 90_000]) {
        for (const refreshInSec of [undefined, 0, 100, 1000, 10_000]) {
          const t = p.compute({ issuedAt: T0, expiresInSec, refreshInSec });
          expect(t.refreshOn).toBeGreaterThanOrEqual(T0);
          expect(t.refreshOn).toBeLessThanOrEqual(t.usableUntil);
          expect(t.usableUntil).toBeGreaterThan(T0);
          expect(t.usableUntil).toBeLessThan(t.expiresOn);
        }
      }
    }
  });

  it('fraction 1 disables refresh-ahead, 0 refreshes at once', () => {
    expect(
      createLifetimePolicy({ refreshAheadFraction: 1 }).compute({ issuedAt: T0, expiresInSec: 3600 })
        .refreshOn,
    ).toBe(T0 + 3_240_000);
    expect(
      createLifetimePolicy({ refreshAheadFraction: 0 }).compute({ issuedAt: T0, expiresInSec: 3600 })
        .refreshOn,
    ).toBe(T0);
  });

  it('rejects a token that lives no longer than minRemaining + skew', () => {
    expect(() => policy.compute({ issuedAt: T0, expiresInSec: 360 })).toThrow(TokenPolicyError);
    expect(() => policy.compute({ issuedAt: T0, expiresInSec: 100 })).toThrow(/lives 100 s/);
    const e = (() => {
      try {
        policy.compute({ issuedAt: T0, expiresInSec: 0 });
      } catch (err) {
        return err as TokenPolicyError;
      }
      throw new Error('no throw');
    })();
    expect(e.code).toBe('AGENTID_TOKEN_LIFETIME');
    expect(policy.compute({ issuedAt: T0, expiresInSec: 361 }).usableUntil).toBe(T0 + 1000);
  });

  it('treats a non-numeric expires_in as a malformed response', () => {
    expect(() => policy.compute({ issuedAt: T0, expiresInSec: '3600' as unknown as number })).toThrow(
      MalformedResponseError,
    );
    expect(() => policy.compute({ issuedAt: T0, expiresInSec: NaN })).toThrow(MalformedResponseError);
  });

  it('respects custom margins', () => {
    const p = createLifetimePolicy({ minRemainingSec: 0, clockSkewSec: 0, refreshAheadFraction: 0.8 });
    expect(p.compute({ issuedAt: T0, expiresInSec: 100 })).toEqual({
      expiresOn: T0 + 100_000,
      usableUntil: T0 + 100_000,
      refreshOn: T0 + 80_000,
    });
  });
});
