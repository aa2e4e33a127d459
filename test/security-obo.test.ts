// Hostile inbound cases for @agentid/obo: JWKS floods from tokens naming random tenants, an
// unreachable JWKS, app-only tokens granting nothing, tokens issued in the future, validations
// cached under a withdrawn key, a refused blueprint credential during OBO, case-variant actors in the
// delegation chain and a dropped chain header. Real emulator tokens; forgeries signed with jose.
import { createHash, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import {
  createBlueprint,
  decodeJwtClaims,
  DelegationError,
  isAgentIdError,
  secretCredential,
  type Blueprint,
} from '@agentid/core';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import {
  appendActor,
  createDelegationCodec,
  createTokenValidator,
  onBehalfOf,
  validatorForBlueprint,
  type Principal,
} from '@agentid/obo';
import { exportJWK, importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const O = DEMO.blueprints.orchestrator;
const W = DEMO.blueprints.workers;
const SCOPE = `api://${O.appId}/access_agent`;
let emu: Emulator;

beforeAll(async () => {
  emu = await createEmulator();
});
afterAll(() => emu.close());

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return isAgentIdError(e) ? e.code : `untyped: ${String(e)}`;
  }
};
const userToken = (extra: Record<string, unknown> = {}) =>
  emu.issueUserToken({
    user: DEMO.users.alice.upn,
    clientId: DEMO.chatApp.appId,
    scopes: [SCOPE],
    extraClaims: extra,
  });
/** A fetch that counts the JWKS requests it forwards to the emulator. */
const countingJwks = (inner: typeof fetch = emu.fetch): { calls: number; fetch: typeof fetch } => {
  const counter: { calls: number; fetch: typeof fetch } = {
    calls: 0,
    fetch: (url, init) => {
      if (String(url).includes('/discovery/')) counter.calls++;
      return inner(url, init);
    },
  };
  return counter;
};

describe('JWKS: one key set per authority, failures cached (item 14)', () => {
  it("1,000 tokens naming random tenants cost at most 2 JWKS fetches, and the home tenant's keys stay", async () => {
    const jwks = countingJwks();
    const now = Date.now();
    const v = createTokenValidator({
      tenantId: DEMO.tenantId,
      audiences: [O.appId],
      authorityHost: emu.baseUrl,
      allowedTenants: '*',
      clock: { now: () => now },
      jwks: { fetch: jwks.fetch },
    });
    expect((await v.validate(await userToken())).oid).toBe(DEMO.users.alice.id);
    expect(jwks.calls).toBe(1);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const attacker = await importJWK(await exportJWK(privateKey), 'RS256');
    const t = Math.floor(now / 1000);
    const codes = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      const tid = randomUUID();
      // Half forged (random kid, the attacker's key), half real emulator tokens of other tenants.
      const token =
        i % 2 === 0
          ? await new SignJWT({
              tid,
              oid: randomUUID(),
              aud: O.appId,
              iss: `${emu.baseUrl}/${tid}/v2.0`,
              iat: t,
              exp: t + 600,
            })
              .setProtectedHeader({ alg: 'RS256', kid: randomBytes(8).toString('hex') })
              .sign(attacker)
          : await userToken({ tid, iss: `${emu.baseUrl}/${tid}/v2.0` });
      const code = await codeOf(v.validate(token));
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    expect(Object.fromEntries(codes)).toEqual({ AGENTID_TOKEN_SIGNATURE: 500, resolved: 500 });
    expect(jwks.calls).toBeLessThanOrEqual(2);
    const before = jwks.calls;
    // A new (uncached) token of the home tenant still validates, from the keys already held.
    expect((await v.validate(await userToken())).oid).toBe(DEMO.users.alice.id);
    expect(jwks.calls).toBe(before);
  });

  it('while the JWKS is down, many requests cost a bounded number of fetches, and it recovers after the failure period', async () => {
    let down = true;
    const jwks = countingJwks(async (url, init) =>
      down ? new Response('unavailable', { status: 503 }) : emu.fetch(url, init),
    );
    let now = Date.now();
    const v = createTokenValidator({
      tenantId: DEMO.tenantId,
      audiences: [O.appId],
      authorityHost: emu.baseUrl,
      allowedTenants: '*',
      clock: { now: () => now },
      jwks: { fetch: jwks.fetch },
    });
    const tokens = await Promise.all(Array.from({ length: 20 }, () => userToken()));
    // 100 concurrent requests share one fetch.
    const burst = await Promise.all(
      Array.from({ length: 100 }, (_, i) => codeOf(v.validate(tokens[i % tokens.length]!))),
    );
    expect(new Set(burst)).toEqual(new Set(['AGENTID_JWKS']));
    expect(jwks.calls).toBe(1);
    // 300 requests spread over 30 s (one each 100 ms): one fetch per failure period (10 s), not one each.
    for (let i = 0; i < 300; i++) {
      now += 100;
      expect(await codeOf(v.validate(tokens[i % tokens.length]!))).toBe('AGENTID_JWKS');
    }
    expect(jwks.calls).toBeLessThanOrEqual(5);
    down = false;
    now += 10_001;
    expect((await v.validate(tokens[0]!)).oid).toBe(DEMO.users.alice.id);
  });
});

