// Scenario 8: scale (issue #24). Each figure beside its floor, measured in this one process:
// - warm autonomous hit with 10,000 agent identities vs a Map of 10k entries returning a stored
//   promise (the floor), and vs the 1-agent hit;
// - the default configuration with 10,000 agents: token requests made by 5,000 warm calls (0 is
//   the target: a warm cache sends nothing);
// - heap per agent handle (idle, after its first token) and per cached OBO token (100k users, the
//   tokens' own bytes beside it), with --expose-gc;
// - agent-user warm hit vs the floor; OBO hit with 32 scope sets per user vs 1; OBO hit with a
//   freshly parsed assertion string (a new string per call, as from an HTTP header) vs the same
//   string object.
import { createBlueprint, secretCredential } from '@agentid/core';
import { DEMO } from '@agentid/emulator';
import { onBehalfOf } from '@agentid/obo';
import { agentUser } from '@agentid/agent-user';
import { createFakeNetwork, BASE, TENANT, userAssertion } from '../lib/fake-network.mjs';
import { emit, perOp, quick } from '../lib/measure.mjs';

const AGENTS = quick ? 1_000 : 10_000;
const USERS = quick ? 5_000 : 100_000;
const ops = quick ? 5_000 : 50_000;
const agentId = (i) => `a9e47000-0000-4000-8000-${String(i).padStart(12, '0')}`;
const scope = ['api://tools/.default'];
const gc = () => {
  for (let i = 0; i < 3; i++) globalThis.gc?.();
};
const heap = () => (gc(), process.memoryUsage().heapUsed);
const blueprint = (net, cache) =>
  createBlueprint({
    tenantId: TENANT,
    clientId: DEMO.blueprints.workers.appId,
    credential: secretCredential('bench-secret', { silenceWarning: true }),
    authorityHost: BASE,
    network: { fetch: net.fetch },
    ...(cache ? { cache } : {}),
  });
const inBatches = async (n, fn, size = 500) => {
  for (let i = 0; i < n; i += size)
    await Promise.all(Array.from({ length: Math.min(size, n - i) }, (_, k) => fn(i + k)));
};

// 1. Warm autonomous hits, 1 agent vs AGENTS agents (sized so that nothing is evicted), vs a Map.
const big = { maxAgents: AGENTS, l1: { maxEntries: 4 * AGENTS, maxBytes: 1024 * 1024 * 1024 } };
const net1 = createFakeNetwork();
const bp1 = blueprint(net1, big);
const one = bp1.agent(agentId(0));
await one.getToken(scope);
const oneAgent_us = await perOp(() => one.getToken(scope), { ops });
const heap0 = heap();
await inBatches(AGENTS, (i) => bp1.agent(agentId(i)).getToken(scope));
const heapPerAgent = (heap() - heap0) / AGENTS;
const order = Array.from({ length: AGENTS }, (_, i) => (i * 7919) % AGENTS);
const ids = order.map(agentId);
const manyAgents_us = await perOp((i) => bp1.agent(ids[i % AGENTS]).getToken(scope), { ops });
const floorMap = new Map(ids.map((id) => [id, Promise.resolve({ token: id })]));
const floor_us = await perOp((i) => floorMap.get(ids[i % AGENTS]), { ops });

// 2. The default configuration, AGENTS agents, then 5,000 warm calls across them.
const net2 = createFakeNetwork();
const bp2 = blueprint(net2);
await inBatches(AGENTS, (i) => bp2.agent(agentId(i)).getToken(scope));
const before = { ...net2.counts };
for (let i = 0; i < 5_000; i++) await bp2.agent(ids[i % AGENTS]).getToken(scope);
const warmRequests = { leg1: net2.counts.leg1 - before.leg1, leg2: net2.counts.leg2 - before.leg2 };

// 3. Agent-user warm hit.
const net3 = createFakeNetwork();
const bp3 = blueprint(net3);
const worker = agentUser(bp3.agent(DEMO.agents.digitalWorker), {
  objectId: DEMO.agentUsers.digitalWorker.id,
});
await worker.getToken(['api://tools/Mail.Read']);
const agentUser_us = await perOp(() => worker.getToken(['api://tools/Mail.Read']), { ops });

// 4. OBO: heap per cached token at USERS users; hit with a fresh assertion string; 32 scope sets.
const aud = DEMO.blueprints.workers.appId;
const net4 = createFakeNetwork();
const bp4 = blueprint(net4, { l1: { maxEntries: USERS + 1000, maxBytes: 4 * 1024 * 1024 * 1024 } });
const mail = bp4.agent(DEMO.agents.mail);
const users = Array.from({ length: USERS }, (_, i) => userAssertion(i, aud));
await onBehalfOf(mail, users[0], ['api://tools/Mail.Read']);
const heap1 = heap();
await inBatches(USERS, (i) => onBehalfOf(mail, users[i], ['api://tools/Mail.Read']));
const heapPerOboToken = (heap() - heap1) / USERS;
const sample = await onBehalfOf(mail, users[1], ['api://tools/Mail.Read']);
const tokenBytes = sample.token.length;
const oboSame_us = await perOp(
  (i) => onBehalfOf(mail, users[(i * 7919) % USERS], ['api://tools/Mail.Read']),
  { ops },
);
// A new string with the same contents each call (what parsing a request header gives).
const fresh = (s) => (' ' + s).slice(1);
const oboFresh_us = await perOp(
  (i) => onBehalfOf(mail, fresh(users[(i * 7919) % USERS]), ['api://tools/Mail.Read']),
  { ops },
);
const sets = Array.from({ length: 32 }, (_, k) => [`api://tools/Scope${k}`]);
await Promise.all(sets.map((s) => onBehalfOf(mail, users[2], s)));
const obo1Set_us = await perOp(() => onBehalfOf(mail, users[2], sets[0]), { ops });
const obo32Sets_us = await perOp((i) => onBehalfOf(mail, users[2], sets[i % 32]), { ops });

emit({
  scenario: 8,
  name: 'scale: many agents, many users (#24)',
  agents: AGENTS,
  users: USERS,
  autonomous_hit_1_agent_us: oneAgent_us,
  autonomous_hit_many_agents_us: manyAgents_us,
  map_floor_us: floor_us,
  many_agents_vs_floor: manyAgents_us / floor_us,
  default_config_warm_requests: warmRequests,
  heap_per_agent_bytes: heapPerAgent,
  heap_per_obo_token_bytes: heapPerOboToken,
  obo_token_bytes: tokenBytes,
  heap_per_obo_token_vs_token_bytes: heapPerOboToken / tokenBytes,
  agent_user_hit_us: agentUser_us,
  obo_hit_us: oboSame_us,
  obo_hit_fresh_assertion_us: oboFresh_us,
  obo_fresh_vs_same: oboFresh_us / oboSame_us,
  obo_hit_1_set_us: obo1Set_us,
  obo_hit_32_sets_us: obo32Sets_us,
  obo_32_vs_1_sets: obo32Sets_us / obo1Set_us,
});
