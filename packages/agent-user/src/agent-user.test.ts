import { inspect } from 'node:util';
import { createBlueprint, decodeJwtClaims, secretCredential, type Blueprint } from '@agentid/core';
import { brokerOf } from '@agentid/core/broker';
import { createEmulator, DEMO, defaultSeed, type Emulator } from '@agentid/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestTracing } from '@agentid/test-support/otel';
import { agentUser, createProvisioner, withEphemeralAgent } from './index.js';

const W = DEMO.blueprints.workers;
const DW = DEMO.agents.digitalWorker;
const DWU = DEMO.agentUsers.digitalWorker;
const N = 100;
const id = (prefix: string, i: number) => `${prefix}-0000-4000-8000-${String(i).padStart(12, '0')}`;
const FLEET = Array.from({ length: N }, (_, i) => ({
  agent: id('a9000000', i),
  user: id('d9000000', i),
  upn: `worker${i}@contoso.onmicrosoft.com`,
}));
const tracing = createTestTracing();
let emu: Emulator;
let bp: Blueprint;

beforeAll(async () => {
  const seed = defaultSeed();
  const t = seed.tenants[0]!;
  t.agents!.push(
    ...FLEET.map((f, i) => ({
      id: f.agent,
      displayName: `Worker ${i}`,
      blueprintAppId: W.appId,
      sponsors: [DEMO.users.sponsor.id],
    })),
  );
  t.agentUsers!.push(
    ...FLEET.map((f, i) => ({
      id: f.user,
      userPrincipalName: f.upn,
      displayName: `Worker user ${i}`,
      identityParentId: f.agent,
    })),
  );
  t.delegatedGrants!.push(
    ...FLEET.map((f) => ({
      clientId: f.agent,
      resourceAppId: DEMO.resources.tools.appId,
      scopes: ['Mail.Read'],
    })),
  );
  emu = await createEmulator({ seed });
  bp = createBlueprint({
    tenantId: DEMO.tenantId,
    clientId: W.appId,
    credential: secretCredential(W.secret, { silenceWarning: true }),
    authorityHost: emu.baseUrl,
    network: { fetch: emu.fetch },
    telemetry: { tracerProvider: tracing.provider },
  });
});
afterAll(() => emu.close());
beforeEach(async () => {
  await bp.invalidate('all');
  emu.counters.reset();
  tracing.reset();
});

