// One multi-tenant blueprint, agent identities in several customer tenants (PROTOCOL.md: agent
// identities are single-tenant, leg 1 goes to the agent's own tenant), and every cloud's exchange audience.
import { createEmulator, CUSTOMERS, DEMO, multiTenantSeed, type Emulator } from '@agentid/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestTracing } from '@agentid/test-support/otel';
import {
  AuthorizationError,
  ConfigurationError,
  createBlueprint,
  decodeJwtClaims,
  OAuthError,
  secretCredential,
  type BlueprintOptions,
} from '../index.js';
import { brokerOf, createMemoryL2 } from '../broker.js';

const W = DEMO.blueprints.workers;
const { fabrikam: F, northwind: N } = CUSTOMERS;
const TOOLS = ['api://tools/.default'];
let emu: Emulator;
const tracing = createTestTracing();

beforeAll(async () => {
  emu = await createEmulator({ seed: multiTenantSeed() });
});
afterAll(() => emu.close());
beforeEach(() => {
  emu.counters.reset();
  tracing.reset();
});

const make = (extra: Partial<BlueprintOptions> = {}) =>
  createBlueprint({
    tenantId: DEMO.tenantId,
    clientId: W.appId,
    credential: secretCredential(W.secret, { silenceWarning: true }),
    authorityHost: emu.baseUrl,
    network: { fetch: emu.fetch },
    telemetry: { tracerProvider: tracing.provider },
    allowedTenants: [F.tenantId, N.tenantId],
    ...extra,
  });

const leg1Tenants = () => emu.counters.requests({ grant: 'leg1' }).map((r) => r.path.split('/')[1]);

describe('multi-tenant blueprint', () => {
  it("sends leg 1 to each agent's own tenant; every token carries that tenant", async () => {
    const bp = make();
    const fab = bp.agent(F.agent, { tenantId: F.tenantId });
    const nw = bp.agent(N.agent, { tenantId: N.tenantId });
    expect(fab.tenantId).toBe(F.tenantId);
    expect(String(fab)).toBe(`Agent(${F.agent}, blueprint=${W.appId}, tenant=${F.tenantId})`);
    const [tf, tn] = await Promise.all([fab.getToken(TOOLS), nw.getToken(TOOLS)]);
    expect(decodeJwtClaims(tf.token)).toMatchObject({
      tid: F.tenantId,
      oid: F.agent,
      roles: ['Tickets.ReadWrite.All'],
    });
    expect(decodeJwtClaims(tn.token)).toMatchObject({ tid: N.tenantId, oid: N.agent });
    const t1 = decodeJwtClaims((await brokerOf(fab).exchangeToken()).token);
    // T1 of the principal in the customer tenant.
    expect(t1).toMatchObject({ tid: F.tenantId, oid: F.blueprintPrincipalId, azp: W.appId });
    expect(leg1Tenants().sort()).toEqual([F.tenantId, N.tenantId].sort());
    // Spans name the agent's tenant.
    const spans = tracing.spans().filter((s) => s.name === 'agentid.autonomous');
    expect(spans.map((s) => s.attributes['agentid.tenant.id']).sort()).toEqual(
      [F.tenantId, N.tenantId].sort(),
    );
  });

  it('one handle per (tenant, agent): the same id in two tenants is two agents', () => {
    const bp = make();
    expect(bp.agent(F.agent, { tenantId: F.tenantId })).toBe(
      bp.agent(F.agent, { tenantId: F.tenantId.toUpperCase() }),
    );
    expect(bp.agent(F.agent, { tenantId: F.tenantId })).not.toBe(bp.agent(F.agent, { tenantId: N.tenantId }));
    expect(bp.agent(F.agent)).not.toBe(bp.agent(F.agent, { tenantId: F.tenantId }));
    expect(bp.agent(DEMO.agents.mail, { tenantId: DEMO.tenantId })).toBe(bp.agent(DEMO.agents.mail));
  });

  it('an agent asked for in a tenant where it does not exist: AGENTID_WRONG_TENANT (AADSTS700211) with the fix', async () => {
    const bp = make();
    const err = await bp
      .agent(F.agent, { tenantId: N.tenantId })
      .getToken(TOOLS)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OAuthError);
    expect(err).toMatchObject({ code: 'AGENTID_WRONG_TENANT', aadsts: 700211, status: 400 });
    expect((err as Error).message).toMatch(/admin consent/);
    // The right tenant still works, and its cache entry was never the wrong one's.
    const ok = await bp.agent(F.agent, { tenantId: F.tenantId }).getToken(TOOLS);
    expect(decodeJwtClaims(ok.token).tid).toBe(F.tenantId);
  });

  it('a tenant that has not added the blueprint (no principal): AADSTS700211 typed', async () => {
    const lonely = '0e0e0000-0000-4000-8000-000000000001';
    emu.directory.addTenant({ id: lonely });
    const bp = make({ allowedTenants: '*' });
    const err = await bp
      .agent(F.agent, { tenantId: lonely })
      .getToken(TOOLS)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AGENTID_WRONG_TENANT', aadsts: 700211 });
    expect(String((err as OAuthError).errorDescription)).toMatch(/no blueprint principal/);
  });

  it('a tenant outside allowedTenants is refused before any request', () => {
    const bp = make({ allowedTenants: [F.tenantId] });
    expect(bp.allowsTenant(F.tenantId)).toBe(true);
    expect(bp.allowsTenant(DEMO.tenantId)).toBe(true);
    expect(bp.allowsTenant(N.tenantId)).toBe(false);
    let thrown: unknown;
    try {
      bp.agent(N.agent, { tenantId: N.tenantId });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(AuthorizationError);
    expect(thrown).toMatchObject({ code: 'AGENTID_TENANT_NOT_ALLOWED' });
    expect((thrown as Error).message).toMatch(/allowedTenants/);
    expect(() => bp.getAppToken(['https://graph.microsoft.com/.default'], { tenantId: N.tenantId })).toThrow(
      /allowedTenants/,
    );
    expect(emu.counters.requests()).toHaveLength(0);
    // Without the option, a blueprint is single-tenant.
    expect(() => make({ allowedTenants: undefined }).agent(F.agent, { tenantId: F.tenantId })).toThrow(
      AuthorizationError,
    );
    const predicate = make({ allowedTenants: (t) => t === N.tenantId });
    expect(predicate.allowsTenant(N.tenantId)).toBe(true);
    expect(predicate.allowsTenant(F.tenantId)).toBe(false);
    for (const bad of [[''], 'some', 42, [F.tenantId, 7]])
      expect(() => make({ allowedTenants: bad as never })).toThrow(/allowedTenants/);
  });

  it("app tokens per tenant are the principal's there", async () => {
    const bp = make();
    const home = await bp.getAppToken(['https://graph.microsoft.com/.default']);
    const fab = await bp.getAppToken(['https://graph.microsoft.com/.default'], { tenantId: F.tenantId });
    expect(decodeJwtClaims(home.token).tid).toBe(DEMO.tenantId);
    expect(decodeJwtClaims(fab.token)).toMatchObject({ tid: F.tenantId, oid: F.blueprintPrincipalId });
    expect(await bp.getAppToken(['https://graph.microsoft.com/.default'], { tenantId: F.tenantId })).toBe(
      fab,
    );
  });

  it('a shared L2 keeps tenants apart, and invalidate({ tenant }) drops one tenant only', async () => {
    const l2 = createMemoryL2();
    const a = make({ cache: { l2 } });
    const b = make({ cache: { l2 } });
    const tf = await a.agent(F.agent, { tenantId: F.tenantId }).getToken(TOOLS);
    const tn = await a.agent(N.agent, { tenantId: N.tenantId }).getToken(TOOLS);
    emu.counters.reset();
    // Another replica: both from the L2, each its own tenant's.
    expect((await b.agent(F.agent, { tenantId: F.tenantId }).getToken(TOOLS)).token).toBe(tf.token);
    expect((await b.agent(N.agent, { tenantId: N.tenantId }).getToken(TOOLS)).token).toBe(tn.token);
    expect(emu.counters.requests()).toHaveLength(0);
    await a.invalidate({ tenant: F.tenantId });
    const fresh = await make({ cache: { l2 } }).agent(F.agent, { tenantId: F.tenantId }).getToken(TOOLS);
    expect(fresh.token).not.toBe(tf.token);
    expect(
      (await make({ cache: { l2 } }).agent(N.agent, { tenantId: N.tenantId }).getToken(TOOLS)).token,
    ).toBe(tn.token);
  });
});

