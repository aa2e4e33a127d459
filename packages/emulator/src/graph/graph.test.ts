import { createEmulator, DEMO, MAX_AGENTS_PER_BLUEPRINT, type Emulator } from '@agentid/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { aadsts, claimsOf, postToken } from '@agentid/test-support/emulator';
import { appToken as graphAppToken, graph, graphError, type GraphAnswer } from '@agentid/test-support/graph';

// The Graph subset, in-process, authorized by blueprint app tokens from the token endpoint.
const T = DEMO.tenantId;
const W = DEMO.blueprints.workers;
const O = DEMO.blueprints.orchestrator;
const EX = 'api://AzureADTokenExchange/.default';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const GRAPH_DEFAULT = 'https://graph.microsoft.com/.default';
const sponsorBind = (id: string = DEMO.users.sponsor.id) => `https://graph.microsoft.com/v1.0/users/${id}`;

const appToken = (emu: Emulator, bp: { appId: string; secret: string }, scope = GRAPH_DEFAULT) =>
  graphAppToken(emu, T, bp, scope);

const leg1 = (emu: Emulator, agentId: string, bp: { appId: string; secret: string } = W) =>
  postToken(emu, T, {
    client_id: bp.appId,
    client_secret: bp.secret,
    grant_type: 'client_credentials',
    scope: EX,
    fmi_path: agentId,
  });

async function createAgent(
  emu: Emulator,
  token: string,
  overrides: Record<string, unknown> = {},
): Promise<GraphAnswer> {
  return graph(emu, 'POST', '/beta/serviceprincipals/Microsoft.Graph.AgentIdentity', token, {
    displayName: 'Graph-made agent',
    agentIdentityBlueprintId: W.appId,
    'sponsors@odata.bind': [sponsorBind()],
    ...overrides,
  });
}

