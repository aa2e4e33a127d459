// The Azure SDK credential with real Azure client code: an @azure/core-rest-pipeline pipeline with
// bearerTokenAuthenticationPolicy calls a local API that validates every token it receives.
import { Agent as HttpsAgent, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  bearerTokenAuthenticationPolicy,
  createDefaultHttpClient,
  createEmptyPipeline,
  createPipelineRequest,
} from '@azure/core-rest-pipeline';
import type { TokenCredential } from '@azure/core-auth';
import { agentTokenCredential, type Blueprint, createBlueprint, secretCredential } from '@agentid/core';
import { agentUser, agentUserTokenCredential } from '@agentid/agent-user';
import { createCertificate, createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { createTokenValidator, oboTokenCredential } from '@agentid/obo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let emu: Emulator;
let bp: Blueprint;
let api: Server;
let apiUrl: string;
// bearerTokenAuthenticationPolicy refuses plain HTTP: the API serves HTTPS with a certificate for 127.0.0.1.
const ca = createCertificate({ subject: 'agentid test CA', isCa: true });
const tls = createCertificate({ subject: '127.0.0.1', altNames: { ip: ['127.0.0.1'] }, issuer: ca });
const seen: { path: string; oid: string; azp: string | undefined; idtyp: unknown; acrs: unknown }[] = [];

beforeAll(async () => {
  emu = await createEmulator();
  bp = createBlueprint({
    tenantId: DEMO.tenantId,
    clientId: DEMO.blueprints.workers.appId,
    credential: secretCredential(DEMO.blueprints.workers.secret, { silenceWarning: true }),
    authorityHost: emu.baseUrl,
    network: { fetch: emu.fetch },
  });
  const validator = createTokenValidator({
    tenantId: DEMO.tenantId,
    audiences: [DEMO.resources.tools.appId, 'api://tools'],
    authorityHost: emu.baseUrl,
    requiredScopes: [],
    jwks: { fetch: emu.fetch },
  });
  api = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    validator.validate(token).then(
      (p) => {
        const acrs = p.claims.acrs;
        seen.push({ path: req.url!, oid: p.oid, azp: p.azp, idtyp: p.idtyp, acrs });
        if (req.url === '/challenge' && !(Array.isArray(acrs) && acrs.includes('c1'))) {
          const claims = Buffer.from(
            JSON.stringify({ access_token: { acrs: { essential: true, value: 'c1' } } }),
          ).toString('base64');
          return res
            .writeHead(401, {
              'www-authenticate': `Bearer realm="", error="insufficient_claims", claims="${claims}"`,
            })
            .end();
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ oid: p.oid }));
      },
      () => res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end(),
    );
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  apiUrl = `https://127.0.0.1:${(api.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => api.close(r));
  await emu.close();
});

async function call(credential: TokenCredential, scopes: string, path: string) {
  const pipeline = createEmptyPipeline();
  pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential, scopes }));
  const client = createDefaultHttpClient();
  const request = createPipelineRequest({ url: `${apiUrl}${path}` });
  request.agent = new HttpsAgent({ ca: ca.certPem });
  return pipeline.sendRequest(client, request);
}

describe('TokenCredential for Azure SDK clients (core-rest-pipeline bearerTokenAuthenticationPolicy)', () => {
  it('autonomous agent: the API sees the agent as subject and actor; the policy reuses the cached token', async () => {
    seen.length = 0;
    emu.counters.reset();
    const credential: TokenCredential = agentTokenCredential(bp.agent(DEMO.agents.mail));
    const r1 = await call(credential, 'api://tools/.default', '/a');
    const r2 = await call(credential, 'api://tools/.default', '/b');
    expect([r1.status, r2.status]).toEqual([200, 200]);
    expect(seen.map((s) => [s.oid, s.azp])).toEqual([
      [DEMO.agents.mail, DEMO.agents.mail],
      [DEMO.agents.mail, DEMO.agents.mail],
    ]);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 1, leg2: 1 });
    const t = await credential.getToken('api://tools/.default');
    expect(t).toMatchObject({ tokenType: 'Bearer' });
    expect(t!.expiresOnTimestamp).toBeGreaterThan(Date.now());
    expect(t!.refreshAfterTimestamp).toBeLessThan(t!.expiresOnTimestamp);
  });

  it('claims challenge: the policy retries with the claims and the new token carries them', async () => {
    seen.length = 0;
    const credential: TokenCredential = agentTokenCredential(bp.agent(DEMO.agents.reporter)); // holds an app role on tools: a role-less app token grants nothing and is refused
    const r = await call(credential, 'api://tools/.default', '/challenge');
    expect(r.status).toBe(200);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.acrs).toEqual(['c1']);
  });

  it('agent on behalf of a user, and an agent user (by object id)', async () => {
    seen.length = 0;
    const userToken = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      clientId: DEMO.chatApp.appId,
      scopes: [`api://${DEMO.blueprints.workers.appId}/access_agent`],
    });
    const obo = await call(
      oboTokenCredential(bp.agent(DEMO.agents.mail), userToken),
      'api://tools/Mail.Read',
      '/obo',
    );
    expect(obo.status).toBe(200);
    expect(seen[0]).toMatchObject({ oid: DEMO.users.alice.id, azp: DEMO.agents.mail });
    const au = DEMO.agentUsers.digitalWorker;
    const user = await call(
      agentUserTokenCredential(agentUser(bp.agent(DEMO.agents.digitalWorker), { objectId: au.id })),
      'api://tools/Mail.Read',
      '/agent-user',
    );
    expect(user.status).toBe(200);
    expect(seen[1]).toMatchObject({ oid: au.id, azp: DEMO.agents.digitalWorker });
  });

  it('honours abortSignal, refuses another tenant and empty scopes', async () => {
    const credential = agentTokenCredential(bp.agent(DEMO.agents.mail));
    const ac = new AbortController();
    ac.abort();
    await expect(credential.getToken('api://tools/.default', { abortSignal: ac.signal })).rejects.toThrow();
    await expect(
      credential.getToken('api://tools/.default', { tenantId: '00000000-0000-0000-0000-000000000000' }),
    ).rejects.toMatchObject({ code: 'AGENTID_INVALID_OPTIONS' });
    await expect(credential.getToken([])).rejects.toMatchObject({ code: 'AGENTID_INVALID_OPTIONS' });
  });
});
