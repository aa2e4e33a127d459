// The sidecar for a multi-tenant blueprint: optionsOverride.AcquireTokenOptions.Tenant (which
// agents-hosting's SidecarAuthProvider sends on every call), CorrelationId and CustomHeader.<name>.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwtClaims } from '@agentid/core';
import { createEmulator, CUSTOMERS, DEMO, multiTenantSeed, type Emulator } from '@agentid/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTracing } from '@agentid/test-support/otel';
import { loadSidecarConfig } from './config.js';
import { createSidecar, type Sidecar } from './sidecar.js';

const W = DEMO.blueprints.workers;
const { fabrikam: F, northwind: N } = CUSTOMERS;
let emu: Emulator;
let api: Server;
let apiUrl: string;
let seen: IncomingHttpHeaders[] = [];
let sidecar: Sidecar;
let url: string;
const tracing = createTestTracing();

beforeAll(async () => {
  emu = await createEmulator({ seed: multiTenantSeed() });
  api = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  const config = loadSidecarConfig({
    env: {
      AzureAd__Instance: emu.baseUrl,
      AzureAd__TenantId: DEMO.tenantId,
      AzureAd__ClientId: W.appId,
      AzureAd__ClientCredentials__0__SourceType: 'ClientSecret',
      AzureAd__ClientCredentials__0__ClientSecret: W.secret,
      DownstreamApis__tools__BaseUrl: `${apiUrl}/v1/`,
      DownstreamApis__tools__Scopes__0: 'api://tools/.default',
      DownstreamApis__mail__BaseUrl: `${apiUrl}/v1/`,
      DownstreamApis__mail__Scopes__0: 'api://tools/Mail.Read',
      Sidecar__AllowOverrides__GetAuthorizationHeaderUnauthenticated: 'true',
      Sidecar__AllowOverrides__CallDownstreamApiUnauthenticated: 'true',
      AgentId__AllowedTenants__0: F.tenantId,
      AgentId__Listen__Port: '0',
    },
  });
  sidecar = createSidecar(config, { fetch: emu.fetch, tracerProvider: tracing.provider });
  url = (await sidecar.listen()).url!;
});
afterAll(async () => {
  await sidecar.close();
  await new Promise((r) => api.close(r));
  await emu.close();
  await tracing.close();
});

async function get(path: string, headers: Record<string, string> = {}, method = 'GET') {
  const r = await fetch(`${url}${path}`, { method, headers });
  const json = (await r.json()) as Record<string, unknown>;
  return { status: r.status, json };
}
const tenantQ = (t: string) => `optionsOverride.AcquireTokenOptions.Tenant=${t}`;
const claimsOf = (json: Record<string, unknown>) =>
  decodeJwtClaims(String(json['authorizationHeader']).replace(/^Bearer /, ''));

