import {
  createEmulator,
  DEFAULT_BLOCKED_ROLES,
  defaultSeed,
  DEMO,
  GRAPH_APP_ID,
  MAX_AGENTS_PER_BLUEPRINT,
  type Emulator,
} from '@agentid/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aadsts, claimsOf, postToken } from '@agentid/test-support/emulator';
import { appToken, graph, graphError } from '@agentid/test-support/graph';

// Agent ID's Graph as documented today: v1.0 and beta, blueprints, inheritable permissions,
// deleted items, group sponsors, credentials refused, orphaned agent users, replication lag.
const T = DEMO.tenantId;
const W = DEMO.blueprints.workers;
const O = DEMO.blueprints.orchestrator;
const ADMIN = { appId: 'ad000000-0000-4000-8000-0000000000a1', secret: 'admin-app-secret' };
const GROUPS = Array.from({ length: 6 }, (_, i) => `9f000000-0000-4000-8000-00000000000${i}`);
const RESOURCES = Array.from({ length: 11 }, (_, i) => ({
  appId: `e${String(i).padStart(7, '0')}-0000-4000-8000-0000000000e0`,
  identifierUri: `api://inh${i}`,
  scopes: ['S.Read', 'S.Write'],
  appRoles: ['R.Do', DEFAULT_BLOCKED_ROLES[0]!],
}));
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const users = (id: string = DEMO.users.sponsor.id) => `https://graph.microsoft.com/v1.0/users/${id}`;
const groups = (id: string) => `https://graph.microsoft.com/v1.0/groups/${id}`;
const V1_AGENT = '/v1.0/servicePrincipals/microsoft.graph.agentIdentity';

let clock = Date.UTC(2026, 11, 1);
let emu: Emulator;
let workers: string;
let admin: string;

function seed() {
  const s = defaultSeed();
  const t = s.tenants[0]!;
  t.groups = GROUPS.map((id, i) => ({
    id,
    displayName: `Agent owners ${i}`,
    members: [DEMO.users.sponsor.id],
  }));
  t.resources!.push(...RESOURCES);
  t.apps!.push({
    appId: ADMIN.appId,
    displayName: 'Provisioning app',
    credentials: { secrets: [ADMIN.secret] },
  });
  t.appRoleAssignments!.push(
    { principalId: ADMIN.appId, resourceAppId: GRAPH_APP_ID, role: 'AgentIdentityBlueprint.Create' },
    { principalId: ADMIN.appId, resourceAppId: GRAPH_APP_ID, role: 'AgentIdentity.Create.All' },
  );
  return s;
}

const createAgent = (token: string, body: Record<string, unknown> = {}, path = V1_AGENT) =>
  graph(emu, 'POST', path, token, {
    displayName: 'agent',
    agentIdentityBlueprintId: W.appId,
    'sponsors@odata.bind': [users()],
    ...body,
  });

const leg1 = (agentId: string) =>
  postToken(emu, T, {
    client_id: W.appId,
    client_secret: W.secret,
    grant_type: 'client_credentials',
    scope: 'api://AzureADTokenExchange/.default',
    fmi_path: agentId,
  });

async function leg2(agentId: string, scope: string) {
  const t1 = await leg1(agentId);
  return postToken(emu, T, {
    client_id: agentId,
    grant_type: 'client_credentials',
    scope,
    client_assertion_type: JWT_BEARER,
    client_assertion: String(t1.body.access_token),
  });
}

const delegated = (scope: string) =>
  emu.issueUserToken({ user: DEMO.users.alice.upn, scopes: [`https://graph.microsoft.com/${scope}`] });

beforeAll(async () => {
  emu = await createEmulator({ seed: seed(), clock: { now: () => clock } });
  workers = await appToken(emu, T, W);
  admin = await appToken(emu, T, ADMIN);
});
afterAll(() => emu.close());

