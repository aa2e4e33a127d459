import { inspect } from 'node:util';
import { createBlueprint, decodeJwtClaims, secretCredential, type Blueprint } from '@agentid/core';
import { brokerOf } from '@agentid/core/broker';
import { createEmulator, DEMO, defaultSeed, type Emulator } from '@agentid/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestTracing } from '@agentid/test-support/otel';
import { onBehalfOf, validatorForBlueprint } from '../index.js';

const O = DEMO.blueprints.orchestrator;
const W = DEMO.blueprints.workers;
const USERS = Array.from({ length: 40 }, (_, i) => ({
  id: `0000a000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  upn: `user${i}@contoso.onmicrosoft.com`,
}));
const tracing = createTestTracing();
let emu: Emulator;
let interceptor: ((url: string, body: string) => Response | undefined) | undefined;
let bp: Blueprint;

const userToken = (user: string) =>
  emu.issueUserToken({ user, clientId: DEMO.chatApp.appId, scopes: [`api://${O.appId}/access_agent`] });

beforeAll(async () => {
  const seed = defaultSeed();
  seed.tenants[0]!.users!.push(
    ...USERS.map((u) => ({ id: u.id, userPrincipalName: u.upn, displayName: u.upn })),
  );
  emu = await createEmulator({ seed });
  const fetchImpl: typeof fetch = async (url, init) => {
    const hit = interceptor?.(String(url), String(init?.body ?? ''));
    return hit ?? emu.fetch(url, init);
  };
  bp = createBlueprint({
    tenantId: DEMO.tenantId,
    clientId: O.appId,
    credential: secretCredential(O.secret, { silenceWarning: true }),
    authorityHost: emu.baseUrl,
    network: { fetch: fetchImpl, retries: 2 },
    telemetry: { tracerProvider: tracing.provider },
  });
});
afterAll(() => emu.close());
beforeEach(async () => {
  interceptor = undefined;
  await bp.invalidate('all');
  emu.counters.reset();
  emu.faults.clear();
  tracing.reset();
});

describe('onBehalfOf', () => {
  it('exchanges the user token as the agent: the user is the subject, the agent the actor; cached and coalesced', async () => {
    const agent = bp.agent(DEMO.agents.orchestrator);
    const tc = await userToken(DEMO.users.alice.upn);
    const principal = await validatorForBlueprint(bp).validate(tc);
    const all = await Promise.all(
      Array.from({ length: 25 }, () => onBehalfOf(agent, tc, ['api://tools/Files.Read'], { principal })),
    );
    const t = all[0]!;
    expect(all.every((x) => x.token === t.token)).toBe(true);
    expect(decodeJwtClaims(t.token)).toMatchObject({
      oid: DEMO.users.alice.id,
      azp: DEMO.agents.orchestrator,
      idtyp: 'user',
      scp: 'Files.Read',
      xms_act_fct: '11',
    });
    expect(t.subject).toBe(DEMO.users.alice.id);
    expect(t.actor).toBe(DEMO.agents.orchestrator);
    expect((await onBehalfOf(agent, tc, ['api://tools/Files.Read'])).token).toBe(t.token);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 1, obo: 1 });
    const span = tracing.spans().find((s) => s.name === 'agentid.obo');
    expect(span?.attributes).toMatchObject({
      'agentid.agent.id': DEMO.agents.orchestrator,
      'agentid.obo.user.id': DEMO.users.alice.id,
      'agentid.obo.user.tenant': DEMO.tenantId,
    });
    for (const s of tracing.spans())
      expect(JSON.stringify(s.attributes)).not.toContain(t.token.split('.')[1]);
  });

  it("never returns one user's token to another, under concurrent load of 40 users, and keeps MSAL's cache empty", async () => {
    const agent = bp.agent(DEMO.agents.orchestrator);
    const tokens = await Promise.all(USERS.map((u) => userToken(u.upn)));
    const calls = Array.from({ length: 200 }, (_, i) => i % USERS.length);
    const results = await Promise.all(
      calls.map((i) =>
        onBehalfOf(agent, tokens[i]!, ['api://tools/Files.Read']).then((t) => [i, t] as const),
      ),
    );
    for (const [i, t] of results) {
      expect(decodeJwtClaims(t.token).oid).toBe(USERS[i]!.id);
      expect(t.subject).toBe(USERS[i]!.id);
    }
    expect(emu.counters.snapshot().byGrant.obo).toBe(USERS.length);
    expect(
      Object.keys(JSON.parse(brokerOf(agent).msal.getTokenCache().serialize()).AccessToken ?? {}),
    ).toHaveLength(0);
  });

  it('surfaces interaction_required without retrying it', async () => {
    const agent = bp.agent(DEMO.agents.orchestrator);
    const tc = await userToken(DEMO.users.bob.upn);
    let obo = 0;
    interceptor = (url, body) => {
      if (!body.includes('on_behalf_of')) return undefined;
      obo++;
      return Response.json(
        {
          error: 'interaction_required',
          error_description:
            'AADSTS50076: Due to a configuration change made by your administrator, you must use multi-factor authentication.',
          error_codes: [50076],
          suberror: 'basic_action',
        },
        { status: 400 },
      );
    };
    const events: unknown[] = [];
    await expect(
      onBehalfOf(agent, tc, ['api://tools/Files.Read'], { audit: (e) => events.push(e) }),
    ).rejects.toMatchObject({ code: 'AGENTID_INTERACTION_REQUIRED', aadsts: 50076 });
    expect(obo).toBe(1);
    expect(events).toEqual([
      expect.objectContaining({
        type: 'obo',
        agentId: DEMO.agents.orchestrator,
        userId: DEMO.users.bob.id,
        outcome: 'failed',
        errorCode: 'AGENTID_INTERACTION_REQUIRED',
      }),
    ]);
  });

  it('replaces a rejected T1 once, and fails with a typed error for a bad assertion', async () => {
    const agent = bp.agent(DEMO.agents.orchestrator);
    const tc = await userToken(DEMO.users.bob.upn);
    await brokerOf(agent).exchangeToken();
    let rejected = 0;
    interceptor = (_url, body) => {
      if (!body.includes('on_behalf_of') || rejected > 0) return undefined;
      rejected++;
      return Response.json(
        {
          error: 'invalid_client',
          error_description: 'AADSTS700027: Client assertion failed signature validation.',
          error_codes: [700027],
        },
        { status: 401 },
      );
    };
    const t = await onBehalfOf(agent, tc, ['api://tools/Files.Read']);
    expect(t.subject).toBe(DEMO.users.bob.id);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 2, obo: 1 });
    // A token for another audience (not the blueprint) is refused by Entra: invalid_grant, not retried.
    const wrong = await emu.issueUserToken({
      user: DEMO.users.bob.upn,
      clientId: DEMO.chatApp.appId,
      scopes: ['api://tools/Files.Read'],
    });
    emu.counters.reset();
    const err = await onBehalfOf(agent, wrong, ['api://tools/Files.Read']).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AGENTID_INVALID_GRANT' });
    expect(emu.counters.snapshot().byGrant.obo).toBe(1);
    expect(inspect(err, { depth: 6 })).not.toContain(wrong.split('.')[1]);
  });

  it('refuses bad input with typed errors', async () => {
    const agent = bp.agent(DEMO.agents.orchestrator);
    await expect(onBehalfOf(agent, '', ['api://tools/Files.Read'])).rejects.toMatchObject({
      code: 'AGENTID_UNAUTHENTICATED',
    });
    await expect(onBehalfOf(agent, 'garbage', ['api://tools/Files.Read'])).rejects.toMatchObject({
      code: 'AGENTID_TOKEN_MALFORMED',
    });
    await expect(onBehalfOf(agent, await userToken(DEMO.users.alice.upn), [])).rejects.toThrow(TypeError);
    expect(emu.counters.snapshot().total ?? 0).toBe(0);
  });

  it('lets an agent of another blueprint act only with its own grants (workers mail agent)', async () => {
    const wbp = createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: W.appId,
      credential: secretCredential(W.secret, { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: emu.fetch },
    });
    const tc = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      clientId: DEMO.chatApp.appId,
      scopes: [`api://${W.appId}/access_agent`],
    });
    const ok = await onBehalfOf(wbp.agent(DEMO.agents.mail), tc, ['api://tools/Mail.Send']);
    expect(decodeJwtClaims(ok.token)).toMatchObject({ scp: 'Mail.Send', azp: DEMO.agents.mail });
    await expect(
      onBehalfOf(wbp.agent(DEMO.agents.mail), tc, ['api://tools/Calendars.Read']),
    ).rejects.toMatchObject({ code: 'AGENTID_CONSENT_REQUIRED' });
  });
});
