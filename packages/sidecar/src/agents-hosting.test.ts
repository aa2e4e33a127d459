// Unmodified @microsoft/agents-hosting SidecarAuthProvider, pointed at our sidecar (which runs on
// the emulator): the client Microsoft ships for its own sidecar gets agentic tokens from ours.
import { SidecarAuthProvider } from '@microsoft/agents-hosting';
import { decodeJwtClaims } from '@agentid/core';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSidecarConfig } from './config.js';
import { createSidecar, type Sidecar } from './sidecar.js';

const W = DEMO.blueprints.workers;
let emu: Emulator;
let sidecar: Sidecar;
let provider: SidecarAuthProvider;

beforeAll(async () => {
  delete process.env['SIDECAR_URL'];
  emu = await createEmulator();
  // The configuration agents-hosting documents for the sidecar: a 'default' API for the resource and
  // an 'agenticblueprint' API for the blueprint's exchange token, overrides allowed on the
  // unauthenticated route (which its provider calls).
  const config = loadSidecarConfig({
    env: {
      AzureAd__Instance: emu.baseUrl,
      AzureAd__TenantId: DEMO.tenantId,
      AzureAd__ClientId: W.appId,
      AzureAd__ClientCredentials__0__SourceType: 'ClientSecret',
      AzureAd__ClientCredentials__0__ClientSecret: W.secret,
      DownstreamApis__default__Scopes__0: 'api://reports/.default',
      DownstreamApis__agenticblueprint__Scopes__0: 'api://AzureADTokenExchange/.default',
      Sidecar__AllowOverrides__GetAuthorizationHeaderUnauthenticated: 'true',
      AgentId__Listen__Port: '0',
    },
  });
  sidecar = createSidecar(config, { fetch: emu.fetch });
  const { url } = await sidecar.listen();
  provider = new SidecarAuthProvider({
    sidecarBaseUrl: url!,
    retryCount: 0,
    scopes: ['api://reports/.default'],
  } as ConstructorParameters<typeof SidecarAuthProvider>[0]);
});
afterAll(async () => {
  await sidecar.close();
  await emu.close();
});

describe('@microsoft/agents-hosting SidecarAuthProvider against the agentid sidecar', () => {
  it('isHealthy', async () => {
    expect(await provider.isHealthy()).toBe(true);
  });

  it('getAgenticInstanceToken: the autonomous agent token (the agent is subject and actor)', async () => {
    emu.counters.reset();
    const token = await provider.getAgenticInstanceToken(DEMO.tenantId, DEMO.agents.reporter);
    const c = decodeJwtClaims(token);
    expect([c.oid, c.azp, c.idtyp]).toEqual([DEMO.agents.reporter, DEMO.agents.reporter, 'app']);
    expect(c.roles).toContain('Reports.Generate');
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 1, leg2: 1 });
  });

  it('getAgenticUserToken by object id: the agent user token', async () => {
    const au = DEMO.agentUsers.digitalWorker;
    const token = await provider.getAgenticUserToken(DEMO.tenantId, DEMO.agents.digitalWorker, au.id, [
      'api://tools/Mail.Read',
    ]);
    const c = decodeJwtClaims(token);
    expect([c.oid, c.azp]).toEqual([au.id, DEMO.agents.digitalWorker]);
    expect(c.scp).toContain('Mail.Read');
  });

  it('getAgenticUserToken by UPN, and getAgenticApplicationToken (the blueprint exchange token)', async () => {
    const au = DEMO.agentUsers.digitalWorker;
    const byUpn = decodeJwtClaims(
      await provider.getAgenticUserToken(DEMO.tenantId, DEMO.agents.digitalWorker, au.upn, [
        'api://tools/Mail.Read',
      ]),
    );
    expect(byUpn.oid).toBe(au.id);
    const t1 = decodeJwtClaims(await provider.getAgenticApplicationToken(DEMO.tenantId, DEMO.agents.mail));
    expect(t1.azp).toBe(W.appId);
  });

  it('an unknown agent is an error the provider surfaces (never a token of another identity)', async () => {
    await expect(
      provider.getAgenticInstanceToken(DEMO.tenantId, '00000000-0000-4000-8000-00000000dead'),
    ).rejects.toThrow();
  });
});
