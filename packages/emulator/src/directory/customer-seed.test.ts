// A multi-tenant blueprint in the emulator: its application in its home tenant, a principal and
// tenant-local agent identities in each customer tenant; leg 1 elsewhere answers AADSTS700211.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aadsts, claimsOf, postToken } from '@agentid/test-support/emulator';
import { createEmulator, CUSTOMERS, DEMO, DirectoryError, multiTenantSeed, type Emulator } from '../index.js';

const W = DEMO.blueprints.workers;
const F = CUSTOMERS.fabrikam;
const N = CUSTOMERS.northwind;
const leg1 = (e: Emulator, tenant: string, agent: string, scope = 'api://AzureADTokenExchange/.default') =>
  postToken(e, tenant, {
    client_id: W.appId,
    client_secret: W.secret,
    grant_type: 'client_credentials',
    scope,
    fmi_path: agent,
  });

let emu: Emulator;
beforeAll(async () => {
  emu = await createEmulator({ seed: multiTenantSeed() });
});
afterAll(() => emu.close());

describe('multi-tenant blueprints', () => {
  it("leg 1 in a customer tenant: the home application's credential, that tenant's principal", async () => {
    const r = await leg1(emu, F.tenantId, F.agent);
    expect(r.status).toBe(200);
    expect(claimsOf(r.body.access_token)).toMatchObject({
      tid: F.tenantId,
      oid: F.blueprintPrincipalId,
      azp: W.appId,
    });
  });

  it('an agent identity exists in one tenant only: leg 1 anywhere else is AADSTS700211 (400 unauthorized_client)', async () => {
    const r = await leg1(emu, N.tenantId, F.agent);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('unauthorized_client');
    expect(aadsts(r.body)).toBe(700211);
    expect(emu.directory.tenant(N.tenantId)!.agents.has(F.agent)).toBe(false);
  });

  it('a tenant without the blueprint principal answers AADSTS700211 naming the fix', async () => {
    const id = '0c0c0000-0000-4000-8000-000000000001';
    emu.directory.addTenant({ id });
    const r = await leg1(emu, id, F.agent);
    expect(r.status).toBe(400);
    expect(aadsts(r.body)).toBe(700211);
    expect(String(r.body.error_description)).toMatch(/no blueprint principal.*admin consent/);
    // The home tenant's blueprint without its principal: the same answer for leg 1.
    const seed = multiTenantSeed();
    seed.tenants[0]!.blueprints!.find((b) => b.appId === W.appId)!.hasPrincipal = false;
    const bare = await createEmulator({ seed });
    try {
      expect(aadsts((await leg1(bare, DEMO.tenantId, DEMO.agents.mail)).body)).toBe(700211);
    } finally {
      await bare.close();
    }
  });

  it('addBlueprintPrincipal: needs the application registered, once per tenant', () => {
    const id = '0c0c0000-0000-4000-8000-000000000002';
    emu.directory.addTenant({ id });
    const p = emu.directory.addBlueprintPrincipal(id, { appId: W.appId });
    expect(p).toMatchObject({ tenantId: id, homeTenantId: DEMO.tenantId });
    expect(p.principalId).toMatch(/^[0-9a-f-]{36}$/);
    expect(() => emu.directory.addBlueprintPrincipal(id, { appId: W.appId })).toThrow(DirectoryError);
    expect(() =>
      emu.directory.addBlueprintPrincipal(id, { appId: '0c0c0000-0000-4000-8000-0000000000ff' }),
    ).toThrow(/not registered/);
  });

  it('as a sovereign host, leg 1 takes that cloud’s exchange audience only and T1 carries it', async () => {
    const gov = await createEmulator({ inProcessBaseUrl: 'https://login.microsoftonline.us' });
    try {
      const ok = await leg1(gov, DEMO.tenantId, DEMO.agents.mail, 'api://AzureADTokenExchangeUSGov/.default');
      expect(ok.status).toBe(200);
      expect(claimsOf(ok.body.access_token).aud).toBe('api://AzureADTokenExchangeUSGov');
      expect(aadsts((await leg1(gov, DEMO.tenantId, DEMO.agents.mail)).body)).toBe(70011);
    } finally {
      await gov.close();
    }
  });
});
