import { createBlueprint, ProvisioningError, secretCredential, type Blueprint } from '@agentid/core';
import { createManualClock } from '@agentid/core/broker';
import {
  createEmulator,
  defaultSeed,
  DEMO,
  MAX_AGENTS_PER_BLUEPRINT,
  type Emulator,
} from '@agentid/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createProvisioner } from '../index.js';
import { provisioningError } from './graph-errors.js';

// Provisioning against the emulator's Graph over a real HTTP socket (tokens in-process).
const T = DEMO.tenantId;
const W = DEMO.blueprints.workers;
const SPONSOR = DEMO.users.sponsor.id;
const GROUP = '9f000000-0000-4000-8000-000000000001';
const clock = createManualClock(Date.UTC(2026, 11, 1));
let emu: Emulator;
let graphUrl: string;
let sent: { method: string; path: string; headers: Record<string, string>; body: string }[] = [];

function blueprintOn(e: Emulator, httpUrl: string): Blueprint {
  const viaHttp: typeof fetch = async (url, init) => {
    if (!String(url).startsWith(httpUrl)) return e.fetch(url, init);
    const u = new URL(String(url));
    sent.push({
      method: init?.method ?? 'GET',
      path: `${u.pathname}${u.search}`,
      headers: { ...(init?.headers as Record<string, string>) },
      body: typeof init?.body === 'string' ? init.body : '',
    });
    return fetch(url, init);
  };
  return createBlueprint({
    tenantId: T,
    clientId: W.appId,
    credential: secretCredential(W.secret, { silenceWarning: true }),
    authorityHost: e.baseUrl,
    network: { fetch: viaHttp },
    clock,
  });
}

let bp: Blueprint;
beforeAll(async () => {
  const seed = defaultSeed();
  seed.tenants[0]!.groups = [{ id: GROUP, displayName: 'Agent sponsors' }];
  emu = await createEmulator({ seed, clock });
  graphUrl = (await emu.listen({ https: false })).httpUrl!;
  bp = blueprintOn(emu, graphUrl);
});
afterAll(() => emu.close());
beforeEach(() => {
  sent = [];
  emu.graph.replicationLag = 0;
});