describe('Graph v1.0 and beta', () => {
  it('creates agent identities on both paths and agent users on both (v1.0 cast, beta @odata.type); lists with $filter', async () => {
    const v1 = await createAgent(workers, { displayName: 'v1 agent', tags: ['team:a'] });
    expect(v1.status).toBe(201);
    expect(v1.body['@odata.context']).toBe(
      'https://graph.microsoft.com/v1.0/$metadata#servicePrincipals/$entity',
    );
    expect(v1.body).toMatchObject({ appId: v1.body.id, tags: ['team:a'], agentIdentityBlueprintId: W.appId });
    const beta = await createAgent(workers, {}, '/beta/serviceprincipals/Microsoft.Graph.AgentIdentity');
    expect(beta.status).toBe(201);
    expect(String(beta.body['@odata.context'])).toContain('/beta/');

    const u1 = await graph(emu, 'POST', '/v1.0/users/microsoft.graph.agentUser', workers, {
      accountEnabled: true,
      displayName: 'v1 user',
      mailNickname: 'v1user',
      userPrincipalName: 'v1user@contoso.onmicrosoft.com',
      identityParentId: v1.body.id,
    });
    expect(u1.status).toBe(201);
    const u2 = await graph(emu, 'POST', '/beta/users', workers, {
      '@odata.type': 'microsoft.graph.agentUser',
      accountEnabled: true,
      displayName: 'beta user',
      mailNickname: 'betauser',
      userPrincipalName: 'betauser@contoso.onmicrosoft.com',
      identityParentId: beta.body.id,
    });
    expect(u2.status).toBe(201);
    // Required properties are required; beta /users without the @odata.type is not an agent user.
    for (const missing of ['accountEnabled', 'mailNickname', 'identityParentId'])
      graphError(
        await graph(emu, 'POST', '/v1.0/users/microsoft.graph.agentUser', workers, {
          ...{
            accountEnabled: true,
            displayName: 'x',
            mailNickname: 'x',
            userPrincipalName: 'x@contoso.onmicrosoft.com',
          },
          identityParentId: v1.body.id,
          [missing]: undefined,
        }),
        400,
      );
    graphError(await graph(emu, 'POST', '/beta/users', workers, { displayName: 'plain' }), 400);

    const byParent = await graph(
      emu,
      'GET',
      `/v1.0/users/microsoft.graph.agentUser?$filter=${encodeURIComponent(`identityParentId eq '${v1.body.id}'`)}`,
      workers,
    );
    expect(byParent.status).toBe(200);
    expect((byParent.body.value as unknown[]).map((u) => (u as { id: string }).id)).toEqual([u1.body.id]);
    const tagged = await graph(
      emu,
      'GET',
      `${V1_AGENT}?$filter=${encodeURIComponent(`agentIdentityBlueprintId eq '${W.appId}' and tags/any(t:t eq 'team:a')`)}`,
      workers,
    );
    expect((tagged.body.value as { id: string }[]).map((a) => a.id)).toEqual([v1.body.id]);
    graphError(await graph(emu, 'GET', `${V1_AGENT}?$filter=startswith(displayName,'v')`, workers), 400);
    // The cast forms address the same objects.
    for (const p of [
      `${V1_AGENT}/${String(v1.body.id)}`,
      `/v1.0/servicePrincipals/${String(v1.body.id)}/microsoft.graph.agentIdentity`,
    ])
      expect((await graph(emu, 'GET', p, workers)).body.displayName).toBe('v1 agent');
    expect(
      (await graph(emu, 'GET', `/v1.0/users/microsoft.graph.agentUser/${String(u1.body.id)}`, workers)).body
        .id,
    ).toBe(u1.body.id);
  });

  it('answers in Graph’s error shape, echoing client-request-id', async () => {
    const r = await graph(
      emu,
      'GET',
      '/v1.0/servicePrincipals/00000000-0000-4000-8000-00000000dead',
      workers,
      undefined,
      {
        'client-request-id': 'abc-123',
      },
    );
    expect(graphError(r, 404)).toBe('Request_ResourceNotFound');
    expect((r.body.error as { innerError: Record<string, unknown> }).innerError).toMatchObject({
      'client-request-id': 'abc-123',
      date: new Date(clock).toISOString(),
    });
  });
});