describe('Graph: agent identities', () => {
  let clock = Date.now();
  let emu: Emulator;
  let workers: string;
  let orchestrator: string;
  beforeAll(async () => {
    emu = await createEmulator({ clock: { now: () => clock } });
  });
  beforeEach(async () => {
    clock = Date.now();
    workers = await appToken(emu, W);
    orchestrator = await appToken(emu, O);
  });
  afterAll(() => emu.close());

  it('a blueprint token for Graph carries the roles the Graph subset checks', () => {
    const c = claimsOf(workers);
    expect(c.aud).toBe('00000003-0000-0000-c000-000000000000');
    expect(c.azp).toBe(W.appId);
    expect(c.roles).toEqual(
      expect.arrayContaining(['AgentIdentity.CreateAsManager', 'AgentIdUser.ReadWrite.IdentityParentedBy']),
    );
  });

  it('creates an agent identity (201 with id and appId); the new agent then gets leg-1 and leg-2 tokens', async () => {
    const r = await createAgent(emu, workers, { displayName: 'Invoice agent' });
    expect(r.status).toBe(201);
    const id = String(r.body.id);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.body).toMatchObject({
      appId: id,
      displayName: 'Invoice agent',
      agentIdentityBlueprintId: W.appId,
      accountEnabled: true,
    });
    expect(String(r.body['@odata.type']).toLowerCase()).toBe('#microsoft.graph.agentidentity');
    expect(emu.directory.tenant(T)!.agents.get(id)?.sponsors).toEqual([DEMO.users.sponsor.id]);

    const t1 = await leg1(emu, id);
    expect(t1.status).toBe(200);
    expect(String(claimsOf(t1.body.access_token).sub).endsWith(`/${id}`)).toBe(true);
    const t2 = await postToken(emu, T, {
      client_id: id,
      grant_type: 'client_credentials',
      scope: 'api://reports/.default',
      client_assertion_type: JWT_BEARER,
      client_assertion: String(t1.body.access_token),
    });
    expect(t2.status).toBe(200);
    // Inherited from the workers blueprint.
    expect(claimsOf(t2.body.access_token)).toMatchObject({
      oid: id,
      azp: id,
      roles: ['Reports.Generate'],
      xms_par_app_azp: W.appId,
    });

    // Another blueprint cannot get tokens for it.
    expect(aadsts((await leg1(emu, id, O)).body)).toBe(700016);

    const got = await graph(emu, 'GET', `/beta/serviceprincipals/${id}`, workers);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id, appId: id, displayName: 'Invoice agent' });
  });

  it('Graph paths are case-insensitive (SDKs send /beta/servicePrincipals/{id})', async () => {
    const id = String((await createAgent(emu, workers)).body.id);
    expect((await graph(emu, 'GET', `/beta/servicePrincipals/${id}`, workers)).status).toBe(200);
    expect(
      (
        await graph(emu, 'POST', '/beta/servicePrincipals/microsoft.graph.agentIdentity', workers, {
          displayName: 'x',
          agentIdentityBlueprintId: W.appId,
          'sponsors@odata.bind': [sponsorBind()],
        })
      ).status,
    ).toBe(201);
    expect((await graph(emu, 'DELETE', `/beta/servicePrincipals/${id}/`, workers)).status).toBe(204);
  });

  it('requires at least one sponsor, and sponsors that are users of the tenant', async () => {
    expect(graphError(await createAgent(emu, workers, { 'sponsors@odata.bind': undefined }), 400)).toBe(
      'Request_BadRequest',
    );
    expect(graphError(await createAgent(emu, workers, { 'sponsors@odata.bind': [] }), 400)).toBe(
      'Request_BadRequest',
    );
    const unknown = await createAgent(emu, workers, {
      'sponsors@odata.bind': [sponsorBind('00000000-0000-4000-8000-00000000dead')],
    });
    graphError(unknown, 400);
    expect(JSON.stringify(unknown.body)).toContain('00000000-0000-4000-8000-00000000dead');
    // An agent user is not a user who can sponsor.
    graphError(
      await createAgent(emu, workers, {
        'sponsors@odata.bind': [sponsorBind(DEMO.agentUsers.digitalWorker.id)],
      }),
      400,
    );
    // One bad sponsor among good ones fails the whole request and creates nothing.
    const before = emu.directory.tenant(T)!.agents.size;
    graphError(
      await createAgent(emu, workers, { 'sponsors@odata.bind': [sponsorBind(), sponsorBind('nobody')] }),
      400,
    );
    expect(emu.directory.tenant(T)!.agents.size).toBe(before);
  });

  it('requires a displayName', async () => {
    graphError(await createAgent(emu, workers, { displayName: undefined }), 400);
    graphError(await createAgent(emu, workers, { displayName: '' }), 400);
  });

  it('a blueprint cannot create an agent identity for another blueprint (403)', async () => {
    const before = emu.directory.tenant(T)!.agents.size;
    expect(graphError(await createAgent(emu, orchestrator), 403)).toBe(
      'Error_AgentBlueprintCannotCreateAssociatedIdentity',
    );
    expect(graphError(await createAgent(emu, workers, { agentIdentityBlueprintId: O.appId }), 403)).toBe(
      'Error_AgentBlueprintCannotCreateAssociatedIdentity',
    );
    expect(emu.directory.tenant(T)!.agents.size).toBe(before);
  });

  it('rejects a missing, malformed, badly signed or expired bearer token with 401 InvalidAuthenticationToken', async () => {
    const body = {
      displayName: 'x',
      agentIdentityBlueprintId: W.appId,
      'sponsors@odata.bind': [sponsorBind()],
    };
    const path = '/beta/serviceprincipals/Microsoft.Graph.AgentIdentity';
    expect(graphError(await graph(emu, 'POST', path, undefined, body), 401)).toBe(
      'InvalidAuthenticationToken',
    );
    expect(graphError(await graph(emu, 'POST', path, 'not-a-jwt', body), 401)).toBe(
      'InvalidAuthenticationToken',
    );
    expect(graphError(await graph(emu, 'POST', path, '', body), 401)).toBe('InvalidAuthenticationToken');
    expect(
      graphError(await graph(emu, 'POST', path, undefined, body, { authorization: `Basic ${workers}` }), 401),
    ).toBe('InvalidAuthenticationToken');
    const [h, p] = workers.split('.');
    expect(graphError(await graph(emu, 'POST', path, `${h}.${p}.AAAA`, body), 401)).toBe(
      'InvalidAuthenticationToken',
    );
    // A token with forged claims but the original signature.
    const forged = Buffer.from(JSON.stringify({ ...claimsOf(workers), azp: O.appId })).toString('base64url');
    expect(
      graphError(await graph(emu, 'POST', path, `${h}.${forged}.${workers.split('.')[2]}`, body), 401),
    ).toBe('InvalidAuthenticationToken');
    // Expired: past exp plus the tolerated clock skew.
    clock += 2 * 3600_000;
    expect(graphError(await graph(emu, 'POST', path, workers, body), 401)).toBe('InvalidAuthenticationToken');
    expect(
      graphError(await graph(emu, 'GET', `/beta/serviceprincipals/${DEMO.agents.mail}`, workers), 401),
    ).toBe('InvalidAuthenticationToken');
  });

  it('rejects tokens for another audience (the exchange audience, an API, a user token for the blueprint)', async () => {
    const path = '/beta/serviceprincipals/Microsoft.Graph.AgentIdentity';
    const body = {
      displayName: 'x',
      agentIdentityBlueprintId: W.appId,
      'sponsors@odata.bind': [sponsorBind()],
    };
    const t1 = String((await leg1(emu, DEMO.agents.mail)).body.access_token);
    expect(graphError(await graph(emu, 'POST', path, t1, body), 401)).toBe('InvalidAuthenticationToken');
    const api = await appToken(emu, W, 'api://tools/.default');
    expect(graphError(await graph(emu, 'POST', path, api, body), 401)).toBe('InvalidAuthenticationToken');
    const user = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      scopes: [`api://${W.appId}/access_agent`],
    });
    expect(graphError(await graph(emu, 'POST', path, user, body), 401)).toBe('InvalidAuthenticationToken');
  });

  it('a Graph token without the agent-management roles is refused (403): an agent or a user token', async () => {
    const t1 = String((await leg1(emu, DEMO.agents.mail)).body.access_token);
    const agentGraph = await postToken(emu, T, {
      client_id: DEMO.agents.mail,
      grant_type: 'client_credentials',
      scope: GRAPH_DEFAULT,
      client_assertion_type: JWT_BEARER,
      client_assertion: t1,
    });
    expect(agentGraph.status).toBe(200);
    graphError(await createAgent(emu, String(agentGraph.body.access_token)), 403);
    const userGraph = await emu.issueUserToken({ user: DEMO.users.alice.upn, scopes: ['User.Read'] });
    graphError(await createAgent(emu, userGraph), 403);
  });

  it('non-JSON and non-object bodies are 400 in Graph shape', async () => {
    const path = '/beta/serviceprincipals/Microsoft.Graph.AgentIdentity';
    graphError(await graph(emu, 'POST', path, workers, '{not json'), 400);
    graphError(await graph(emu, 'POST', path, workers, '[1,2]'), 400);
    graphError(await graph(emu, 'POST', path, workers, 'null'), 400);
    graphError(await graph(emu, 'POST', path, workers, ''), 400);
    graphError(await graph(emu, 'POST', '/beta/users', workers, 'nope'), 400);
    graphError(
      await graph(
        emu,
        'PATCH',
        `/beta/serviceprincipals/${DEMO.agents.reporter}`,
        workers,
        '{"accountEnabled":',
      ),
      400,
    );
    // A PATCH that failed to parse changed nothing.
    expect(emu.directory.tenant(T)!.agents.get(DEMO.agents.reporter)!.enabled).toBe(true);
  });

  it('unknown agents are 404, another blueprint’s agents 403, unknown segments 400', async () => {
    expect(
      graphError(
        await graph(emu, 'GET', '/beta/serviceprincipals/00000000-0000-4000-8000-000000000999', workers),
        404,
      ),
    ).toBe('Request_ResourceNotFound');
    expect(
      graphError(
        await graph(emu, 'GET', `/beta/serviceprincipals/${DEMO.agents.orchestrator}`, workers),
        403,
      ),
    ).toBe('Authorization_RequestDenied');
    expect(
      graphError(
        await graph(emu, 'DELETE', `/beta/serviceprincipals/${DEMO.agents.orchestrator}`, workers),
        403,
      ),
    ).toBe('Authorization_RequestDenied');
    expect(
      graphError(
        await graph(emu, 'PATCH', `/beta/serviceprincipals/${DEMO.agents.orchestrator}`, workers, {
          accountEnabled: false,
        }),
        403,
      ),
    ).toBe('Authorization_RequestDenied');
    expect(emu.directory.tenant(T)!.agents.get(DEMO.agents.orchestrator)!.enabled).toBe(true);
    graphError(await graph(emu, 'GET', '/beta/nothing/here', workers), 400);
    // The client-request-id header is echoed in innerError, as Graph does.
    const r = await graph(emu, 'GET', '/beta/nothing', workers, undefined, {
      'client-request-id': 'abc-123',
    });
    expect((r.body.error as { innerError: Record<string, unknown> }).innerError['client-request-id']).toBe(
      'abc-123',
    );
  });

  it('PATCH accountEnabled=false stops leg 1 (AADSTS7000112) and leg 2; true restores it', async () => {
    const id = String((await createAgent(emu, workers)).body.id);
    const t1 = String((await leg1(emu, id)).body.access_token);
    const p = await graph(emu, 'PATCH', `/beta/serviceprincipals/${id}`, workers, { accountEnabled: false });
    expect(p.status).toBe(204);
    expect(p.text).toBe('');
    expect((await graph(emu, 'GET', `/beta/serviceprincipals/${id}`, workers)).body.accountEnabled).toBe(
      false,
    );
    const denied = await leg1(emu, id);
    expect(denied.status).toBe(400);
    expect(aadsts(denied.body)).toBe(7000112);
    // A T1 obtained before the agent was disabled no longer works either.
    const l2 = await postToken(emu, T, {
      client_id: id,
      grant_type: 'client_credentials',
      scope: 'api://reports/.default',
      client_assertion_type: JWT_BEARER,
      client_assertion: t1,
    });
    expect(aadsts(l2.body)).toBe(7000112);
    // Other agents of the blueprint are unaffected.
    expect((await leg1(emu, DEMO.agents.mail)).status).toBe(200);
    expect(
      (await graph(emu, 'PATCH', `/beta/serviceprincipals/${id}`, workers, { accountEnabled: true })).status,
    ).toBe(204);
    expect((await leg1(emu, id)).status).toBe(200);
  });

  it('DELETE an agent identity: 204, no more tokens, its agent user orphaned (not deleted), GET 404, second DELETE 404', async () => {
    const id = String((await createAgent(emu, workers)).body.id);
    const upn = `deleted-${id.slice(0, 8)}@contoso.onmicrosoft.com`;
    const u = await graph(emu, 'POST', '/beta/users', workers, {
      '@odata.type': 'microsoft.graph.agentUser',
      accountEnabled: true,
      mailNickname: 'deleted',
      userPrincipalName: upn,
      identityParentId: id,
      displayName: 'to be deleted',
    });
    expect(u.status).toBe(201);
    const userId = String(u.body.id);
    const t1 = String((await leg1(emu, id)).body.access_token);

    const d = await graph(emu, 'DELETE', `/beta/serviceprincipals/${id}`, workers);
    expect(d.status).toBe(204);
    expect(d.text).toBe('');
    const denied = await leg1(emu, id);
    expect(denied.status).toBeGreaterThanOrEqual(400);
    expect(aadsts(denied.body)).toBe(700016);
    // T1 from before the deletion cannot be used by the deleted agent.
    const l2 = await postToken(emu, T, {
      client_id: id,
      grant_type: 'client_credentials',
      scope: 'api://reports/.default',
      client_assertion_type: JWT_BEARER,
      client_assertion: t1,
    });
    expect(l2.status).toBeGreaterThanOrEqual(400);
    // Entra does not cascade: the agent user stays, orphaned, until deleted by hand.
    expect(emu.directory.tenant(T)!.agentUsers.has(userId)).toBe(true);
    expect((await graph(emu, 'GET', `/beta/users/${userId}`, workers)).body.identityParentId).toBe(id);
    expect((await graph(emu, 'DELETE', `/beta/users/${userId}`, workers)).status).toBe(204);
    expect(emu.directory.findUserByUpn(emu.directory.tenant(T)!, upn)).toBeUndefined();
    graphError(await graph(emu, 'GET', `/beta/serviceprincipals/${id}`, workers), 404);
    graphError(await graph(emu, 'DELETE', `/beta/serviceprincipals/${id}`, workers), 404);
    expect(emu.describe().tenants).toBeDefined();
  });

  it('blueprint principal: POST /v1.0/serviceprincipals/microsoft.graph.agentIdentityBlueprintPrincipal', async () => {
    const r = await graph(
      emu,
      'POST',
      '/v1.0/serviceprincipals/microsoft.graph.agentIdentityBlueprintPrincipal',
      workers,
      { appId: W.appId },
    );
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      appId: W.appId,
      id: emu.directory.tenant(T)!.blueprints.get(W.appId)!.principalId,
    });
    graphError(
      await graph(
        emu,
        'POST',
        '/v1.0/serviceprincipals/microsoft.graph.agentIdentityBlueprintPrincipal',
        workers,
        { appId: O.appId },
      ),
      403,
    );
    graphError(
      await graph(
        emu,
        'POST',
        '/v1.0/serviceprincipals/microsoft.graph.agentIdentityBlueprintPrincipal',
        workers,
        { appId: 'nope' },
      ),
      400,
    );
  });
});