describe('required scopes: [] is not "anything goes" (item 16)', () => {
  let bp: Blueprint;
  beforeAll(() => {
    bp = createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: W.appId,
      credential: secretCredential(W.secret, { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: emu.fetch },
    });
  });

  it('refuses an app-only token that carries no app role, accepts one with a role and a delegated token', async () => {
    const v = createTokenValidator({
      tenantId: DEMO.tenantId,
      audiences: [DEMO.resources.tools.appId],
      authorityHost: emu.baseUrl,
      requiredScopes: [],
      jwks: { fetch: emu.fetch },
    });
    // A real autonomous token with an app role (the reporter holds Tickets.ReadWrite.All on tools).
    const withRole = await bp.agent(DEMO.agents.reporter).getToken(['api://tools/.default']);
    expect(decodeJwtClaims(withRole.token)).toMatchObject({ idtyp: 'app', roles: ['Tickets.ReadWrite.All'] });
    expect((await v.validate(withRole.token)).oid).toBe(DEMO.agents.reporter);
    // The same API's app-only token with no role at all: signed by the emulator, valid in every other way.
    const bare = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      clientId: DEMO.agents.calendar,
      scopes: ['api://tools/Files.Read'],
      extraClaims: { idtyp: 'app', oid: DEMO.agents.calendar, scp: undefined, upn: undefined },
    });
    expect(decodeJwtClaims(bare)).not.toHaveProperty('scp');
    expect(await codeOf(v.validate(bare))).toBe('AGENTID_INSUFFICIENT_SCOPE');
    expect(await codeOf(v.validate(bare, { requiredScopes: [] }))).toBe('AGENTID_INSUFFICIENT_SCOPE');
    // With required roles, a role-less token is refused as before; a delegated token with a scope passes [].
    expect(await codeOf(v.validate(bare, { requiredRoles: ['Tickets.ReadWrite.All'] }))).toBe(
      'AGENTID_INSUFFICIENT_SCOPE',
    );
    const delegated = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      clientId: DEMO.agents.calendar,
      scopes: ['api://tools/Calendars.Read'],
    });
    expect((await v.validate(delegated)).scopes).toEqual(['Calendars.Read']);
  });
});

