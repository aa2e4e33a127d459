import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { createBlueprint, secretCredential, TokenValidationError } from '@agentid/core';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import fc from 'fast-check';
import { exportJWK, importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badTokenCases } from '../../../../test/support/attacks.js';
import {
  createTokenValidator,
  parseAuthorizationHeader,
  validatorForBlueprint,
  type TokenValidator,
} from '../index.js';

const O = DEMO.blueprints.orchestrator;
const SCOPE = `api://${O.appId}/access_agent`;
let emu: Emulator;
let validator: TokenValidator;
let jwksCalls = 0;

beforeAll(async () => {
  emu = await createEmulator();
  const countingFetch: typeof fetch = (url, init) => {
    if (String(url).includes('/discovery/v2.0/keys')) jwksCalls++;
    return emu.fetch(url, init);
  };
  validator = createTokenValidator({
    tenantId: DEMO.tenantId,
    audiences: [O.appId, `api://${O.appId}`],
    authorityHost: emu.baseUrl,
    jwks: { fetch: countingFetch, cooldownMs: 0 },
  });
});
afterAll(() => emu.close());

const userToken = (
  extra: Record<string, unknown> = {},
  o: { lifetimeSec?: number; user?: string; scopes?: string[] } = {},
) =>
  emu.issueUserToken({
    user: o.user ?? DEMO.users.alice.upn,
    clientId: DEMO.chatApp.appId,
    scopes: o.scopes ?? [SCOPE],
    extraClaims: extra,
    ...(o.lifetimeSec ? { lifetimeSec: o.lifetimeSec } : {}),
  });

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    expect(e).toBeInstanceOf(TokenValidationError);
    return (e as TokenValidationError).code;
  }
};