describe('sidecar: tenants', () => {
  it('Tenant naming the home tenant works (agents-hosting sends it on every call)', async () => {
    const r = await get(
      `/AuthorizationHeaderUnauthenticated/tools?AgentIdentity=${DEMO.agents.mail}&${tenantQ(DEMO.tenantId)}`,
    );
    expect(r.status).toBe(200);
    expect(claimsOf(r.json)).toMatchObject({ tid: DEMO.tenantId, oid: DEMO.agents.mail });
  });

  it("Tenant naming an allowed customer tenant: that tenant's agent identity, token and span", async () => {
    tracing.reset();
    const r = await get(
      `/AuthorizationHeaderUnauthenticated/tools?AgentIdentity=${F.agent}&${tenantQ(F.tenantId.toUpperCase())}`,
    );
    expect(r.status).toBe(200);
    expect(claimsOf(r.json)).toMatchObject({ tid: F.tenantId, oid: F.agent });
    const span = tracing.spans().find((s) => s.name === 'sidecar AuthorizationHeaderUnauthenticated');
    expect(span?.attributes['agentid.tenant.id']).toBe(F.tenantId);
    // The blueprint's own app token in the customer tenant (its principal there).
    const app = await get(`/AuthorizationHeaderUnauthenticated/tools?${tenantQ(F.tenantId)}`);
    expect(claimsOf(app.json)).toMatchObject({ tid: F.tenantId, oid: F.blueprintPrincipalId });
  });

  it('a tenant outside AgentId:AllowedTenants is a 403 problem, before any token request', async () => {
    emu.counters.reset();
    const r = await get(
      `/AuthorizationHeaderUnauthenticated/tools?AgentIdentity=${N.agent}&${tenantQ(N.tenantId)}`,
    );
    expect(r.status).toBe(403);
    expect(r.json).toMatchObject({ status: 403, code: 'AGENTID_TENANT_NOT_ALLOWED' });
    expect(String(r.json['detail'])).toMatch(/AllowedTenants/);
    expect((await get(`/AuthorizationHeaderUnauthenticated/tools?${tenantQ('not a tenant')}`)).status).toBe(
      400,
    );
    expect(emu.counters.tokenRequests()).toBe(0);
  });

  it('an agent of the wrong tenant: AADSTS700211 typed, a 4xx (never a 5xx agents-hosting would retry)', async () => {
    const r = await get(
      `/AuthorizationHeaderUnauthenticated/tools?AgentIdentity=${DEMO.agents.mail}&${tenantQ(F.tenantId)}`,
    );
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ code: 'AGENTID_WRONG_TENANT' });
  });

  it("OBO for a customer tenant's user: the agent of the caller's tenant", async () => {
    const user = await emu.issueUserToken({
      user: F.user.upn,
      tenantId: F.tenantId,
      clientId: F.chatApp,
      scopes: [`api://${W.appId}/access_agent`],
    });
    const r = await get(`/AuthorizationHeader/mail?AgentIdentity=${F.agent}`, {
      authorization: `Bearer ${user}`,
    });
    expect(r.status).toBe(200);
    expect(claimsOf(r.json)).toMatchObject({ tid: F.tenantId, oid: F.user.id, azp: F.agent });
    const foreign = await emu.issueUserToken({
      user: N.user.upn,
      tenantId: N.tenantId,
      clientId: N.chatApp,
      scopes: [`api://${W.appId}/access_agent`],
    });
    const refused = await get(`/AuthorizationHeader/mail?AgentIdentity=${N.agent}`, {
      authorization: `Bearer ${foreign}`,
    });
    expect(refused.status).toBe(401);
    expect(refused.json).toMatchObject({ code: 'AGENTID_TOKEN_TENANT' });
  });

  it('CorrelationId goes downstream as client-request-id and into the span; CustomHeader.<name> is forwarded', async () => {
    seen = [];
    tracing.reset();
    const id = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
    const r = await get(
      `/DownstreamApiUnauthenticated/tools?AgentIdentity=${DEMO.agents.reporter}&optionsOverride.AcquireTokenOptions.CorrelationId=${id}&optionsOverride.CustomHeader.X-Request-Source=nightly&optionsOverride.CustomHeader.x-tenant-hint=a`,
      {},
      'POST',
    );
    expect(r.status).toBe(200);
    expect(r.json['statusCode']).toBe(200);
    expect(seen[0]).toMatchObject({
      'client-request-id': id,
      'x-request-source': 'nightly',
      'x-tenant-hint': 'a',
    });
    expect(seen[0]?.authorization).toMatch(/^Bearer ey/);
    const span = tracing.spans().find((s) => s.name === 'sidecar DownstreamApiUnauthenticated');
    expect(span?.attributes['agentid.correlation.id']).toBe(id);
  });

  it('CustomHeader refuses Authorization, hop-by-hop and framing headers; CorrelationId must be a GUID', async () => {
    seen = [];
    const base = `/DownstreamApiUnauthenticated/tools?AgentIdentity=${DEMO.agents.reporter}`;
    for (const q of [
      'optionsOverride.CustomHeader.Authorization=Bearer%20x',
      'optionsOverride.CustomHeader.connection=close',
      'optionsOverride.CustomHeader.Transfer-Encoding=chunked',
      'optionsOverride.CustomHeader.Host=evil',
      'optionsOverride.CustomHeader.X-A=1&optionsOverride.CustomHeader.x-a=2',
      'optionsOverride.CustomHeader.X-A=a%0D%0Ab:c',
      'optionsOverride.CustomHeader.=x',
      'optionsOverride.AcquireTokenOptions.CorrelationId=nope',
    ]) {
      const r = await get(`${base}&${q}`, {}, 'POST');
      expect(r.status, q).toBe(400);
      expect(r.json, q).toMatchObject({ status: 400, code: 'AGENTID_INVALID_REQUEST' });
    }
    expect(seen).toHaveLength(0);
  });
});
