import { createBlueprint, secretCredential, type Blueprint } from '@agentid/core';
import { createManualClock } from '@agentid/core/broker';
import { createEmulator, DEMO, MAX_AGENTS_PER_BLUEPRINT, type Emulator } from '@agentid/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createEphemeralAgent,
  createProvisioner,
  EPHEMERAL_TAG,
  sweepEphemeralAgents,
  withEphemeralAgent,
} from '../index.js';

// Ephemeral agents and the sweeper, against the emulator's Graph over HTTP.
const T = DEMO.tenantId;
const W = DEMO.blueprints.workers;
const SPONSOR = DEMO.users.sponsor.id;
const HOUR = 3600_000;
const clock = createManualClock(Date.UTC(2026, 11, 1));
let emu: Emulator;
let graphBaseUrl: string;
let bp: Blueprint;
let upn = 0;
const nextUpn = () => `eph-${++upn}@contoso.onmicrosoft.com`;

beforeAll(async () => {
  emu = await createEmulator({ clock });
  graphBaseUrl = (await emu.listen({ https: false })).httpUrl!;
  const viaHttp: typeof fetch = (url, init) =>
    String(url).startsWith(graphBaseUrl) ? fetch(url, init) : emu.fetch(url, init);
  bp = createBlueprint({
    tenantId: T,
    clientId: W.appId,
    credential: secretCredential(W.secret, { silenceWarning: true }),
    authorityHost: emu.baseUrl,
    network: { fetch: viaHttp },
    clock,
  });
});
afterAll(() => emu.close());

const tenant = () => emu.directory.tenant(T)!;
const gone = (id: string) => !tenant().agents.has(id) && !emu.directory.deletedItems.has(id);

describe('ephemeral agents', () => {
  it('are tagged at creation; dispose deletes the agent user explicitly and deletes and purges the identity (idempotent)', async () => {
    const eph = await createEphemeralAgent(bp, {
      displayName: 'one-off',
      sponsors: [SPONSOR],
      graphBaseUrl,
      agentUser: { userPrincipalName: nextUpn() },
    });
    const tags = tenant().agents.get(eph.agent.id)!.tags!;
    expect(tags).toEqual([EPHEMERAL_TAG, `agentid:ephemeral:created:${new Date(clock.now()).toISOString()}`]);
    expect(eph.identity.tags).toEqual(tags);
    expect(tenant().agentUsers.get(eph.agentUser!.id)?.identityParentId).toBe(eph.agent.id);
    expect((await eph.agent.getToken(['api://reports/.default'])).claims?.roles).toEqual([
      'Reports.Generate',
    ]);
    await eph.dispose();
    await eph.dispose();
    expect(gone(eph.agent.id)).toBe(true);
    expect(tenant().agentUsers.has(eph.agentUser!.id)).toBe(false);
    expect(emu.directory.deletedItems.has(eph.agentUser!.id)).toBe(false);
  });

  it('do not eat the 250 quota: a blueprint one short of the limit runs three ephemeral agents in a row', async () => {
    const local = await createEmulator({ clock });
    const url = (await local.listen({ https: false })).httpUrl!;
    try {
      const t = local.directory.tenant(T)!;
      while (
        [...t.agents.values()].filter((a) => a.blueprintAppId === W.appId).length <
        MAX_AGENTS_PER_BLUEPRINT - 1
      )
        local.directory.createAgentIdentity(T, { blueprintAppId: W.appId, sponsors: [SPONSOR] });
      const localBp = createBlueprint({
        tenantId: T,
        clientId: W.appId,
        credential: secretCredential(W.secret, { silenceWarning: true }),
        authorityHost: local.baseUrl,
        network: { fetch: (u, i) => (String(u).startsWith(url) ? fetch(u, i) : local.fetch(u, i)) },
        clock,
      });
      for (let i = 0; i < 3; i++)
        expect(
          await withEphemeralAgent(
            localBp,
            { displayName: `run ${i}`, sponsors: [SPONSOR], graphBaseUrl: url },
            async (a) => a.id,
          ),
        ).toMatch(/^[0-9a-f-]{36}$/);
      // Without the purge the second run would have failed with AgentIdentity_LimitExceeded.
      const p = createProvisioner(localBp, { graphBaseUrl: url });
      const soft = await createEphemeralAgent(localBp, {
        displayName: 'x',
        sponsors: [SPONSOR],
        graphBaseUrl: url,
      });
      await p.deleteAgentIdentity(soft.agent.id);
      await expect(p.createAgentIdentity({ displayName: 'y', sponsors: [SPONSOR] })).rejects.toMatchObject({
        code: 'AGENTID_AGENT_QUOTA',
      });
    } finally {
      await local.close();
    }
  });

  it('an agent user that cannot be made removes the identity again; withEphemeralAgent cleans up when the work throws', async () => {
    const before = tenant().agents.size;
    await expect(
      createEphemeralAgent(bp, {
        displayName: 'bad user',
        sponsors: [SPONSOR],
        graphBaseUrl,
        agentUser: { userPrincipalName: DEMO.users.alice.upn },
      }),
    ).rejects.toMatchObject({ code: 'AGENTID_GRAPH', status: 400 });
    expect(tenant().agents.size).toBe(before);
    let id = '';
    await expect(
      withEphemeralAgent(
        bp,
        {
          displayName: 'doomed',
          sponsors: [SPONSOR],
          graphBaseUrl,
          agentUser: { userPrincipalName: nextUpn() },
        },
        async (agent, eph) => {
          id = agent.id;
          expect(eph.agentUser).toBeDefined();
          throw new Error('work failed');
        },
      ),
    ).rejects.toThrow('work failed');
    expect(gone(id)).toBe(true);
  });
});