describe('Graph: agent users', () => {
  let emu: Emulator;
  let workers: string;
  let orchestrator: string;
  beforeAll(async () => {
    emu = await createEmulator();
    workers = await appToken(emu, W);
    orchestrator = await appToken(emu, O);
  });
  afterAll(() => emu.close());

  const newAgent = async (token = workers, bp = W.appId): Promise<string> => {
    const r = await graph(emu, 'POST', '/beta/serviceprincipals/Microsoft.Graph.AgentIdentity', token, {
      displayName: 'a',
      agentIdentityBlueprintId: bp,
      'sponsors@odata.bind': [sponsorBind()],
    });
    expect(r.status).toBe(201);
    return String(r.body.id);
  };
  const createUser = (token: string, body: Record<string, unknown>) =>
    graph(emu, 'POST', '/beta/users', token, {
      '@odata.type': 'microsoft.graph.agentUser',
      accountEnabled: true,
      mailNickname: 'agent-user',
      displayName: 'Agent user',
      ...body,
    });

  it('creates an agent user (201), GET by id and by UPN, and it can get a user_fic token', async () => {
    const parent = await newAgent();
    const upn = `worker-${parent.slice(0, 8)}@contoso.onmicrosoft.com`;
    const r = await createUser(workers, {
      userPrincipalName: upn,
      identityParentId: parent,
      displayName: 'New worker',
    });
    expect(r.status).toBe(201);
    const id = String(r.body.id);
    expect(r.body).toMatchObject({
      userPrincipalName: upn,
      identityParentId: parent,
      displayName: 'New worker',
    });
    expect(String(r.body['@odata.type']).toLowerCase()).toBe('#microsoft.graph.agentuser');
    expect((await graph(emu, 'GET', `/beta/users/${id}`, workers)).body).toMatchObject({
      id,
      userPrincipalName: upn,
    });
    expect((await graph(emu, 'GET', `/beta/users/${encodeURIComponent(upn)}`, workers)).body).toMatchObject({
      id,
    });

    // The agent user works in the three-leg flow.
    const t1 = String((await leg1(emu, parent)).body.access_token);
    const t2 = await postToken(emu, T, {
      client_id: parent,
      grant_type: 'client_credentials',
      scope: EX,
      client_assertion_type: JWT_BEARER,
      client_assertion: t1,
    });
    expect(t2.status).toBe(200);
    const fic = await postToken(emu, T, {
      client_id: parent,
      grant_type: 'user_fic',
      scope: 'api://reports/Reports.Read',
      client_assertion_type: JWT_BEARER,
      client_assertion: t1,
      user_federated_identity_credential: String(t2.body.access_token),
      user_id: id,
    });
    expect(fic.status).toBe(200);
    expect(claimsOf(fic.body.access_token)).toMatchObject({
      oid: id,
      azp: parent,
      idtyp: 'user',
      xms_sub_fct: '13',
    });
  });

  it('an agent identity has at most one agent user (1:1)', async () => {
    const parent = await newAgent();
    expect(
      (
        await createUser(workers, {
          userPrincipalName: `one-${parent.slice(0, 8)}@contoso.onmicrosoft.com`,
          identityParentId: parent,
        })
      ).status,
    ).toBe(201);
    const second = await createUser(workers, {
      userPrincipalName: `two-${parent.slice(0, 8)}@contoso.onmicrosoft.com`,
      identityParentId: parent,
    });
    graphError(second, 400);
    expect(
      emu.directory.findUserByUpn(
        emu.directory.tenant(T)!,
        `two-${parent.slice(0, 8)}@contoso.onmicrosoft.com`,
      ),
    ).toBeUndefined();
    // The seeded digital worker already has one.
    graphError(
      await createUser(workers, {
        userPrincipalName: 'dw2@contoso.onmicrosoft.com',
        identityParentId: DEMO.agents.digitalWorker,
      }),
      400,
    );
  });

  it('a UPN already used by a user or an agent user is 400 (case-insensitively); a non-UPN is 400', async () => {
    graphError(
      await createUser(workers, {
        userPrincipalName: DEMO.users.alice.upn,
        identityParentId: await newAgent(),
      }),
      400,
    );
    graphError(
      await createUser(workers, {
        userPrincipalName: DEMO.agentUsers.digitalWorker.upn.toUpperCase(),
        identityParentId: await newAgent(),
      }),
      400,
    );
    graphError(
      await createUser(workers, { userPrincipalName: 'no-at-sign', identityParentId: await newAgent() }),
      400,
    );
    graphError(await createUser(workers, { identityParentId: await newAgent() }), 400);
  });

  it('the parent must be an existing agent identity; only agentUser can be created', async () => {
    graphError(
      await createUser(workers, {
        userPrincipalName: 'orphan@contoso.onmicrosoft.com',
        identityParentId: '00000000-0000-4000-8000-000000000999',
      }),
      400,
    );
    graphError(await createUser(workers, { userPrincipalName: 'orphan@contoso.onmicrosoft.com' }), 400);
    graphError(
      await graph(emu, 'POST', '/beta/users', workers, {
        userPrincipalName: 'human@contoso.onmicrosoft.com',
        identityParentId: await newAgent(),
      }),
      400,
    );
    graphError(
      await graph(emu, 'POST', '/beta/users', workers, {
        '@odata.type': 'microsoft.graph.user',
        userPrincipalName: 'human@contoso.onmicrosoft.com',
      }),
      400,
    );
  });

  it('identityParentId is immutable (PATCH → 400); other PATCHes are accepted', async () => {
    const parent = await newAgent();
    const other = await newAgent();
    const id = String(
      (
        await createUser(workers, {
          userPrincipalName: `imm-${parent.slice(0, 8)}@contoso.onmicrosoft.com`,
          identityParentId: parent,
        })
      ).body.id,
    );
    const p = await graph(emu, 'PATCH', `/beta/users/${id}`, workers, { identityParentId: other });
    graphError(p, 400);
    expect(emu.directory.tenant(T)!.agentUsers.get(id)!.identityParentId).toBe(parent);
    graphError(await graph(emu, 'PATCH', `/beta/users/${id}`, workers, { identityParentId: null }), 400);
    expect(
      (await graph(emu, 'PATCH', `/beta/users/${id}`, workers, { identityParentId: parent })).status,
    ).toBe(204);
    expect((await graph(emu, 'PATCH', `/beta/users/${id}`, workers, { displayName: 'renamed' })).status).toBe(
      204,
    );
    graphError(await graph(emu, 'PATCH', `/beta/users/${id}`, workers, 'garbage'), 400);
  });

  it('DELETE an agent user (204), then GET 404; the parent agent stays', async () => {
    const parent = await newAgent();
    const id = String(
      (
        await createUser(workers, {
          userPrincipalName: `del-${parent.slice(0, 8)}@contoso.onmicrosoft.com`,
          identityParentId: parent,
        })
      ).body.id,
    );
    expect((await graph(emu, 'DELETE', `/beta/users/${id}`, workers)).status).toBe(204);
    graphError(await graph(emu, 'GET', `/beta/users/${id}`, workers), 404);
    graphError(await graph(emu, 'DELETE', `/beta/users/${id}`, workers), 404);
    expect((await graph(emu, 'GET', `/beta/serviceprincipals/${parent}`, workers)).status).toBe(200);
    // The identity may get a new agent user afterwards.
    expect(
      (
        await createUser(workers, {
          userPrincipalName: `again-${parent.slice(0, 8)}@contoso.onmicrosoft.com`,
          identityParentId: parent,
        })
      ).status,
    ).toBe(201);
  });

  it('another blueprint’s agent or agent user is 403 (create, GET, PATCH, DELETE)', async () => {
    const parent = await newAgent();
    graphError(
      await createUser(orchestrator, {
        userPrincipalName: `x-${parent.slice(0, 8)}@contoso.onmicrosoft.com`,
        identityParentId: parent,
      }),
      403,
    );
    const dw = DEMO.agentUsers.digitalWorker.id;
    expect(graphError(await graph(emu, 'GET', `/beta/users/${dw}`, orchestrator), 403)).toBe(
      'Authorization_RequestDenied',
    );
    graphError(await graph(emu, 'PATCH', `/beta/users/${dw}`, orchestrator, { displayName: 'x' }), 403);
    graphError(await graph(emu, 'DELETE', `/beta/users/${dw}`, orchestrator), 403);
    expect(emu.directory.tenant(T)!.agentUsers.has(dw)).toBe(true);
  });

  it('human users are not served by the agent-user routes (404); a malformed escape in the path is a Graph 4xx', async () => {
    graphError(await graph(emu, 'GET', `/beta/users/${DEMO.users.alice.id}`, workers), 404);
    graphError(
      await graph(emu, 'GET', `/beta/users/${encodeURIComponent(DEMO.users.alice.upn)}`, workers),
      404,
    );
    const bad = await graph(emu, 'GET', '/beta/users/%E0%A4%A', workers);
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(bad.status).toBeLessThan(500);
    expect(bad.body.error).toBeTypeOf('object');
  });
});