describe('agentUser(...).getToken', () => {
  it('gets the agent user token by UPN and by object id: the agent user is the subject, the agent the actor', async () => {
    const agent = bp.agent(DW);
    const byUpn = await agentUser(agent, { upn: DWU.upn }).getToken(['api://tools/Mail.Read']);
    const byId = await agentUser(agent, { objectId: DWU.id }).getToken(['api://tools/Files.Read']);
    for (const t of [byUpn, byId]) {
      expect(decodeJwtClaims(t.token)).toMatchObject({
        idtyp: 'user',
        oid: DWU.id,
        azp: DW,
        xms_sub_fct: '13',
        xms_act_fct: '11',
      });
      expect(t.subject).toBe(DWU.id);
      expect(t.actor).toBe(DW);
    }
    // T1 and T2 are shared by both calls; leg 3 once per user reference and scopes, then cached.
    expect(
      (await agentUser(agent, { upn: DWU.upn.toUpperCase() }).getToken(['api://tools/Mail.Read'])).token,
    ).toBe(byUpn.token);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 1, leg2: 1, user_fic: 2 });
    expect(
      Object.keys(JSON.parse(brokerOf(agent).msal.getTokenCache().serialize()).AccessToken ?? {}),
    ).toHaveLength(0);
    const span = tracing
      .spans()
      .find((s) => s.name === 'agentid.agent-user' && s.attributes['agentid.agent_user.id'] === DWU.id);
    expect(span?.attributes).toMatchObject({ 'agentid.agent.id': DW, 'agentid.flow': 'agent-user' });
    for (const s of tracing.spans())
      expect(JSON.stringify(s.attributes)).not.toContain(byId.token.split('.')[1]);
    expect(inspect(byId)).not.toContain(byId.token);
  });

  it('makes exactly one request per leg for 1,000 concurrent calls for one agent user', async () => {
    const u = agentUser(bp.agent(DW), { objectId: DWU.id });
    const all = await Promise.all(Array.from({ length: 1000 }, () => u.getToken(['api://tools/Mail.Read'])));
    expect(new Set(all.map((t) => t.token)).size).toBe(1);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 1, leg2: 1, user_fic: 1 });
  });

  it(`for ${N} agent users (one per agent identity, as Entra requires) makes 2 + 1 requests each, whatever the concurrency`, async () => {
    const calls = FLEET.flatMap((f) => Array.from({ length: 10 }, () => f));
    const results = await Promise.all(
      calls.map((f) =>
        agentUser(bp.agent(f.agent), { upn: f.upn })
          .getToken(['api://tools/Mail.Read'])
          .then((t) => [f, t] as const),
      ),
    );
    for (const [f, t] of results) {
      expect(t.subject).toBe(f.user);
      expect(t.actor).toBe(f.agent);
    }
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: N, leg2: N, user_fic: N });
    // One agent, three scope sets: T1 and T2 once, leg 3 three times.
    emu.counters.reset();
    await bp.invalidate('all');
    const u = agentUser(bp.agent(DW), { upn: DWU.upn });
    await Promise.all(
      ['api://tools/Mail.Read', 'api://tools/Mail.Send', 'api://tools/Files.Read'].flatMap((s) => [
        u.getToken([s]),
        u.getToken([s]),
      ]),
    );
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 1, leg2: 1, user_fic: 3 });
  });

  it('answers each error case with its code', async () => {
    const dw = bp.agent(DW);
    await expect(
      agentUser(dw, { upn: 'nobody@contoso.onmicrosoft.com' }).getToken(['api://tools/Mail.Read']),
    ).rejects.toMatchObject({ code: 'AGENTID_NOT_FOUND', aadsts: 50034 });
    await expect(
      agentUser(dw, { objectId: FLEET[0]!.user }).getToken(['api://tools/Mail.Read']),
    ).rejects.toMatchObject({ code: 'AGENTID_AGENT_USER_NOT_LINKED' });
    await expect(
      agentUser(dw, { upn: DEMO.users.alice.upn }).getToken(['api://tools/Mail.Read']),
    ).rejects.toMatchObject({ code: 'AGENTID_AGENT_USER_NOT_LINKED' });
    await expect(
      agentUser(dw, { upn: DWU.upn }).getToken(['api://tools/Calendars.Read']),
    ).rejects.toMatchObject({ code: 'AGENTID_CONSENT_REQUIRED' });
    emu.directory.setAgentEnabled(DEMO.tenantId, FLEET[1]!.agent, false);
    await expect(
      agentUser(bp.agent(FLEET[1]!.agent), { upn: FLEET[1]!.upn }).getToken(['api://tools/Mail.Read']),
    ).rejects.toMatchObject({ code: 'AGENTID_AGENT_DISABLED' });
    emu.directory.setAgentEnabled(DEMO.tenantId, FLEET[1]!.agent, true);
    emu.directory.setBlueprintEnabled(DEMO.tenantId, W.appId, false);
    await bp.invalidate('all');
    await expect(
      agentUser(bp.agent(FLEET[2]!.agent), { upn: FLEET[2]!.upn }).getToken(['api://tools/Mail.Read']),
    ).rejects.toMatchObject({ code: 'AGENTID_AGENT_DISABLED' });
    emu.directory.setBlueprintEnabled(DEMO.tenantId, W.appId, true);
    expect(() => agentUser(dw, { objectId: 'not-a-guid' })).toThrow(
      expect.objectContaining({ code: 'AGENTID_INVALID_OPTIONS' }),
    );
    expect(() => agentUser(dw, { upn: 'no-at-sign' })).toThrow(
      expect.objectContaining({ code: 'AGENTID_INVALID_OPTIONS' }),
    );
    expect(() => agentUser(dw, { upn: DWU.upn, objectId: DWU.id } as never)).toThrow(/exactly one/);
    await expect(agentUser(dw, { upn: DWU.upn }).getToken([])).rejects.toMatchObject({
      code: 'AGENTID_INVALID_OPTIONS',
    });
  });
});