describe('token lifetime and withdrawn keys (item 18)', () => {
  it('refuses a token issued in the future (beyond the skew), which would escape maxTokenLifetimeSec', async () => {
    const v = createTokenValidator({
      tenantId: DEMO.tenantId,
      audiences: [O.appId],
      authorityHost: emu.baseUrl,
      maxTokenLifetimeSec: 3600,
      jwks: { fetch: emu.fetch },
    });
    const now = Math.floor(Date.now() / 1000);
    // Lives 30 days from now: exp - iat is only an hour because iat is set 29 days ahead.
    const future = await userToken({ iat: now + 29 * 86_400, nbf: undefined, exp: now + 30 * 86_400 });
    const e = await v.validate(future).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'AGENTID_TOKEN_NOT_YET_VALID' });
    expect(String((e as Error).message)).toMatch(/iat/);
    // Within the skew it is fine.
    expect((await v.validate(await userToken({ iat: now + 60 }))).oid).toBe(DEMO.users.alice.id);
  });

  it('stops serving a cached validation once a refreshed JWKS no longer lists its key', async () => {
    const own = await createEmulator();
    try {
      const jwks = countingJwks(own.fetch);
      let now = Date.now();
      const v = createTokenValidator({
        tenantId: DEMO.tenantId,
        audiences: [O.appId],
        authorityHost: own.baseUrl,
        clock: { now: () => now },
        jwks: { fetch: jwks.fetch, cooldownMs: 0 },
      });
      const mint = () =>
        own.issueUserToken({ user: DEMO.users.alice.upn, clientId: DEMO.chatApp.appId, scopes: [SCOPE] });
      const old = await mint();
      const first = await v.validate(old);
      expect(await v.validate(old)).toBe(first); // served from the cache
      await own.rotateKeys({ dropRetired: true }); // the old key is withdrawn
      expect(await v.validate(old)).toBe(first); // not known yet: the keys were not reloaded
      // A token with the new kid reloads the key set; the old token is then verified afresh and refused.
      expect((await v.validate(await mint())).oid).toBe(DEMO.users.alice.id);
      expect(await codeOf(v.validate(old))).toBe('AGENTID_TOKEN_SIGNATURE');

      // Without any new token: hits alone refresh keys older than cacheMaxAgeMs (in the background).
      const second = await mint();
      await v.validate(second);
      await own.rotateKeys({ dropRetired: true });
      now += 600_001;
      const calls = jwks.calls;
      await v.validate(second); // still served: the refresh it started is under way
      await expect.poll(() => jwks.calls).toBe(calls + 1);
      await expect.poll(() => codeOf(v.validate(second))).toBe('AGENTID_TOKEN_SIGNATURE');
    } finally {
      await own.close();
    }
  });
});

describe('onBehalfOf with a refused blueprint credential (item 17)', () => {
  it('sends leg 1 exactly once and surfaces the typed invalid-client error', async () => {
    const bad = createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: O.appId,
      credential: secretCredential('not-the-secret', { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: emu.fetch },
    });
    const tc = await userToken();
    const principal = await validatorForBlueprint(bad).validate(tc);
    emu.counters.reset();
    const e = await onBehalfOf(bad.agent(DEMO.agents.orchestrator), tc, ['api://tools/Files.Read'], {
      principal,
    }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'AGENTID_INVALID_CLIENT' });
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 1 });
  });
});