describe('createTokenValidator', () => {
  it("accepts a user's token for the blueprint and returns a typed principal", async () => {
    const p = await validator.validate(await userToken());
    expect(p).toMatchObject({
      oid: DEMO.users.alice.id,
      tid: DEMO.tenantId,
      upn: DEMO.users.alice.upn,
      idtyp: 'user',
      azp: DEMO.chatApp.appId,
      scopes: ['access_agent'],
      roles: [],
      audience: O.appId,
    });
    expect(p.expiresOn.getTime()).toBeGreaterThan(Date.now());
    expect(Object.isFrozen(p)).toBe(true);
  });

  it('validates through validatorForBlueprint with the blueprint settings', async () => {
    const bp = createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: O.appId,
      credential: secretCredential(O.secret, { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: emu.fetch },
    });
    const p = await validatorForBlueprint(bp).validate(await userToken());
    expect(p.oid).toBe(DEMO.users.alice.id);
  });

  it('rejects every bad token with its code', async () => {
    const cases = [
      ...(await badTokenCases(emu, O.appId, SCOPE)),
      ['empty', '', 'AGENTID_UNAUTHENTICATED'] as const,
    ];
    for (const [name, token, code] of cases) {
      expect(await codeOf(validator.validate(token)), name).toBe(code);
    }
  });

  it('reloads the JWKS once for a new kid after key rotation, within the cooldown rules', async () => {
    await validator.validate(await userToken());
    const before = jwksCalls;
    await emu.rotateKeys();
    const p = await validator.validate(await userToken());
    expect(p.oid).toBe(DEMO.users.alice.id);
    expect(jwksCalls).toBe(before + 1);
    // Concurrent validations of tokens with the same new kid share one reload (single-flight).
    await emu.rotateKeys();
    const tokens = await Promise.all(Array.from({ length: 20 }, () => userToken()));
    const mid = jwksCalls;
    await Promise.all(tokens.map((t) => validator.validate(t)));
    expect(jwksCalls).toBe(mid + 1);
  });

  it('answers AGENTID_JWKS when the keys cannot be fetched, and honours the cooldown for unknown kids', async () => {
    const failing = createTokenValidator({
      tenantId: DEMO.tenantId,
      audiences: [O.appId],
      authorityHost: emu.baseUrl,
      jwks: { fetch: async () => new Response('nope', { status: 503 }) },
    });
    expect(await codeOf(failing.validate(await userToken()))).toBe('AGENTID_JWKS');
    let calls = 0;
    const slow = createTokenValidator({
      tenantId: DEMO.tenantId,
      audiences: [O.appId],
      authorityHost: emu.baseUrl,
      jwks: { cooldownMs: 60_000, fetch: (u, i) => (calls++, emu.fetch(u, i)) },
    });
    await slow.validate(await userToken());
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const k = await importJWK(await exportJWK(privateKey), 'RS256');
    for (let i = 0; i < 5; i++) {
      const t = await new SignJWT({ tid: DEMO.tenantId, oid: 'x' })
        .setProtectedHeader({ alg: 'RS256', kid: `attacker-${i}` })
        .sign(k);
      expect(await codeOf(slow.validate(t))).toBe('AGENTID_TOKEN_SIGNATURE');
    }
    expect(calls).toBe(1); // unknown kids inside the cooldown cause no refetch storm
  });

  it('remembers a validated token until it expires, and re-checks scopes and expiry on every hit', async () => {
    let now = Date.now();
    const v = createTokenValidator({
      tenantId: DEMO.tenantId,
      audiences: [O.appId],
      authorityHost: emu.baseUrl,
      clock: { now: () => now },
      jwks: { fetch: emu.fetch },
    });
    const t = await userToken();
    const first = await v.validate(t);
    expect(await v.validate(t)).toBe(first);
    expect(await codeOf(v.validate(t, { requiredScopes: ['Mail.Send'] }))).toBe('AGENTID_INSUFFICIENT_SCOPE');
    now += 3600_000 + 301_000;
    expect(await codeOf(v.validate(t))).toBe('AGENTID_TOKEN_EXPIRED');
  });

  it('re-checks nbf on every hit: a cached token is refused when the clock is before its validity', async () => {
    let now = Date.now();
    const v = createTokenValidator({
      tenantId: DEMO.tenantId,
      audiences: [O.appId],
      authorityHost: emu.baseUrl,
      clock: { now: () => now },
      jwks: { fetch: emu.fetch },
    });
    const t = await userToken();
    await v.validate(t);
    now -= 3600_000; // an injected clock set back an hour (more than the 300 s skew)
    expect(await codeOf(v.validate(t))).toBe('AGENTID_TOKEN_NOT_YET_VALID');
    now += 3600_000;
    expect((await v.validate(t)).oid).toBe(DEMO.users.alice.id);
  });

  it('serves a cached result only for the identical token: a token sharing its signature but not its payload is verified and refused', async () => {
    const v = createTokenValidator({
      tenantId: DEMO.tenantId,
      audiences: [O.appId],
      authorityHost: emu.baseUrl,
      jwks: { fetch: emu.fetch },
    });
    const t = await userToken();
    const first = await v.validate(t);
    const [h, p, s] = t.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    // Same header and signature (so the same last characters), another user in the payload.
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, oid: DEMO.users.bob.id })).toString('base64url')}.${s}`;
    expect(forged.slice(-64)).toBe(t.slice(-64));
    expect(await codeOf(v.validate(forged))).toBe('AGENTID_TOKEN_SIGNATURE');
    // A copy of the token (another string, same characters) is the same token.
    const copy = Buffer.from(t).toString();
    expect(await v.validate(copy)).toBe(first);
    // And the forgery did not displace or alter the cached result.
    expect(await v.validate(t)).toBe(first);
  });

  it('re-checks the per-call scopes and roles on every hit, case-insensitively', async () => {
    const v = createTokenValidator({
      tenantId: DEMO.tenantId,
      audiences: [O.appId],
      authorityHost: emu.baseUrl,
      jwks: { fetch: emu.fetch },
      requiredScopes: ['ACCESS_AGENT'],
    });
    const t = await userToken();
    expect((await v.validate(t)).scopes).toEqual(['access_agent']);
    expect((await v.validate(t)).oid).toBe(DEMO.users.alice.id);
    expect(await codeOf(v.validate(t, { requiredScopes: ['Mail.Send'] }))).toBe('AGENTID_INSUFFICIENT_SCOPE');
    expect((await v.validate(t, { requiredScopes: ['Mail.Send', 'Access_Agent'] })).oid).toBe(
      DEMO.users.alice.id,
    );
    expect((await v.validate(t, { requiredScopes: [] })).oid).toBe(DEMO.users.alice.id);
  });

  it('refuses unsafe options up front', () => {
    expect(() => createTokenValidator({ tenantId: DEMO.tenantId, audiences: [] })).toThrow(/audiences/);
    expect(() =>
      createTokenValidator({ tenantId: DEMO.tenantId, audiences: ['x'], allowedAlgorithms: ['HS256'] }),
    ).toThrow(/HS256/);
    expect(() =>
      createTokenValidator({ tenantId: DEMO.tenantId, audiences: ['x'], allowedAlgorithms: ['none'] }),
    ).toThrow(/none/);
    expect(() => createTokenValidator({ tenantId: '', audiences: ['x'] })).toThrow(/tenantId/);
  });

  it('never puts the token in an error message or inspect output', async () => {
    const t = await userToken({ aud: 'someone-else' });
    try {
      await validator.validate(t);
      expect.unreachable();
    } catch (e) {
      expect(String((e as Error).message)).not.toContain(t.split('.')[1]);
      expect(inspect(e, { depth: 5 })).not.toContain(t.split('.')[1]);
      expect(JSON.stringify(e)).not.toContain(t.split('.')[1]);
    }
  });

  it('survives fuzzed token strings without crashing (typed errors only)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.stringMatching(/^[A-Za-z0-9_-]{0,40}\.[A-Za-z0-9_-]{0,80}\.[A-Za-z0-9_-]{0,40}$/),
        ),
        async (s) => {
          const code = await codeOf(validator.validate(s));
          expect(code).toMatch(/^AGENTID_/);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('parseAuthorizationHeader', () => {
  it('extracts a bearer token and refuses everything else', () => {
    expect(parseAuthorizationHeader('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(parseAuthorizationHeader('bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(parseAuthorizationHeader(['Bearer abc.def.ghi'])).toBe('abc.def.ghi');
    for (const bad of [
      undefined,
      '',
      'Basic dXNlcjpwYXNz',
      'Bearer',
      'Bearer ',
      'Bearer a b',
      'Bearer a,Bearer b',
      ['Bearer a', 'Bearer b'],
      `Bearer ${'a'.repeat(20_000)}`,
      'Bearer <script>',
    ]) {
      expect(() => parseAuthorizationHeader(bad as string), JSON.stringify(bad)?.slice(0, 40)).toThrow(
        expect.objectContaining({ code: 'AGENTID_UNAUTHENTICATED' }),
      );
    }
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          parseAuthorizationHeader(s);
        } catch (e) {
          expect((e as TokenValidationError).code).toBe('AGENTID_UNAUTHENTICATED');
        }
      }),
    );
  });
});
