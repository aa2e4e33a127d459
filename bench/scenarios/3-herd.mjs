// Scenario 3: a cold thundering herd — 1,000 concurrent requests for one agent-user token.
import { ConfidentialClientApplication } from '@azure/msal-node';
import { createBlueprint, secretCredential } from '@agentid/core';
import { agentUser } from '@agentid/agent-user';
import { DEMO } from '@agentid/emulator';
import { createAgentsHosting } from '../lib/agents-hosting.mjs';
import { createFakeNetwork, BASE, TENANT } from '../lib/fake-network.mjs';
import { emit, quick } from '../lib/measure.mjs';

const n = quick ? 200 : 1_000;
const scopes = ['api://tools/Mail.Read'];
const userId = DEMO.agentUsers.digitalWorker.id;

const net = createFakeNetwork({ latencyMs: 20 });
const bp = createBlueprint({
  tenantId: TENANT,
  clientId: DEMO.blueprints.workers.appId,
  credential: secretCredential('bench-secret', { silenceWarning: true }),
  authorityHost: BASE,
  network: { fetch: net.fetch },
});
const u = agentUser(bp.agent(DEMO.agents.digitalWorker), { objectId: userId });
let t0 = Date.now();
const ours = await Promise.all(Array.from({ length: n }, () => u.getToken(scopes)));
const oursMs = Date.now() - t0;
const oursCounts = { ...net.counts };

// Raw MSAL Node: leg 1 and 2 from MSAL's cache (concurrent misses all go out), leg 3 always to the network.
const net2 = createFakeNetwork({ latencyMs: 20 });
const system = { networkClient: net2.networkModule };
const bpApp = new ConfidentialClientApplication({
  auth: { clientId: DEMO.blueprints.workers.appId, clientSecret: 'bench-secret', ...net2.msalAuth() },
  system,
});
const t1 = async () =>
  (
    await bpApp.acquireTokenByClientCredential({
      scopes: ['api://AzureADTokenExchange/.default'],
      fmiPath: DEMO.agents.digitalWorker,
    })
  ).accessToken;
const dw = new ConfidentialClientApplication({
  auth: { clientId: DEMO.agents.digitalWorker, clientAssertion: t1, ...net2.msalAuth() },
  system,
});
t0 = Date.now();
await Promise.all(
  Array.from({ length: n }, async () => {
    const t2 = (await dw.acquireTokenByClientCredential({ scopes: ['api://AzureADTokenExchange/.default'] }))
      .accessToken;
    return dw.acquireTokenByUserFederatedIdentityCredential({ scopes, assertion: t2, userObjectId: userId });
  }),
);
const msalMs = Date.now() - t0;

// @microsoft/agents-hosting MsalTokenProvider.getAgenticUserToken by object id, cold static caches:
// leg 1 and user_fic by fetch, leg 2 through a new MSAL client per call (see lib/agents-hosting.mjs).
const net3 = createFakeNetwork({ latencyMs: 20 });
const ah = createAgentsHosting(net3);
t0 = Date.now();
await ah.herd(n, DEMO.agents.digitalWorker, userId, scopes);
const ahMs = Date.now() - t0;
ah.restore();

// The same herd with agents-hosting's authority on the bench host (as against an emulator): MSAL has
// no built-in metadata for it, so each new MSAL client also GETs instance discovery and openid-configuration.
const net4 = createFakeNetwork({ latencyMs: 20 });
const ahBench = createAgentsHosting(net4, { authority: BASE });
await ahBench.herd(n, DEMO.agents.digitalWorker, userId, scopes);
ahBench.restore();

emit({
  scenario: 3,
  name: `cold herd: ${n} concurrent agent-user requests`,
  n,
  ours: { ...oursCounts, ms: oursMs, distinctTokens: new Set(ours.map((t) => t.token)).size },
  msal: { ...net2.counts, ms: msalMs },
  agents_hosting: { ...net3.counts, ms: ahMs },
  agents_hosting_bench_authority: { ...net4.counts },
  target: 'ours: 1 request per leg',
});