describe('Graph: the 250-per-blueprint limit', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await createEmulator();
  });
  afterAll(() => emu.close());

  it('creates up to the limit, refuses the next, counts soft-deleted ones, and a purge frees a place', async () => {
    const token = await appToken(emu, W);
    const seeded = [...emu.directory.tenant(T)!.agents.values()].filter(
      (a) => a.blueprintAppId === W.appId,
    ).length;
    expect(MAX_AGENTS_PER_BLUEPRINT).toBe(250);
    const ids: string[] = [];
    const started = Date.now();
    for (let i = seeded; i < MAX_AGENTS_PER_BLUEPRINT; i++) {
      const r = await createAgent(emu, token, { displayName: `bulk ${i}` });
      expect(r.status).toBe(201);
      ids.push(String(r.body.id));
    }
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(ids).toHaveLength(MAX_AGENTS_PER_BLUEPRINT - seeded);
    expect(new Set(ids).size).toBe(ids.length);

    const over = await createAgent(emu, token);
    expect(graphError(over, 400)).toBe('AgentIdentity_LimitExceeded');
    // The limit is per blueprint: the orchestrator can still create.
    const orch = await appToken(emu, O);
    expect((await createAgent(emu, orch, { agentIdentityBlueprintId: O.appId })).status).toBe(201);

    // A soft-deleted agent identity still counts.
    const victim = ids[0]!;
    expect((await graph(emu, 'DELETE', `/beta/serviceprincipals/${victim}`, token)).status).toBe(204);
    expect(graphError(await createAgent(emu, token), 400)).toBe('AgentIdentity_LimitExceeded');

    // Purging it from deleted items frees the place; only the owning blueprint may purge.
    expect(graphError(await graph(emu, 'DELETE', `/beta/directory/deletedItems/${victim}`, orch), 403)).toBe(
      'Authorization_RequestDenied',
    );
    expect((await graph(emu, 'DELETE', `/beta/directory/deletedItems/${victim}`, token)).status).toBe(204);
    graphError(await graph(emu, 'DELETE', `/beta/directory/deletedItems/${victim}`, token), 404);
    const again = await createAgent(emu, token);
    expect(again.status).toBe(201);
    expect(graphError(await createAgent(emu, token), 400)).toBe('AgentIdentity_LimitExceeded');
    // An active agent cannot be purged: it is not in deleted items.
    graphError(
      await graph(emu, 'DELETE', `/beta/directory/deletedItems/${String(again.body.id)}`, token),
      404,
    );
  });
});