describe('who may create agent identities', () => {
  it('an agent identity may not (Error_AgentIdentitiesCreatingAgentIdentitiesNotAllowed); a plain app only for its own blueprint (Error_AgentIdentitySelfCreateRequired)', async () => {
    const t1 = await leg1(DEMO.agents.mail);
    const agentGraph = await postToken(emu, T, {
      client_id: DEMO.agents.mail,
      grant_type: 'client_credentials',
      scope: 'https://graph.microsoft.com/.default',
      client_assertion_type: JWT_BEARER,
      client_assertion: String(t1.body.access_token),
    });
    expect(graphError(await createAgent(String(agentGraph.body.access_token)), 403)).toBe(
      'Error_AgentIdentitiesCreatingAgentIdentitiesNotAllowed',
    );
    expect(graphError(await createAgent(admin), 403)).toBe('Error_AgentIdentitySelfCreateRequired');
    expect(graphError(await createAgent(workers, { agentIdentityBlueprintId: 'not-a-blueprint' }), 400)).toBe(
      'AgentIdentity_IncompatibleParentType',
    );
  });
});

describe('blueprints', () => {
  it('creates a blueprint (identifier URI by PATCH); its principal is required before an agent identity (AgentIdentity_AgentBlueprintPrincipalDoesNotExist)', async () => {
    const bp = await graph(emu, 'POST', '/v1.0/applications/microsoft.graph.agentIdentityBlueprint', admin, {
      displayName: 'New blueprint',
      'sponsors@odata.bind': [users()],
    });
    expect(bp.status).toBe(201);
    const appId = String(bp.body.appId);
    expect(bp.body).toMatchObject({
      '@odata.type': '#microsoft.graph.agentIdentityBlueprint',
      identifierUris: [],
    });
    graphError(
      await graph(emu, 'POST', '/v1.0/applications/microsoft.graph.agentIdentityBlueprint', workers, {
        displayName: 'x',
      }),
      403,
    );
    expect(
      (
        await graph(emu, 'PATCH', `/v1.0/applications/${String(bp.body.id)}`, admin, {
          identifierUris: [`api://${appId}`],
        })
      ).status,
    ).toBe(204);
    expect(
      (await graph(emu, 'GET', `/v1.0/applications/${String(bp.body.id)}`, admin)).body.identifierUris,
    ).toEqual([`api://${appId}`]);
    const adminUser = await delegated('AgentIdentity.ReadWrite.All');
    const body = { agentIdentityBlueprintId: appId };
    expect(graphError(await createAgent(adminUser, body), 400)).toBe(
      'AgentIdentity_AgentBlueprintPrincipalDoesNotExist',
    );
    const sp = await graph(
      emu,
      'POST',
      '/v1.0/serviceprincipals/microsoft.graph.agentIdentityBlueprintPrincipal',
      admin,
      {
        appId,
      },
    );
    expect(sp.status).toBe(201);
    const child = await createAgent(adminUser, body);
    expect(child.status).toBe(201);
    const childUser = await graph(emu, 'POST', '/v1.0/users/microsoft.graph.agentUser', adminUser, {
      accountEnabled: true,
      displayName: 'child user',
      mailNickname: 'child',
      userPrincipalName: 'child@contoso.onmicrosoft.com',
      identityParentId: child.body.id,
    });
    expect(childUser.status).toBe(201);
    // Deleting the blueprint principal cascades to its agent identities and their agent users.
    expect((await graph(emu, 'GET', `/v1.0/servicePrincipals/${String(sp.body.id)}`, admin)).body.appId).toBe(
      appId,
    );
    expect((await graph(emu, 'DELETE', `/v1.0/servicePrincipals/${String(sp.body.id)}`, admin)).status).toBe(
      204,
    );
    const t = emu.directory.tenant(T)!;
    expect(t.agents.get(String(child.body.id))?.deleted).toBe(true);
    expect(t.agentUsers.has(String(childUser.body.id))).toBe(false);
    expect(emu.directory.deletedItems.has(String(childUser.body.id))).toBe(true);
    expect(t.blueprints.get(appId)!.principalId).toBeUndefined();
    expect(graphError(await createAgent(adminUser, body), 400)).toBe(
      'AgentIdentity_AgentBlueprintPrincipalDoesNotExist',
    );
  });

  it('at most 250 blueprints per tenant for app-only callers (AgentBlueprint_LimitExceeded); a tenant quota answers Agent_Directory_QuotaExceeded', async () => {
    const quotaEmu = await createEmulator({ seed: seed(), graph: { directoryQuota: 20 } });
    const adminToken = await appToken(quotaEmu, T, ADMIN);
    const make = () =>
      graph(quotaEmu, 'POST', '/v1.0/applications/microsoft.graph.agentIdentityBlueprint', adminToken, {
        displayName: 'b',
      });
    let last = await make();
    while (last.status === 201) last = await make();
    expect(graphError(last, 400)).toBe('Agent_Directory_QuotaExceeded');
    quotaEmu.graph.directoryQuota = undefined;
    last = await make();
    while (last.status === 201) last = await make();
    expect(graphError(last, 400)).toBe('AgentBlueprint_LimitExceeded');
    expect(quotaEmu.directory.tenant(T)!.blueprints.size).toBe(250);
  });
});