describe('every cloud: the exchange audience', () => {
  it('login.usgovcloudapi.net asks for api://AzureADTokenExchangeUSGov (the emulator as that host)', async () => {
    const gov = await createEmulator({ inProcessBaseUrl: 'https://login.usgovcloudapi.net' });
    try {
      const bp = createBlueprint({
        tenantId: DEMO.tenantId,
        clientId: W.appId,
        credential: secretCredential(W.secret, { silenceWarning: true }),
        authorityHost: 'https://login.usgovcloudapi.net',
        network: { fetch: gov.fetch },
      });
      expect(bp.exchangeAudience).toBe('api://AzureADTokenExchangeUSGov');
      const agent = bp.agent(DEMO.agents.mail);
      const t1 = decodeJwtClaims((await brokerOf(agent).exchangeToken()).token);
      expect(t1.aud).toBe('api://AzureADTokenExchangeUSGov');
      expect(decodeJwtClaims((await agent.getToken(TOOLS)).token).oid).toBe(DEMO.agents.mail);
      expect(gov.counters.requests({ grant: 'leg1' })[0]?.scope).toBe(
        'api://AzureADTokenExchangeUSGov/.default',
      );
    } finally {
      await gov.close();
    }
  });

  it('an unknown authority host needs exchangeAudience: a ConfigurationError naming it, else the configured one', () => {
    const options = {
      tenantId: DEMO.tenantId,
      clientId: W.appId,
      credential: secretCredential(W.secret, { silenceWarning: true }),
      authorityHost: 'https://login.example.com',
    };
    expect(() => createBlueprint(options)).toThrow(ConfigurationError);
    expect(() => createBlueprint(options)).toThrow(/exchangeAudience/);
    expect(
      createBlueprint({ ...options, exchangeAudience: 'api://AzureADTokenExchangeX' }).exchangeAudience,
    ).toBe('api://AzureADTokenExchangeX');
    for (const bad of ['api://x/.default', 42, ''])
      expect(() => createBlueprint({ ...options, exchangeAudience: bad as string })).toThrow(
        /exchangeAudience/,
      );
  });
});