describe('provisioning through Graph', () => {
  it('creates an agent identity and its one agent user, refuses a second, and the new agent user gets tokens', async () => {
    const p = createProvisioner(bp, { graphBaseUrl: emu.baseUrl });
    const agent = await p.createAgentIdentity({
      displayName: 'Ticket triage',
      sponsors: [DEMO.users.sponsor.id],
    });
    const user = await p.createAgentUser({
      agentIdentityId: agent.id,
      userPrincipalName: 'triage@contoso.onmicrosoft.com',
      displayName: 'Triage',
    });
    expect(user.identityParentId).toBe(agent.id);
    await expect(
      p.createAgentUser({
        agentIdentityId: agent.id,
        userPrincipalName: 'triage2@contoso.onmicrosoft.com',
        displayName: 'Triage 2',
      }),
    ).rejects.toMatchObject({
      code: 'AGENTID_AGENT_USER_EXISTS',
      status: 400,
    });
    // Inheritable permissions of the workers blueprint: Reports.Read on api://reports.
    const t = await agentUser(bp.agent(agent.id), { objectId: user.id }).getToken([
      'api://reports/Reports.Read',
    ]);
    expect(decodeJwtClaims(t.token)).toMatchObject({ oid: user.id, azp: agent.id, scp: 'Reports.Read' });
    await p.deleteAgentUser(user.id);
    await expect(
      agentUser(bp.agent(agent.id), { objectId: user.id }).getToken(['api://reports/Reports.Read']),
    ).rejects.toMatchObject({ code: 'AGENTID_NOT_FOUND' });
    await p.deleteAgentIdentity(agent.id);
    await expect(p.createAgentIdentity({ displayName: 'no sponsor', sponsors: [] })).rejects.toMatchObject({
      code: 'AGENTID_INVALID_OPTIONS',
    });
    await expect(p.deleteAgentIdentity('00000000-0000-4000-8000-00000000dead')).rejects.toMatchObject({
      code: 'AGENTID_GRAPH',
      status: 404,
      error: 'Request_ResourceNotFound',
    });
  });

  it('withEphemeralAgent deletes the identity after the work, and also when the work throws', async () => {
    const before = [...emu.directory.tenant(DEMO.tenantId)!.agents.values()].filter((a) => !a.deleted).length;
    const roles = await withEphemeralAgent(
      bp,
      { displayName: 'nightly one-off', sponsors: [DEMO.users.sponsor.id], graphBaseUrl: emu.baseUrl },
      async (agent) => {
        const t = await agent.getToken(['api://reports/.default']);
        return t.claims?.roles;
      },
    );
    expect(roles).toEqual(['Reports.Generate']);
    let createdId = '';
    await expect(
      withEphemeralAgent(
        bp,
        { displayName: 'doomed', sponsors: [DEMO.users.sponsor.id], graphBaseUrl: emu.baseUrl },
        async (agent) => {
          createdId = agent.id;
          throw new Error('work failed');
        },
      ),
    ).rejects.toThrow('work failed');
    const live = [...emu.directory.tenant(DEMO.tenantId)!.agents.values()].filter((a) => !a.deleted);
    expect(live.length).toBe(before);
    expect(live.some((a) => a.id === createdId)).toBe(false);
    // A clean-up failure is reported, and never hides the work's own error.
    const failingDeletes: typeof fetch = async (url, init) =>
      init?.method === 'DELETE' && String(url).includes('/v1.0/servicePrincipals/')
        ? new Response('{"error":{"code":"ServiceUnavailable","message":"down"}}', { status: 503 })
        : emu.fetch(url, init);
    const bp2 = createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: W.appId,
      credential: secretCredential(W.secret, { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: failingDeletes, retries: 0 },
    });
    const cleanup: unknown[] = [];
    const opts = {
      displayName: 'x',
      sponsors: [DEMO.users.sponsor.id],
      graphBaseUrl: emu.baseUrl,
      onCleanupError: (e: unknown) => cleanup.push(e),
    };
    await expect(withEphemeralAgent(bp2, opts, async () => 1)).rejects.toMatchObject({
      code: 'AGENTID_GRAPH',
      status: 503,
    });
    await expect(
      withEphemeralAgent(bp2, opts, async () => {
        throw new Error('the work failed first');
      }),
    ).rejects.toThrow('the work failed first');
    expect(cleanup).toHaveLength(2);
  });
});
