// Scenario 2: warm OBO cache hits with N distinct users cached (ours flat; raw MSAL scans its cache).
import { ConfidentialClientApplication } from '@azure/msal-node';
import { createBlueprint, secretCredential } from '@agentid/core';
import { brokerOf } from '@agentid/core/broker';
import { DEMO } from '@agentid/emulator';
import { onBehalfOf } from '@agentid/obo';
import { createAgentsHosting } from '../lib/agents-hosting.mjs';
import { createFakeNetwork, BASE, TENANT, userAssertion } from '../lib/fake-network.mjs';
import { emit, perOp, quick } from '../lib/measure.mjs';

const aud = DEMO.blueprints.workers.appId;
const scopes = ['api://tools/Mail.Read'];
const sizes = quick ? [1, 1_000] : [1, 1_000, 10_000, 100_000];
const msalSizes = quick ? [1, 100] : [1, 100, 1_000, 3_000];
const rows = [];

for (const n of sizes) {
  const net = createFakeNetwork();
  const bp = createBlueprint({
    tenantId: TENANT,
    clientId: aud,
    credential: secretCredential('bench-secret', { silenceWarning: true }),
    authorityHost: BASE,
    network: { fetch: net.fetch },
    cache: { l1: { maxEntries: n + 100, maxBytes: 4 * 1024 * 1024 * 1024 } },
  });
  const agent = bp.agent(DEMO.agents.mail);
  const users = Array.from({ length: n }, (_, i) => userAssertion(i, aud));
  const t0 = Date.now();
  for (let i = 0; i < n; i += 500)
    await Promise.all(users.slice(i, i + 500).map((u) => onBehalfOf(agent, u, scopes)));
  const fillMs = Date.now() - t0;
  const us = await perOp((i) => onBehalfOf(agent, users[(i * 7919) % n], scopes), {
    ops: quick ? 2_000 : 20_000,
  });
  const msalCacheEntries = Object.keys(
    JSON.parse(brokerOf(agent).msal.getTokenCache().serialize()).AccessToken ?? {},
  ).length;
  rows.push({
    users: n,
    ours_us: us,
    fill_ms: fillMs,
    obo_requests: net.counts.obo,
    msal_cache_entries_under_ours: msalCacheEntries,
  });
}

const msalRows = [];
for (const n of msalSizes) {
  const net = createFakeNetwork();
  const system = { networkClient: net.networkModule };
  const bpApp = new ConfidentialClientApplication({
    auth: { clientId: aud, clientSecret: 'bench-secret', ...net.msalAuth() },
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
  const users = Array.from({ length: n }, (_, i) => userAssertion(i, aud));
  const t0 = Date.now();
  for (const u of users) await agentApp.acquireTokenOnBehalfOf({ oboAssertion: u, scopes });
  const fillMs = Date.now() - t0;
  const us = await perOp(
    (i) => agentApp.acquireTokenOnBehalfOf({ oboAssertion: users[(i * 7919) % n], scopes }),
    { ops: n >= 1000 ? 100 : 500, batches: 3, warmup: 20 },
  );
  msalRows.push({ users: n, msal_us: us, fill_ms: fillMs, obo_requests_after_warm: net.counts.obo });
}
// @microsoft/agents-hosting acquireTokenOnBehalfOf: its connection's own MSAL 5 client (the
// blueprint app; it has no agent-identity OBO), so hits are MSAL cache lookups as above.
const ahRows = [];
for (const n of [1, 100]) {
  const net = createFakeNetwork();
  const ah = createAgentsHosting(net, { clientId: aud });
  const users = Array.from({ length: n }, (_, i) => userAssertion(i, aud));
  const t0 = Date.now();
  for (const u of users) await ah.onBehalfOf(scopes, u);
  const fillMs = Date.now() - t0;
  const us = await perOp((i) => ah.onBehalfOf(scopes, users[(i * 7919) % n]), {
    ops: 500,
    batches: 3,
    warmup: 20,
  });
  ah.restore();
  ahRows.push({ users: n, agents_hosting_us: us, fill_ms: fillMs, obo_requests_after_warm: net.counts.obo });
}
emit({
  scenario: 2,
  name: 'warm OBO cache hit by users cached',
  ours: rows,
  msal: msalRows,
  agents_hosting: ahRows,
  target: 'ours <= 2 µs/op at every size, flat',
});