describe('inheritable permissions', () => {
  const path = (rid = '') =>
    `/v1.0/applications/microsoft.graph.agentIdentityBlueprint/${W.appId}/inheritablePermissions${rid ? `/${rid}` : ''}`;
  const enumerated = (rid: string) => ({
    resourceAppId: rid,
    inheritableScopes: { '@odata.type': '#microsoft.graph.enumeratedScopes', scopes: ['S.Read'] },
    inheritableRoles: { '@odata.type': '#microsoft.graph.enumeratedRoles', roles: ['R.Do'] },
  });

  it('POST (409 on a duplicate), inherited roles show in agent tokens, PATCH, DELETE; at most 10 resource apps; never a high-privilege role', async () => {
    const r0 = RESOURCES[0]!;
    const agent = String((await createAgent(workers)).body.id);
    const rolesNow = async () =>
      claimsOf((await leg2(agent, `${r0.identifierUri}/.default`)).body.access_token).roles;
    expect(await rolesNow()).toBeUndefined();
    const made = await graph(emu, 'POST', path(), workers, enumerated(r0.appId));
    expect(made.status).toBe(201);
    expect(graphError(await graph(emu, 'POST', path(), workers, enumerated(r0.appId)), 409)).toBe(
      'Request_MultipleObjectsWithSameKeyValue',
    );
    const t = await leg2(agent, `${r0.identifierUri}/.default`);
    expect(t.status).toBe(200);
    expect(claimsOf(t.body.access_token).roles).toEqual(['R.Do']);
    // PATCH to all allowed scopes, then read it back (the other path form works too).
    expect(
      (
        await graph(emu, 'PATCH', path(r0.appId), workers, {
          inheritableScopes: { '@odata.type': '#microsoft.graph.allAllowedScopes' },
        })
      ).status,
    ).toBe(204);
    const read = await graph(
      emu,
      'GET',
      `/v1.0/applications/${W.appId}/microsoft.graph.agentIdentityBlueprint/inheritablePermissions/${r0.appId}`,
      workers,
    );
    expect(read.body).toMatchObject({
      inheritableScopes: { scopes: ['S.Read', 'S.Write'] },
      inheritableRoles: { roles: ['R.Do'] },
    });
    graphError(
      await graph(emu, 'POST', path(), workers, {
        ...enumerated(RESOURCES[1]!.appId),
        inheritableRoles: { roles: [DEFAULT_BLOCKED_ROLES[0]] },
      }),
      400,
    );
    // The workers blueprint already inherits on api://reports: 2 now, fill up to 10, the 11th is refused.
    let n = emu.directory.tenant(T)!.blueprints.get(W.appId)!.inheritable.size;
    for (let i = 1; n < 10; i++, n++)
      expect((await graph(emu, 'POST', path(), workers, enumerated(RESOURCES[i]!.appId))).status).toBe(201);
    graphError(await graph(emu, 'POST', path(), workers, enumerated(RESOURCES[10]!.appId)), 400);
    expect(((await graph(emu, 'GET', path(), workers)).body.value as unknown[]).length).toBe(10);
    graphError(
      await graph(emu, 'POST', path(), await appToken(emu, T, O), enumerated(RESOURCES[10]!.appId)),
      403,
    );
    expect((await graph(emu, 'DELETE', path(r0.appId), workers)).status).toBe(204);
    graphError(await graph(emu, 'DELETE', path(r0.appId), workers), 404);
    expect(await rolesNow()).toBeUndefined();
  });
});

