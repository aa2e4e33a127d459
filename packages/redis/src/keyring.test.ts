import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCircuitBreaker } from './breaker.js';
import { createKeyring, keyNamer } from './keyring.js';

const k1 = randomBytes(32);
const k2 = randomBytes(32);

describe('createKeyring', () => {
  it('seals with the current key and opens what it sealed, bound to the key name', () => {
    const ring = createKeyring({ currentKeyId: 'k1', keys: { k1 } });
    const sealed = ring.seal('{"token":"secret-token"}', 'ns:{a}:t');
    expect(sealed.startsWith('v1.k1.')).toBe(true);
    expect(sealed).not.toContain('secret-token');
    expect(ring.open(sealed, 'ns:{a}:t')).toEqual({
      ok: true,
      plaintext: '{"token":"secret-token"}',
      keyId: 'k1',
    });
    // Copied under another key name: the AAD no longer matches.
    expect(ring.open(sealed, 'ns:{b}:t')).toEqual({ ok: false, reason: 'tampered' });
    // Two seals of the same text differ (random IV).
    expect(ring.seal('x', 'n')).not.toBe(ring.seal('x', 'n'));
  });

  it('rotates: entries of a previous key still open; new ones use the new key; a dropped key is unknown', () => {
    const old = createKeyring({ currentKeyId: 'k1', keys: { k1 } });
    const sealedOld = old.seal('old', 'n');
    const rotated = createKeyring({ currentKeyId: 'k2', keys: { k2, k1: k1.toString('base64') } });
    expect(rotated.open(sealedOld, 'n')).toMatchObject({ ok: true, plaintext: 'old', keyId: 'k1' });
    expect(rotated.seal('new', 'n').startsWith('v1.k2.')).toBe(true);
    const dropped = createKeyring({ currentKeyId: 'k2', keys: { k2: k2.toString('base64url') } });
    expect(dropped.open(sealedOld, 'n')).toEqual({ ok: false, reason: 'unknown-key' });
  });

  it('rejects tampered, truncated and foreign values without throwing', () => {
    const ring = createKeyring({ currentKeyId: 'k1', keys: { k1 } });
    const sealed = ring.seal('{"a":1}', 'n');
    const parts = sealed.split('.');
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    expect(ring.open([parts[0], parts[1], parts[2], flip(parts[3]!), parts[4]].join('.'), 'n')).toEqual({
      ok: false,
      reason: 'tampered',
    });
    expect(ring.open([parts[0], parts[1], parts[2], parts[3], flip(parts[4]!)].join('.'), 'n')).toEqual({
      ok: false,
      reason: 'tampered',
    });
    for (const bad of [
      '',
      'plain json',
      '{"token":"x"}',
      'v2.k1.a.b.c',
      'v1.k1.short.b.c',
      sealed.slice(0, -3),
    ]) {
      expect(ring.open(bad, 'n').ok).toBe(false);
    }
    expect(ring.open(undefined as unknown as string, 'n')).toEqual({ ok: false, reason: 'format' });
  });

  it('validates its configuration with errors that name the key id, never the key', () => {
    const secret = randomBytes(16).toString('base64');
    const err = (() => {
      try {
        createKeyring({ currentKeyId: 'short', keys: { short: secret } });
      } catch (e) {
        return e as Error & { code?: string };
      }
      return undefined;
    })();
    expect(err?.message).toMatch(/'short' must be 32 bytes/);
    expect(err?.message).not.toContain(secret);
    expect(err?.code).toBe('AGENTID_INVALID_OPTIONS');
    expect(() => createKeyring({ currentKeyId: 'k9', keys: { k1 } })).toThrow(
      /currentKeyId must name one of the keys \(k1\)/,
    );
    expect(() => createKeyring({ currentKeyId: 'a b', keys: { 'a b': k1 } })).toThrow(/key id/);
    expect(() => createKeyring({ currentKeyId: 'k1', keys: { k1: 'not base64!' } })).toThrow(/base64/);
    expect(() => createKeyring(undefined as never)).toThrow(/encryption/);
    expect(() => createKeyring({ currentKeyId: 'k1', keys: { k1: 42 as never } })).toThrow(/32 bytes/);
  });
});

describe('keyNamer', () => {
  it('hashes the cache key (no tenant, user or scope in clear), namespaces it and keeps one cluster slot per key', () => {
    const name = keyNamer('svc');
    const cacheKey =
      'v1|tenant-1|client-1|obo|user:7d6a1c2e-1111-4e2b-9b57-2f0c1d1a0b9e|api://tools/Mail.Read';
    const entry = name(cacheKey, 'entry');
    expect(entry).toMatch(/^svc:\{[A-Za-z0-9_-]{43}\}:t$/);
    for (const part of ['tenant-1', '7d6a1c2e', 'Mail.Read', 'user']) expect(entry).not.toContain(part);
    const tag = entry.slice(entry.indexOf('{'), entry.indexOf('}') + 1);
    expect(name(cacheKey, 'lock')).toBe(`svc:${tag}:lock`);
    expect(name(cacheKey, 'fence')).toBe(`svc:${tag}:fence`);
    // Another namespace or secret gives other names.
    expect(keyNamer('other')(cacheKey, 'entry').slice(6)).not.toBe(entry.slice(4));
    expect(keyNamer('svc', 's3cret')(cacheKey, 'entry')).not.toBe(entry);
  });
});

describe('createCircuitBreaker', () => {
  it('opens after N consecutive failures, lets one trial through after the cooldown, and closes on success', () => {
    let t = 0;
    const changes: string[] = [];
    const b = createCircuitBreaker({ failureThreshold: 3, cooldownMs: 100 }, { now: () => t }, (s, p) =>
      changes.push(`${p}->${s}`),
    );
    b.failure();
    b.failure();
    b.success(); // resets the count
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    b.failure();
    expect(b.state).toBe('open');
    expect(b.allow()).toBe(false);
    t = 100;
    expect(b.allow()).toBe(true); // the trial
    expect(b.state).toBe('half-open');
    expect(b.allow()).toBe(false); // only one trial at a time
    b.failure();
    expect(b.state).toBe('open');
    t = 150;
    expect(b.allow()).toBe(false);
    t = 200;
    expect(b.allow()).toBe(true);
    b.success();
    expect(b.state).toBe('closed');
    expect(b.allow()).toBe(true);
    expect(changes).toEqual([
      'closed->open',
      'open->half-open',
      'half-open->open',
      'open->half-open',
      'half-open->closed',
    ]);
  });
});