describe('provisioning on Graph', () => {
  it('uses v1.0 by default, with OData-Version: 4.0 on every body; beta on request', async () => {
    const p = createProvisioner(bp, { graphBaseUrl: graphUrl });
    expect(p.graphVersion).toBe('v1.0');
    const a = await p.createAgentIdentity({ displayName: 'v1', sponsors: [SPONSOR], tags: ['team:x'] });
    expect(a.tags).toEqual(['team:x']);
    const u = await p.createAgentUser({
      agentIdentityId: a.id,
      userPrincipalName: 'v1-user@contoso.onmicrosoft.com',
      displayName: 'V1',
    });
    expect(u.identityParentId).toBe(a.id);
    expect(sent.map((s) => `${s.method} ${s.path}`)).toEqual([
      'POST /v1.0/servicePrincipals/microsoft.graph.agentIdentity',
      'POST /v1.0/users/microsoft.graph.agentUser',
    ]);
    for (const s of sent) expect(s.headers['odata-version']).toBe('4.0');
    expect(JSON.parse(sent[0]!.body)).toEqual({
      displayName: 'v1',
      agentIdentityBlueprintId: W.appId,
      'sponsors@odata.bind': [`${graphUrl}/v1.0/users/${SPONSOR}`],
      tags: ['team:x'],
    });
    expect(JSON.parse(sent[1]!.body)).toMatchObject({
      '@odata.type': 'microsoft.graph.agentUser',
      accountEnabled: true,
      mailNickname: 'v1-user',
      identityParentId: a.id,
    });
    expect((await bp.agent(a.id).getToken(['api://reports/.default'])).claims?.roles).toEqual([
      'Reports.Generate',
    ]);

    sent = [];
    const beta = createProvisioner(bp, { graphBaseUrl: graphUrl, graphVersion: 'beta' });
    const b = await beta.createAgentIdentity({ displayName: 'beta', sponsors: [SPONSOR] });
    await beta.createAgentUser({
      agentIdentityId: b.id,
      userPrincipalName: 'beta-user@contoso.onmicrosoft.com',
      displayName: 'B',
    });
    await beta.deleteAgentIdentity(b.id, { purge: true });
    expect(sent.map((s) => `${s.method} ${s.path.split('?')[0]}`)).toEqual([
      'POST /beta/serviceprincipals/Microsoft.Graph.AgentIdentity',
      'POST /beta/users',
      `DELETE /beta/servicePrincipals/${b.id}`,
      `DELETE /beta/directory/deletedItems/${b.id}`,
    ]);
  });

  it('sponsors may be users or groups; their limits are checked before any request', async () => {
    const p = createProvisioner(bp, { graphBaseUrl: graphUrl });
    const a = await p.createAgentIdentity({
      displayName: 'grp',
      sponsors: [{ groupId: GROUP }, { userId: SPONSOR }],
    });
    expect(emu.directory.tenant(T)!.agents.get(a.id)!.sponsors).toEqual([GROUP, SPONSOR]);
    sent = [];
    const bad = [
      [],
      Array.from({ length: 101 }, () => SPONSOR),
      Array.from({ length: 6 }, () => ({ groupId: GROUP })),
      ['not/an/id'],
      [{ userId: SPONSOR, groupId: GROUP }],
      [{}],
    ];
    for (const sponsors of bad)
      await expect(
        p.createAgentIdentity({ displayName: 'x', sponsors: sponsors as never }),
      ).rejects.toMatchObject({
        code: 'AGENTID_INVALID_OPTIONS',
        message: expect.stringContaining('createAgentIdentity: sponsors'),
      });
    expect(sent).toEqual([]);
  });

  it('retries the replication 400 (Object with id … not found) with backoff on the injected sleep, then gives up', async () => {
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
      clock.advance(ms);
    };
    const p = createProvisioner(bp, { graphBaseUrl: graphUrl, sleep, replication: { minDelayMs: 100 } });
    emu.graph.replicationLag = 2;
    const a = await p.createAgentIdentity({ displayName: 'fresh', sponsors: [SPONSOR] });
    const u = await p.createAgentUser({
      agentIdentityId: a.id,
      userPrincipalName: 'fresh@contoso.onmicrosoft.com',
      displayName: 'F',
    });
    expect(waits).toEqual([100, 200]);
    expect(sent.filter((s) => s.path.endsWith('/users/microsoft.graph.agentUser'))).toHaveLength(3);
    expect(u.identityParentId).toBe(a.id);

    emu.graph.replicationLag = 3;
    const few = createProvisioner(bp, { graphBaseUrl: graphUrl, sleep, replication: { retries: 1 } });
    const b = await few.createAgentIdentity({ displayName: 'slow', sponsors: [SPONSOR] });
    const err = await few.deleteAgentIdentity(b.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProvisioningError);
    expect(err).toMatchObject({ code: 'AGENTID_GRAPH', status: 400, graphCode: 'Request_BadRequest' });
  });

  it('a second agent user is detected by looking the parent up (Graph gives no code for it); other 400s stay AGENTID_GRAPH', async () => {
    const p = createProvisioner(bp, { graphBaseUrl: graphUrl });
    const a = await p.createAgentIdentity({ displayName: 'one user', sponsors: [SPONSOR] });
    const u = await p.createAgentUser({
      agentIdentityId: a.id,
      userPrincipalName: 'one@contoso.onmicrosoft.com',
      displayName: 'One',
    });
    expect(await p.findAgentUser(a.id)).toEqual(u);
    sent = [];
    const second = await p
      .createAgentUser({
        agentIdentityId: a.id,
        userPrincipalName: 'two@contoso.onmicrosoft.com',
        displayName: 'Two',
      })
      .catch((e: unknown) => e);
    expect(second).toMatchObject({
      code: 'AGENTID_AGENT_USER_EXISTS',
      status: 400,
      graphCode: 'Request_BadRequest',
    });
    expect(String((second as Error).message)).toContain(u.id);
    expect(decodeURIComponent(sent[1]!.path)).toBe(
      `/v1.0/users/microsoft.graph.agentUser?$filter=identityParentId eq '${a.id}'`,
    );
    const b = await p.createAgentIdentity({ displayName: 'taken upn', sponsors: [SPONSOR] });
    await expect(
      p.createAgentUser({
        agentIdentityId: b.id,
        userPrincipalName: 'one@contoso.onmicrosoft.com',
        displayName: 'Dup',
      }),
    ).rejects.toMatchObject({ code: 'AGENTID_GRAPH', status: 400 });
    expect(await p.findAgentUser(b.id)).toBeUndefined();
  });

  it('Graph’s documented codes are typed with the fix: principal missing, quota, limit', async () => {
    const p = createProvisioner(bp, { graphBaseUrl: graphUrl });
    await p.createAgentIdentity({ displayName: 'warm the token', sponsors: [SPONSOR] });
    const w = emu.directory.tenant(T)!.blueprints.get(W.appId)!;
    const principal = w.principalId;
    w.principalId = undefined;
    const missing = await p
      .createAgentIdentity({ displayName: 'x', sponsors: [SPONSOR] })
      .catch((e: unknown) => e);
    expect(missing).toMatchObject({
      code: 'AGENTID_BLUEPRINT_PRINCIPAL_MISSING',
      graphCode: 'AgentIdentity_AgentBlueprintPrincipalDoesNotExist',
      error: 'AgentIdentity_AgentBlueprintPrincipalDoesNotExist',
      status: 400,
    });
    expect(String((missing as Error).message)).toMatch(/createBlueprintPrincipal/);
    expect((await p.createBlueprintPrincipal()).appId).toBe(W.appId);
    w.principalId = principal;

    emu.graph.directoryQuota = 1;
    await expect(p.createAgentIdentity({ displayName: 'x', sponsors: [SPONSOR] })).rejects.toMatchObject({
      code: 'AGENTID_AGENT_QUOTA',
      graphCode: 'Agent_Directory_QuotaExceeded',
      message: expect.stringMatching(/purge/),
    });
    emu.graph.directoryQuota = undefined;
  });

  it('a full blueprint answers AgentIdentity_LimitExceeded (AGENTID_AGENT_QUOTA); purging a deleted one frees a place; restore works', async () => {
    const full = await createEmulator({ clock });
    const fullUrl = (await full.listen({ https: false })).httpUrl!;
    try {
      const t = full.directory.tenant(T)!;
      while (
        [...t.agents.values()].filter((a) => a.blueprintAppId === W.appId).length < MAX_AGENTS_PER_BLUEPRINT
      )
        full.directory.createAgentIdentity(T, { blueprintAppId: W.appId, sponsors: [SPONSOR] });
      const p = createProvisioner(blueprintOn(full, fullUrl), { graphBaseUrl: fullUrl });
      const limit = await p
        .createAgentIdentity({ displayName: 'x', sponsors: [SPONSOR] })
        .catch((e: unknown) => e);
      expect(limit).toMatchObject({ code: 'AGENTID_AGENT_QUOTA', graphCode: 'AgentIdentity_LimitExceeded' });
      const victim = DEMO.agents.reporter;
      await p.deleteAgentIdentity(victim);
      expect((await p.listDeletedAgentIdentities()).map((a) => a.id)).toEqual([victim]);
      await p.restoreDeletedItem(victim);
      expect((await p.listAgentIdentities()).some((a) => a.id === victim)).toBe(true);
      await p.deleteAgentIdentity(victim, { purge: true });
      expect(await p.listDeletedAgentIdentities()).toEqual([]);
      expect((await p.createAgentIdentity({ displayName: 'fits', sponsors: [SPONSOR] })).displayName).toBe(
        'fits',
      );
    } finally {
      await full.close();
    }
  });

  it('each documented Graph code maps to its typed error, with the fix', () => {
    const cases: [string, string][] = [
      ['AgentIdentity_AgentBlueprintPrincipalDoesNotExist', 'AGENTID_BLUEPRINT_PRINCIPAL_MISSING'],
      ['Error_AgentBlueprintCannotCreateAssociatedIdentity', 'AGENTID_BLUEPRINT_MISMATCH'],
      ['Error_AgentIdentitySelfCreateRequired', 'AGENTID_BLUEPRINT_MISMATCH'],
      ['Error_AgentIdentitiesCreatingAgentIdentitiesNotAllowed', 'AGENTID_BLUEPRINT_MISMATCH'],
      ['AgentIdentity_CredentialsNotSupported', 'AGENTID_AGENT_CREDENTIALS_NOT_SUPPORTED'],
      ['PropertyNotCompatibleWithAgentIdentity', 'AGENTID_AGENT_CREDENTIALS_NOT_SUPPORTED'],
      ['AgentIdentity_LimitExceeded', 'AGENTID_AGENT_QUOTA'],
      ['AgentBlueprint_LimitExceeded', 'AGENTID_AGENT_QUOTA'],
      ['Agent_Directory_QuotaExceeded', 'AGENTID_AGENT_QUOTA'],
      ['Request_ResourceNotFound', 'AGENTID_GRAPH'],
    ];
    for (const [graphCode, code] of cases) {
      const e = provisioningError('POST', '/v1.0/x?$filter=QUERYVALUE', 400, {
        error: { code: graphCode, message: 'm' },
      });
      expect(e).toMatchObject({ code, graphCode, status: 400, retryable: false });
      expect(e.message).not.toContain('QUERYVALUE');
      if (code !== 'AGENTID_GRAPH') expect(e.message).toContain('fix:');
    }
    expect(provisioningError('GET', '/v1.0/x', 502, {})).toMatchObject({
      code: 'AGENTID_GRAPH',
      status: 502,
    });
  });

  it('validates its options up front', () => {
    const bad: [object, RegExp][] = [
      [{ graphVersion: 'v2' }, /options\.graphVersion/],
      [{ graphBaseUrl: 'https://graph.microsoft.com/v1.0' }, /options\.graphBaseUrl/],
      [{ replication: { retries: -1 } }, /options\.replication\.retries/],
      [{ replication: { minDelayMs: 10, maxDelayMs: 5 } }, /options\.replication\.maxDelayMs/],
      [{ sleep: 5 }, /options\.sleep/],
    ];
    for (const [options, message] of bad)
      expect(() => createProvisioner(bp, options as never)).toThrow(
        expect.objectContaining({ code: 'AGENTID_INVALID_OPTIONS', message: expect.stringMatching(message) }),
      );
  });
});
