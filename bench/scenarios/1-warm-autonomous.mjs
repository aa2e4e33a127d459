// Scenario 1: warm cache hit of an autonomous agent token (legs 1-2 done once).
import { ConfidentialClientApplication } from '@azure/msal-node';
import { createBlueprint, secretCredential } from '@agentid/core';
import { DEMO } from '@agentid/emulator';
import { createAgentsHosting } from '../lib/agents-hosting.mjs';
import { createFakeNetwork, BASE, TENANT } from '../lib/fake-network.mjs';
import { emit, perOp, quick } from '../lib/measure.mjs';

const net = createFakeNetwork();
const scope = ['api://tools/.default'];
const ops = quick ? 2_000 : 50_000;

const bp = createBlueprint({
  tenantId: TENANT,
  clientId: DEMO.blueprints.workers.appId,
  credential: secretCredential('bench-secret', { silenceWarning: true }),
  authorityHost: BASE,
  network: { fetch: net.fetch },
});
const agent = bp.agent(DEMO.agents.mail);
await agent.getToken(scope);
const ours = await perOp(() => agent.getToken(scope), { ops });

// Raw MSAL Node, as its docs show: a blueprint client for leg 1 (fmiPath), an agent client whose
// clientAssertion callback returns T1, acquireTokenByClientCredential served from MSAL's cache.
const system = { networkClient: net.networkModule };
const bpApp = new ConfidentialClientApplication({
  auth: { clientId: DEMO.blueprints.workers.appId, clientSecret: 'bench-secret', ...net.msalAuth() },
  system,
});
const agentApp = new ConfidentialClientApplication({
  auth: {
    clientId: DEMO.agents.mail,
    clientAssertion: async () =>
      (
        await bpApp.acquireTokenByClientCredential({
          scopes: ['api://AzureADTokenExchange/.default'],
          fmiPath: DEMO.agents.mail,
        })
      ).accessToken,
    ...net.msalAuth(),
  },
  system,
});
await agentApp.acquireTokenByClientCredential({ scopes: scope });
const msal = await perOp(() => agentApp.acquireTokenByClientCredential({ scopes: scope }), {
  ops: Math.max(1000, ops / 10),
});

// @microsoft/agents-hosting MsalTokenProvider: getAgenticInstanceToken is its autonomous agent
// token (1.8.1 has no resource-scoped one), served from its static MemoryCache. Own fake network,
// so its requests are counted apart from the two above.
const ahNet = createFakeNetwork();
const ah = createAgentsHosting(ahNet);
const ahHit = await ah.warmInstanceToken(DEMO.agents.mail);
const agentsHosting = await perOp(ahHit, { ops });
ah.restore();

emit({
  scenario: 1,
  name: 'warm autonomous cache hit',
  ours_us: ours,
  msal_us: msal,
  agents_hosting_us: agentsHosting,
  ratio_vs_msal: msal / ours,
  ratio_vs_agents_hosting: agentsHosting / ours,
  target: 'ours <= 2 µs/op; >= 10x faster than agents-hosting',
  requests: { ...net.counts },
  agents_hosting_requests: { ...ahNet.counts },
});
