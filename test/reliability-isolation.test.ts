// Cross-user isolation under randomized concurrent load (fast-check model test): many users,
// agents, scopes and flows at once through one broker with a small L1 (evictions), forced refreshes
// and invalidations interleaved. Every returned token is checked against the model (its decoded
// claims, not only our metadata): the subject is the caller's, the actor the agent, the scope the
// one asked for. Zero leaks.
import { type Blueprint, createBlueprint, decodeJwtClaims, secretCredential } from '@agentid/core';
import { agentUser } from '@agentid/agent-user';
import { createEmulator, DEMO, defaultSeed, type Emulator } from '@agentid/emulator';
import { onBehalfOf } from '@agentid/obo';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const W = DEMO.blueprints.workers;
const USERS = Array.from({ length: 12 }, (_, i) => ({
  id: `0e000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
  upn: `user${i + 1}@${DEMO.domain}`,
}));
const AGENTS = Array.from(
  { length: 6 },
  (_, i) => `0a000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
);
const SCOPES = ['Mail.Read', 'Mail.Send', 'Calendars.Read', 'Files.Read'];
let emu: Emulator;
let bp: Blueprint;
const userTokens = new Map<string, string>();
export const isolationTotals = { calls: 0, runs: 0 };

beforeAll(async () => {
  const seed = defaultSeed();
  const t = seed.tenants[0]!;
  t.users = [...(t.users ?? []), ...USERS.map((u) => ({ id: u.id, userPrincipalName: u.upn }))];
  t.agents = [
    ...(t.agents ?? []),
    ...AGENTS.map((id) => ({ id, blueprintAppId: W.appId, sponsors: [DEMO.users.sponsor.id] })),
  ];
  // Each agent is consented a different subset of scopes: a wrong-scope mix-up would show.
  t.delegatedGrants = [
    ...(t.delegatedGrants ?? []),
    ...AGENTS.map((id, i) => ({
      clientId: id,
      resourceAppId: DEMO.resources.tools.appId,
      scopes: SCOPES.filter((_, j) => (i + j) % 2 === 0 || j === i % 4),
    })),
  ];
  emu = await createEmulator({ seed });
  // Small L1: entries are evicted and re-acquired while others are in flight.
  bp = createBlueprint({
    tenantId: DEMO.tenantId,
    clientId: W.appId,
    credential: secretCredential(W.secret, { silenceWarning: true }),
    authorityHost: emu.baseUrl,
    network: { fetch: emu.fetch },
    cache: { l1: { maxEntries: 24 } },
  });
  for (const u of USERS)
    userTokens.set(
      u.id,
      await emu.issueUserToken({
        user: u.upn,
        clientId: DEMO.chatApp.appId,
        scopes: [`api://${W.appId}/access_agent`],
      }),
    );
});
afterAll(() => emu.close());

const granted = (agentIndex: number) =>
  SCOPES.filter((_, j) => (agentIndex + j) % 2 === 0 || j === agentIndex % 4);

type Op =
  | { kind: 'obo'; user: number; agent: number; scope: number; force: boolean }
  | { kind: 'app'; agent: number; force: boolean }
  | { kind: 'agent-user'; force: boolean }
  | { kind: 'invalidate'; user: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('obo' as const),
      user: fc.nat({ max: USERS.length - 1 }),
      agent: fc.nat({ max: AGENTS.length - 1 }),
      scope: fc.nat({ max: 3 }),
      force: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('app' as const),
      agent: fc.nat({ max: AGENTS.length - 1 }),
      force: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('agent-user' as const), force: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('invalidate' as const),
      user: fc.nat({ max: USERS.length - 1 }),
    }),
  },
);

async function check(o: Op): Promise<void> {
  isolationTotals.calls++;
  const opts = 'force' in o && o.force ? { forceRefresh: true } : {};
  if (o.kind === 'invalidate') return bp.invalidate({ user: USERS[o.user]!.id });
  if (o.kind === 'app') {
    const id = AGENTS[o.agent]!;
    const t = await bp.agent(id).getToken(['api://reports/.default'], opts);
    const c = decodeJwtClaims(t.token);
    expect([c.oid, c.azp, t.subject]).toEqual([id, id, id]);
    return;
  }
  if (o.kind === 'agent-user') {
    const au = DEMO.agentUsers.digitalWorker;
    const t = await agentUser(bp.agent(DEMO.agents.digitalWorker), { objectId: au.id }).getToken(
      ['api://tools/Mail.Read'],
      opts,
    );
    const c = decodeJwtClaims(t.token);
    expect([c.oid, c.azp]).toEqual([au.id, DEMO.agents.digitalWorker]);
    return;
  }
  const user = USERS[o.user]!;
  const agentIndex = o.agent;
  const scopes = granted(agentIndex);
  const scope = scopes[o.scope % scopes.length]!;
  const t = await onBehalfOf(
    bp.agent(AGENTS[agentIndex]!),
    userTokens.get(user.id)!,
    [`api://tools/${scope}`],
    opts,
  );
  const c = decodeJwtClaims(t.token);
  // The token is this user's, acted by this agent, for this scope: never another caller's.
  expect(c.oid).toBe(user.id);
  expect(c.azp).toBe(AGENTS[agentIndex]);
  expect(String(c.scp).split(' ')).toContain(scope);
  expect(t.subject).toBe(user.id);
}

describe('isolation under randomized concurrent load (fast-check model test)', () => {
  it('every token returned matches its caller (subject, actor, scope); zero leaks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 20, maxLength: 80 }), async (ops) => {
        isolationTotals.runs++;
        // All at once: concurrent misses, coalescing, evictions, refreshes and invalidations.
        await Promise.all(ops.map((o) => check(o)));
      }),
      { numRuns: 30 },
    );
    expect(isolationTotals.calls).toBeGreaterThan(600);
  }, 120_000);
});
