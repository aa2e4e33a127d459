import { describe, expect, it } from 'vitest';
import { cacheTags, canonicalJson, hashAssertion, normalizeScopes, tokenCacheKey } from './key.js';

const USER_JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl';
const base = { tenantId: 'T1', clientId: 'Agent-1', flow: 'obo', scopes: ['User.Read'] };

describe('hashAssertion', () => {
  it('is a stable base64url SHA-256 that hides the assertion', () => {
    const h = hashAssertion(USER_JWT);
    expect(h).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hashAssertion(USER_JWT)).toBe(h);
    expect(hashAssertion(`${USER_JWT}x`)).not.toBe(h);
    expect(() => hashAssertion('')).toThrow(TypeError);
  });
});

describe('tokenCacheKey', () => {
  it('is stable under scope order, case and duplicates', () => {
    const a = tokenCacheKey({ ...base, scopes: ['User.Read', 'Mail.Send', 'user.read'] });
    const b = tokenCacheKey({ ...base, scopes: [' mail.send', 'USER.READ'] });
    expect(a).toBe(b);
    expect(normalizeScopes(['b', 'A', 'a', ' '])).toEqual(['a', 'b']);
  });

  it('differs for every part that changes the token', () => {
    const k = tokenCacheKey(base);
    const variants = [
      { ...base, tenantId: 'T2' },
      { ...base, clientId: 'agent-2' },
      { ...base, flow: 'autonomous' },
      { ...base, subject: 'user-1' },
      { ...base, assertionHash: hashAssertion(USER_JWT) },
      { ...base, scopes: ['Mail.Send'] },
      { ...base, claims: '{"access_token":{"xms_cc":{"values":["cp1"]}}}' },
      { ...base, extra: { fmiPath: 'agent-9' } },
    ];
    const keys = new Set([k, ...variants.map(tokenCacheKey)]);
    expect(keys.size).toBe(variants.length + 1);
  });

  it('canonicalises claims (key order, string or object) and ignores empty claims', () => {
    const a = tokenCacheKey({
      ...base,
      claims: '{"access_token":{"xms_cc":{"values":["cp1"]},"nbf":{"essential":true}}}',
    });
    const b = tokenCacheKey({
      ...base,
      claims: { access_token: { nbf: { essential: true }, xms_cc: { values: ['cp1'] } } },
    });
    expect(a).toBe(b);
    expect(tokenCacheKey({ ...base, claims: '' })).toBe(tokenCacheKey(base));
    expect(tokenCacheKey({ ...base, claims: 'not json' })).not.toBe(tokenCacheKey(base));
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[{"c":2,"d":1}]}');
  });

  it('sorts extra and drops undefined values', () => {
    expect(tokenCacheKey({ ...base, extra: { b: '2', a: 1, c: undefined } })).toBe(
      tokenCacheKey({ ...base, extra: { a: '1', b: 2 } }),
    );
  });

  it('is case-insensitive for ids', () => {
    expect(tokenCacheKey({ ...base, tenantId: 't1', clientId: 'AGENT-1', subject: 'User@Contoso.com' })).toBe(
      tokenCacheKey({ ...base, subject: 'user@contoso.com' }),
    );
  });

  it('never contains a raw token and refuses one', () => {
    const key = tokenCacheKey({ ...base, assertionHash: hashAssertion(USER_JWT) });
    expect(key).not.toContain(USER_JWT);
    expect(key).not.toContain('eyJ');
    expect(() => tokenCacheKey({ ...base, assertionHash: USER_JWT })).toThrow(
      /assertionHash must be hashAssertion/,
    );
    expect(() => tokenCacheKey({ ...base, subject: USER_JWT })).toThrow(/subject looks like a token/);
    expect(() => tokenCacheKey({ ...base, extra: { a: USER_JWT } })).toThrow(
      /extra values look like a token/,
    );
  });

  it('cannot be forged through separators', () => {
    expect(tokenCacheKey({ ...base, subject: 'a","b' })).not.toBe(
      tokenCacheKey({ ...base, subject: 'a', flow: 'obo","b' }),
    );
  });

  it('validates required parts', () => {
    expect(() => tokenCacheKey({ ...base, tenantId: '' })).toThrow(/tenantId/);
    expect(() => tokenCacheKey({ ...base, clientId: undefined as unknown as string })).toThrow(/clientId/);
    expect(() => tokenCacheKey({ ...base, scopes: 'x' as unknown as string[] })).toThrow(/scopes/);
  });

  it('offers conventional tags', () => {
    expect(cacheTags.agent('ABC')).toBe('agent:abc');
    expect(cacheTags.user('U')).toBe('user:u');
    expect(cacheTags.tenant('T')).toBe('tenant:t');
    expect(cacheTags.blueprint('B')).toBe('blueprint:b');
    expect(cacheTags.client('C')).toBe('client:c');
  });
});