describe('Graph: tenants and methods', () => {
  const T2 = '0e000000-0000-4000-8000-0000000000e2';
  const sponsor2 = '0e000000-0000-4000-8000-000000000001';
  let emu: Emulator;
  beforeAll(async () => {
    const { defaultSeed } = await import('@agentid/emulator');
    const seed = defaultSeed();
    // The workers blueprint is multi-tenant: the same app id has a principal in a second tenant.
    seed.tenants.push({
      id: T2,
      users: [{ id: sponsor2, userPrincipalName: 'eve@fabrikam.example' }],
      blueprints: [{ appId: W.appId, credentials: { secrets: ['fabrikam-workers-secret'] } }],
    });
    emu = await createEmulator({ seed });
  });
  afterAll(() => emu.close());

  it('a blueprint acts only in the tenant of its token: no reading or purging another tenant’s agents', async () => {
    const home = await appToken(emu, W);
    const r = await postToken(emu, T2, {
      client_id: W.appId,
      client_secret: 'fabrikam-workers-secret',
      grant_type: 'client_credentials',
      scope: GRAPH_DEFAULT,
    });
    expect(r.status).toBe(200);
    const away = String(r.body.access_token);
    expect(claimsOf(away).tid).toBe(T2);

    const id = String((await createAgent(emu, home)).body.id);
    graphError(await graph(emu, 'GET', `/beta/serviceprincipals/${id}`, away), 404);
    graphError(await graph(emu, 'DELETE', `/beta/serviceprincipals/${id}`, away), 404);
    expect((await graph(emu, 'DELETE', `/beta/serviceprincipals/${id}`, home)).status).toBe(204);
    // The deleted item belongs to the home tenant: the other tenant cannot purge it.
    graphError(await graph(emu, 'DELETE', `/beta/directory/deletedItems/${id}`, away), 404);
    expect(emu.directory.deletedItems.has(id)).toBe(true);
    expect(emu.directory.tenant(T)!.agents.has(id)).toBe(true);
    expect((await graph(emu, 'DELETE', `/beta/directory/deletedItems/${id}`, home)).status).toBe(204);
    expect(emu.directory.tenant(T)!.agents.has(id)).toBe(false);

    // A sponsor of the home tenant is not a user of the other one.
    graphError(await createAgent(emu, away), 400);
    const made = await createAgent(emu, away, { 'sponsors@odata.bind': [sponsorBind(sponsor2)] });
    expect(made.status).toBe(201);
    expect(emu.directory.tenant(T2)!.agents.has(String(made.body.id))).toBe(true);
    expect(emu.directory.tenant(T)!.agents.has(String(made.body.id))).toBe(false);
  });

  it('unsupported methods on an existing object are 405 in Graph shape', async () => {
    const token = await appToken(emu, W);
    graphError(await graph(emu, 'PUT', `/beta/serviceprincipals/${DEMO.agents.mail}`, token, {}), 405);
    graphError(await graph(emu, 'POST', `/beta/users/${DEMO.agentUsers.digitalWorker.id}`, token, {}), 405);
    graphError(await graph(emu, 'PUT', `/beta/directory/deletedItems/${DEMO.agents.mail}`, token, {}), 404);
  });
});