describe('sponsors, credentials, deleted items, orphans', () => {
  it('sponsors may be groups (at most 5 of at most 100); unknown ones are 400', async () => {
    const five = GROUPS.slice(0, 5).map(groups);
    const r = await createAgent(workers, { 'sponsors@odata.bind': [...five, users()] });
    expect(r.status).toBe(201);
    expect(emu.directory.tenant(T)!.agents.get(String(r.body.id))!.sponsors).toEqual([
      ...GROUPS.slice(0, 5),
      DEMO.users.sponsor.id,
    ]);
    graphError(await createAgent(workers, { 'sponsors@odata.bind': GROUPS.map(groups) }), 400);
    graphError(
      await createAgent(workers, { 'sponsors@odata.bind': Array.from({ length: 101 }, () => users()) }),
      400,
    );
    graphError(await createAgent(workers, { 'sponsors@odata.bind': [groups(DEMO.users.sponsor.id)] }), 400);
    graphError(await createAgent(workers, { 'sponsors@odata.bind': [users(GROUPS[0])] }), 400);
  });

  it('an agent identity holds no credentials: AgentIdentity_CredentialsNotSupported, PropertyNotCompatibleWithAgentIdentity', async () => {
    const id = String((await createAgent(workers)).body.id);
    for (const action of ['addPassword', 'addKey', 'federatedIdentityCredentials'])
      expect(
        graphError(await graph(emu, 'POST', `/v1.0/servicePrincipals/${id}/${action}`, workers, {}), 400),
      ).toBe('AgentIdentity_CredentialsNotSupported');
    expect(
      graphError(
        await graph(emu, 'PATCH', `/v1.0/servicePrincipals/${id}`, workers, { keyCredentials: [] }),
        400,
      ),
    ).toBe('PropertyNotCompatibleWithAgentIdentity');
    expect(graphError(await createAgent(workers, { passwordCredentials: [{}] }), 400)).toBe(
      'PropertyNotCompatibleWithAgentIdentity',
    );
  });

  it('deleting an agent identity orphans its agent user (kept, no tokens); deleted items list, restore, purge; 30 days of retention', async () => {
    const id = String((await createAgent(workers, { displayName: 'to delete' })).body.id);
    const upn = `orphan-${id.slice(0, 8)}@contoso.onmicrosoft.com`;
    const u = await graph(emu, 'POST', '/v1.0/users/microsoft.graph.agentUser', workers, {
      accountEnabled: true,
      displayName: 'orphan',
      mailNickname: 'orphan',
      userPrincipalName: upn,
      identityParentId: id,
    });
    expect((await graph(emu, 'DELETE', `/v1.0/servicePrincipals/${id}`, workers)).status).toBe(204);
    expect((await graph(emu, 'GET', `/v1.0/users/${String(u.body.id)}`, workers)).status).toBe(200);
    expect(aadsts((await leg1(id)).body)).toBe(700016);
    const listed = await graph(
      emu,
      'GET',
      '/v1.0/directory/deletedItems/microsoft.graph.agentIdentity',
      workers,
    );
    const item = (listed.body.value as Record<string, unknown>[]).find((i) => i.id === id)!;
    expect(item).toMatchObject({ displayName: 'to delete', deletedDateTime: new Date(clock).toISOString() });
    expect((await graph(emu, 'GET', `/v1.0/directory/deletedItems/${id}`, workers)).status).toBe(200);
    graphError(await graph(emu, 'GET', `/v1.0/directory/deletedItems/${id}`, await appToken(emu, T, O)), 403);
    // Restore: the agent gets tokens again, with its agent user.
    expect((await graph(emu, 'POST', `/v1.0/directory/deletedItems/${id}/restore`, workers)).status).toBe(
      200,
    );
    expect((await leg1(id)).status).toBe(200);
    graphError(await graph(emu, 'POST', `/v1.0/directory/deletedItems/${id}/restore`, workers), 404);
    // Delete the agent user by hand, then the identity; purge both.
    expect((await graph(emu, 'DELETE', `/v1.0/users/${String(u.body.id)}`, workers)).status).toBe(204);
    const deletedUsers = await graph(
      emu,
      'GET',
      '/v1.0/directory/deletedItems/microsoft.graph.agentUser',
      workers,
    );
    expect((deletedUsers.body.value as { id: string }[]).some((x) => x.id === u.body.id)).toBe(true);
    expect(
      (await graph(emu, 'DELETE', `/v1.0/directory/deletedItems/${String(u.body.id)}`, workers)).status,
    ).toBe(204);
    expect((await graph(emu, 'DELETE', `/v1.0/servicePrincipals/${id}`, workers)).status).toBe(204);
    // After 30 days Entra removes it on its own.
    clock += 30 * 24 * 3600_000;
    const later = await appToken(emu, T, W);
    graphError(await graph(emu, 'GET', `/v1.0/directory/deletedItems/${id}`, later), 404);
    expect(emu.directory.tenant(T)!.agents.has(id)).toBe(false);
    workers = later;
  });

  it('the 250 limit counts soft-deleted agent identities for app-only callers (AgentIdentity_LimitExceeded); delegated admins are not limited', async () => {
    const local = await createEmulator({ seed: seed() });
    const token = await appToken(local, T, W);
    const t = local.directory.tenant(T)!;
    const ours = () => [...t.agents.values()].filter((a) => a.blueprintAppId === W.appId).length;
    while (ours() < MAX_AGENTS_PER_BLUEPRINT - 1)
      local.directory.createAgentIdentity(T, { blueprintAppId: W.appId, sponsors: [DEMO.users.sponsor.id] });
    const body = { displayName: 'n', agentIdentityBlueprintId: W.appId, 'sponsors@odata.bind': [users()] };
    const last = await graph(local, 'POST', V1_AGENT, token, body);
    expect(last.status).toBe(201);
    expect(
      (await graph(local, 'DELETE', `/v1.0/servicePrincipals/${String(last.body.id)}`, token)).status,
    ).toBe(204);
    expect(graphError(await graph(local, 'POST', V1_AGENT, token, body), 400)).toBe(
      'AgentIdentity_LimitExceeded',
    );
    const adminUser = await local.issueUserToken({
      user: DEMO.users.alice.upn,
      scopes: ['https://graph.microsoft.com/AgentIdentity.ReadWrite.All'],
    });
    expect((await graph(local, 'POST', V1_AGENT, adminUser, body)).status).toBe(201);
    expect(
      (await graph(local, 'DELETE', `/v1.0/directory/deletedItems/${String(last.body.id)}`, token)).status,
    ).toBe(204);
    expect(graphError(await graph(local, 'POST', V1_AGENT, token, body), 400)).toBe(
      'AgentIdentity_LimitExceeded',
    );
  });
});