describe('delegation chain hardening (item 18)', () => {
  const secret = randomBytes(32);
  const codec = createDelegationCodec({ keys: [{ kid: 'fleet-1', secret }] });
  let bpO: Blueprint;
  let inbound: { token: string; principal: Principal };
  const hash = (t: string) => createHash('sha256').update(t).digest('base64url');
  /** A header signed with the fleet key by a hop that writes ids in its own case. */
  const header = ({ act, ...claims }: Record<string, unknown>) =>
    new SignJWT({
      iss: 'urn:agentid:chain',
      tid: DEMO.tenantId,
      ath: hash(inbound.token),
      // The ids as RFC 8693 nested actors (the last id outermost).
      act: (act as string[]).reduce<Record<string, unknown> | undefined>(
        (inner, sub) => ({
          sub,
          sub_profile: 'agent_identity',
          tid: DEMO.tenantId,
          ...(inner ? { act: inner } : {}),
        }),
        undefined,
      ),
      ...claims,
    })
      .setProtectedHeader({ alg: 'HS256', kid: 'fleet-1', typ: 'agentid-chain+jwt' })
      .setSubject(String(claims.sub ?? DEMO.users.alice.id))
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(secret);

  beforeAll(async () => {
    bpO = createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: O.appId,
      credential: secretCredential(O.secret, { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: emu.fetch },
    });
    const bpW = createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: W.appId,
      credential: secretCredential(W.secret, { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: emu.fetch },
    });
    // A real agent-made token: the orchestrator agent's OBO token for the workers' blueprint.
    const tc = await userToken();
    const onward = await onBehalfOf(
      bpO.agent(DEMO.agents.orchestrator),
      tc,
      [`api://${W.appId}/access_agent`],
      { principal: await validatorForBlueprint(bpO).validate(tc) },
    );
    inbound = { token: onward.token, principal: await validatorForBlueprint(bpW).validate(onward.token) };
    expect(inbound.principal).toMatchObject({ azp: DEMO.agents.orchestrator, actorFacets: [11] });
  });

  it('finds a cycle whatever the case of the agent ids', async () => {
    const mail = DEMO.agents.mail;
    // mail > orchestrator, with mail written in upper case upstream: mail may not act again.
    const ctx = await codec.decode(
      await header({ act: [mail.toUpperCase(), DEMO.agents.orchestrator] }),
      inbound.principal,
      inbound.token,
    );
    expect(ctx.actors).toEqual([mail, DEMO.agents.orchestrator]);
    expect(() => appendActor(ctx, mail)).toThrow(
      expect.objectContaining({ code: 'AGENTID_DELEGATION_CYCLE' }),
    );
    // A chain naming one agent twice in two cases is a cycle.
    expect(
      await codeOf(
        codec.decode(
          await header({ act: [DEMO.agents.orchestrator.toUpperCase(), mail, DEMO.agents.orchestrator] }),
          inbound.principal,
          inbound.token,
        ),
      ),
    ).toBe('AGENTID_DELEGATION_CYCLE');
    // A context built by hand with an upper-case id is checked the same way.
    const byHand = {
      user: { oid: DEMO.users.alice.id, tid: DEMO.tenantId },
      actors: [mail.toUpperCase()],
      hops: 1,
    };
    expect(() => appendActor(byHand, mail)).toThrow(
      expect.objectContaining({ code: 'AGENTID_DELEGATION_CYCLE' }),
    );
    await expect(
      codec.encode({ ...byHand, actors: [mail.toUpperCase(), mail], hops: 2 }, inbound.token),
    ).rejects.toMatchObject({ code: 'AGENTID_DELEGATION_CYCLE' });
  });

  it('matches the last actor and the bound user case-insensitively', async () => {
    const ctx = await codec.decode(
      await header({ act: [DEMO.agents.orchestrator.toUpperCase()], sub: DEMO.users.alice.id.toUpperCase() }),
      inbound.principal,
      inbound.token,
    );
    expect(ctx.actors).toEqual([DEMO.agents.orchestrator]);
    expect(ctx.user.oid).toBe(DEMO.users.alice.id);
    // Another user, in any case, is still refused.
    expect(
      await codeOf(
        codec.decode(
          await header({ act: [DEMO.agents.orchestrator], sub: DEMO.users.bob.id.toUpperCase() }),
          inbound.principal,
          inbound.token,
        ),
      ),
    ).toBe('AGENTID_DELEGATION_INVALID');
  });

  it("require: 'agent-tokens' refuses an agent-made token that comes without its chain header; off by default", async () => {
    // Default: a first hop from an agent outside the fleet starts the chain at that agent.
    expect((await codec.decode(undefined, inbound.principal, inbound.token)).actors).toEqual([
      DEMO.agents.orchestrator,
    ]);
    const strict = createDelegationCodec({ keys: [{ kid: 'fleet-1', secret }], require: 'agent-tokens' });
    const e = await strict.decode(undefined, inbound.principal, inbound.token).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DelegationError);
    expect(e).toMatchObject({ code: 'AGENTID_DELEGATION_MISSING' });
    expect(String((e as Error).message)).toMatch(/require: 'agent-tokens'/);
    expect(await codeOf(strict.decode([], inbound.principal, inbound.token))).toBe(
      'AGENTID_DELEGATION_MISSING',
    );
    // xms_par_app_azp alone marks an agent-made token too.
    const byParent = {
      ...inbound.principal,
      actorFacets: Object.freeze([]),
      parentAppId: O.appId,
    } as Principal;
    expect(await codeOf(strict.decode(undefined, byParent, inbound.token))).toBe(
      'AGENTID_DELEGATION_MISSING',
    );
    // Per call, either way.
    expect(
      await codeOf(codec.decode(undefined, inbound.principal, inbound.token, { require: 'agent-tokens' })),
    ).toBe('AGENTID_DELEGATION_MISSING');
    expect(
      (await strict.decode(undefined, inbound.principal, inbound.token, { require: 'never' })).actors,
    ).toEqual([DEMO.agents.orchestrator]);
    // With the header, the strict codec accepts the chain; a user's own token needs none.
    expect(
      (
        await strict.decode(
          await codec.encode(startFrom(inbound.principal), inbound.token),
          inbound.principal,
          inbound.token,
        )
      ).actors,
    ).toEqual([DEMO.agents.orchestrator]);
    const user = await validatorForBlueprint(bpO).validate(await userToken());
    expect((await strict.decode(undefined, user, 'user-token')).actors).toEqual([]);
  });
});

const startFrom = (p: Principal) => ({ user: { oid: p.oid, tid: p.tid }, actors: [p.azp!], hops: 1 });