describe('sweepEphemeralAgents', () => {
  it('finds what a crash left behind (old active ones, deleted-not-purged ones, their agent users); dry run first; young and non-ephemeral ones stay; concurrent sweeps are safe', async () => {
    const p = createProvisioner(bp, { graphBaseUrl });
    const crashed = await createEphemeralAgent(bp, {
      displayName: 'crashed',
      sponsors: [SPONSOR],
      graphBaseUrl,
      agentUser: { userPrincipalName: nextUpn() },
    });
    const halfDone = await createEphemeralAgent(bp, {
      displayName: 'crashed between delete and purge',
      sponsors: [SPONSOR],
      graphBaseUrl,
      agentUser: { userPrincipalName: nextUpn() },
    });
    await p.deleteAgentIdentity(halfDone.agent.id); // its agent user is orphaned, the identity soft-deleted
    const keeper = await p.createAgentIdentity({
      displayName: 'not ephemeral',
      sponsors: [SPONSOR],
      tags: ['team:x'],
    });
    clock.advance(7 * HOUR);
    const young = await createEphemeralAgent(bp, {
      displayName: 'still working',
      sponsors: [SPONSOR],
      graphBaseUrl,
    });

    const dry = await sweepEphemeralAgents(bp, { olderThanMs: 6 * HOUR, dryRun: true, graphBaseUrl });
    expect(dry).toEqual({
      agentIdentities: [crashed.agent.id],
      purged: [halfDone.agent.id],
      agentUsers: [crashed.agentUser!.id, halfDone.agentUser!.id],
      failures: [],
    });
    expect(tenant().agents.has(crashed.agent.id)).toBe(true);

    const [a, b] = await Promise.all([
      sweepEphemeralAgents(bp, { olderThanMs: 6 * HOUR, graphBaseUrl }),
      sweepEphemeralAgents(bp, { olderThanMs: 6 * HOUR, graphBaseUrl }),
    ]);
    expect([...a.failures, ...b.failures]).toEqual([]);
    for (const id of [crashed.agent.id, halfDone.agent.id]) expect(gone(id)).toBe(true);
    for (const u of [crashed.agentUser!.id, halfDone.agentUser!.id]) {
      expect(tenant().agentUsers.has(u)).toBe(false);
      expect(emu.directory.deletedItems.has(u)).toBe(false);
    }
    expect(tenant().agents.get(young.agent.id)?.deleted).toBe(false);
    expect(tenant().agents.get(keeper.id)?.deleted).toBe(false);
    expect(await sweepEphemeralAgents(bp, { olderThanMs: 6 * HOUR, graphBaseUrl })).toEqual({
      agentIdentities: [],
      purged: [],
      agentUsers: [],
      failures: [],
    });
    await young.dispose();
    await expect(sweepEphemeralAgents(bp, { olderThanMs: -1 })).rejects.toMatchObject({
      code: 'AGENTID_INVALID_OPTIONS',
    });
  });
});