describe('replication delay', () => {
  it('with replicationLag, the first references to a new object answer 400 Object with id … not found', async () => {
    const lagged = await createEmulator({ graph: { replicationLag: 2 } });
    const token = await appToken(lagged, T, W);
    const made = await graph(lagged, 'POST', V1_AGENT, token, {
      displayName: 'fresh',
      agentIdentityBlueprintId: W.appId,
      'sponsors@odata.bind': [users()],
    });
    const id = String(made.body.id);
    for (let i = 0; i < 2; i++) {
      const miss = await graph(lagged, 'GET', `/v1.0/servicePrincipals/${id}`, token);
      expect(graphError(miss, 400)).toBe('Request_BadRequest');
      expect((miss.body.error as { message: string }).message).toBe(`Object with id '${id}' not found.`);
    }
    expect((await graph(lagged, 'GET', `/v1.0/servicePrincipals/${id}`, token)).status).toBe(200);
    await expect(createEmulator({ graph: { replicationLag: -1 } })).rejects.toThrow(/replicationLag/);
    // Other processes set it through the admin API.
    const admin = (body: unknown) =>
      lagged.fetch(`${lagged.baseUrl}/_emulator/graph`, { method: 'POST', body: JSON.stringify(body) });
    expect(await (await admin({ replicationLag: 0, directoryQuota: 5 })).json()).toEqual({
      replicationLag: 0,
      directoryQuota: 5,
    });
    expect(lagged.graph.directoryQuota).toBe(5);
    expect((await admin({ replicationLag: 'x' })).status).toBe(400);
    expect(await (await admin({ directoryQuota: null })).json()).toEqual({ replicationLag: 0 });
  });
});
