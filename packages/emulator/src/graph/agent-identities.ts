import type { AgentIdentity } from '../directory/directory.js';
import { groupsOf } from '../directory/groups.js';
import { text } from '../ids.js';
import type { EmuResponse } from '../http/types.js';
import { matches, parseFilter } from './odata.js';
import {
  badBody,
  collection,
  denied,
  entity,
  fail,
  type GraphCall,
  hasRole,
  methodNotAllowed,
  noContent,
  notFound,
  parseBody,
} from './respond.js';

const CREDENTIAL_PROPERTIES = ['passwordCredentials', 'keyCredentials', 'federatedIdentityCredentials'];
/** Tenant quota answers beyond this share of it (Entra: "exceeded 95% of the tenant resource quota"). */
const QUOTA_SHARE = 0.95;

/** An agent identity as Graph returns it. */
export const agentJson = (a: AgentIdentity): Record<string, unknown> => ({
  '@odata.type': '#microsoft.graph.agentIdentity',
  id: a.id,
  appId: a.id,
  displayName: a.displayName,
  agentIdentityBlueprintId: a.blueprintAppId,
  accountEnabled: a.enabled,
  servicePrincipalType: 'ServiceIdentity',
  tags: [...(a.tags ?? [])],
  ...(a.createdAt !== undefined ? { createdDateTime: new Date(a.createdAt).toISOString() } : {}),
  ...(a.deletedAt !== undefined ? { deletedDateTime: new Date(a.deletedAt).toISOString() } : {}),
});

/** A delegated call by a signed-in admin (Graph scope), as opposed to an app-only one. */
const delegatedAdmin = (call: GraphCall): boolean =>
  !call.appOnly &&
  String(call.claims.scp ?? '')
    .split(' ')
    .includes('AgentIdentity.ReadWrite.All');

/** Whether the caller may manage (read, change, delete, restore) agent identities of this blueprint. */
export const mayManage = (call: GraphCall, blueprintAppId: string): boolean =>
  blueprintAppId === call.azp || delegatedAdmin(call);

const credentialProperty = (body: Record<string, unknown>): string | undefined =>
  CREDENTIAL_PROPERTIES.find((p) => p in body);

/** `…/users/{id}`, `…/groups/{id}` or `…/directoryObjects/{id}` of an `@odata.bind`, checked against the tenant. */
function sponsorIds(call: GraphCall, binds: unknown): string[] | EmuResponse {
  if (!Array.isArray(binds))
    return fail(call, 400, 'Request_BadRequest', "Property 'sponsors@odata.bind' must be an array.");
  const groups = groupsOf(call.tenant);
  const ids: string[] = [];
  for (const b of binds) {
    const m = /\/(users|groups|directoryObjects)\/([^/?#]+)$/i.exec(text(b));
    const kind = m?.[1]?.toLowerCase();
    const id = m?.[2] ?? '';
    const ok =
      kind === 'users'
        ? call.tenant.users.has(id)
        : kind === 'groups'
          ? groups.has(id)
          : call.tenant.users.has(id) || groups.has(id);
    if (!ok)
      return fail(
        call,
        400,
        'Request_BadRequest',
        `Invalid object identifier or reference '${text(b)}' in 'sponsors@odata.bind'.`,
      );
    ids.push(id);
  }
  return ids;
}

/** `POST /servicePrincipals/microsoft.graph.agentIdentity`. */
export function createAgentIdentity(call: GraphCall): EmuResponse {
  const { tenant, azp, ctx } = call;
  const body = parseBody(call.req);
  if (!body) return badBody(call);
  if (tenant.agents.has(azp))
    return fail(
      call,
      403,
      'Error_AgentIdentitiesCreatingAgentIdentitiesNotAllowed',
      'An agent identity cannot create agent identities: its blueprint creates them.',
    );
  const allowed = call.appOnly
    ? hasRole(call.claims, 'AgentIdentity.CreateAsManager') ||
      hasRole(call.claims, 'AgentIdentity.Create.All')
    : delegatedAdmin(call);
  if (!allowed) return denied(call);
  const bpId = text(body.agentIdentityBlueprintId ?? '');
  const bp = tenant.blueprints.get(bpId);
  if (!bp)
    return fail(
      call,
      400,
      'AgentIdentity_IncompatibleParentType',
      `The specified application '${bpId}' is not an agent identity blueprint.`,
    );
  if (call.appOnly && bpId !== azp)
    return tenant.blueprints.has(azp)
      ? fail(
          call,
          403,
          'Error_AgentBlueprintCannotCreateAssociatedIdentity',
          `Blueprint ${azp} cannot create an agent identity associated with blueprint ${bpId}.`,
        )
      : fail(
          call,
          403,
          'Error_AgentIdentitySelfCreateRequired',
          'An app-only caller can only create agent identities of its own blueprint.',
        );
  if (typeof body.displayName !== 'string' || !body.displayName)
    return fail(call, 400, 'Request_BadRequest', "Property 'displayName' is required.");
  const cred = credentialProperty(body);
  if (cred)
    return fail(
      call,
      400,
      'PropertyNotCompatibleWithAgentIdentity',
      `Property '${cred}' is not compatible with an agent identity: credentials belong to its blueprint.`,
    );
  if (!bp.principalId)
    return fail(
      call,
      400,
      'AgentIdentity_AgentBlueprintPrincipalDoesNotExist',
      `The agent identity blueprint principal for blueprint ${bpId} does not exist in this tenant.`,
    );
  const sponsors = sponsorIds(call, body['sponsors@odata.bind'] ?? []);
  if (!Array.isArray(sponsors)) return sponsors;
  const tags = body.tags;
  if (tags !== undefined && (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')))
    return fail(call, 400, 'Request_BadRequest', "Property 'tags' must be an array of strings.");
  const quota = ctx.graph.directoryQuota;
  if (quota !== undefined && tenant.blueprints.size + tenant.agents.size >= quota * QUOTA_SHARE)
    return fail(
      call,
      400,
      'Agent_Directory_QuotaExceeded',
      'Agent identity blueprints and agent identities have exceeded 95% of the tenant resource quota. Permanently delete unneeded ones to create more.',
    );
  const owners = Array.isArray(body['owners@odata.bind'])
    ? body['owners@odata.bind'].map((b) => text(b).split('/').pop() ?? '')
    : undefined;
  const a = ctx.directory.createAgentIdentity(
    tenant.id,
    {
      displayName: body.displayName,
      blueprintAppId: bpId,
      sponsors,
      createdAt: ctx.clock.now(),
      ...(tags ? { tags: tags as string[] } : {}),
      ...(owners ? { owners } : {}),
    },
    { enforceLimit: call.appOnly },
  );
  ctx.replication.created(a.id);
  return entity(call, 201, 'servicePrincipals', agentJson(a));
}

/** `GET /servicePrincipals/microsoft.graph.agentIdentity` with an optional `$filter`. */
export function listAgentIdentities(call: GraphCall): EmuResponse {
  const clauses = parseFilter(call.req.url.searchParams.get('$filter'));
  if (!clauses)
    return fail(call, 400, 'Request_UnsupportedQuery', 'Unsupported or invalid query filter clause.');
  const value = [...call.tenant.agents.values()]
    .filter((a) => !a.deleted && mayManage(call, a.blueprintAppId))
    .map(agentJson)
    .filter((j) => matches(j, clauses));
  return collection(call, 'servicePrincipals', value);
}

/** `GET|PATCH|DELETE /servicePrincipals/{id}` and the credential actions refused on an agent identity. */
export function agentIdentityById(call: GraphCall, id: string, action: string | undefined): EmuResponse {
  const { ctx, tenant, req } = call;
  const a = tenant.agents.get(id);
  if (!a || a.deleted) return notFound(call, id);
  if (!mayManage(call, a.blueprintAppId)) return denied(call);
  if (action !== undefined && action !== 'microsoft.graph.agentidentity') {
    if (/^(addpassword|addkey|federatedidentitycredentials)$/.test(action))
      return fail(
        call,
        400,
        'AgentIdentity_CredentialsNotSupported',
        'Credentials are not supported on agent identities. Add all credentials to the agent identity blueprint.',
      );
    return fail(call, 400, 'BadRequest', `Resource not found for the segment '${action}'.`);
  }
  if (req.method === 'GET') return entity(call, 200, 'servicePrincipals', agentJson(a));
  if (req.method === 'DELETE') {
    ctx.directory.deleteAgentIdentity(tenant.id, a.id, ctx.clock.now());
    return noContent();
  }
  if (req.method === 'PATCH') {
    const body = parseBody(req);
    if (!body) return badBody(call);
    const cred = credentialProperty(body);
    if (cred)
      return fail(
        call,
        400,
        'PropertyNotCompatibleWithAgentIdentity',
        `Property '${cred}' is not compatible with an agent identity: credentials belong to its blueprint.`,
      );
    if ('accountEnabled' in body && typeof body.accountEnabled !== 'boolean')
      return fail(call, 400, 'Request_BadRequest', "Property 'accountEnabled' must be a boolean.");
    if (typeof body.accountEnabled === 'boolean')
      ctx.directory.setAgentEnabled(tenant.id, a.id, body.accountEnabled);
    if (typeof body.displayName === 'string' && body.displayName) a.displayName = body.displayName;
    if (Array.isArray(body.tags) && body.tags.every((t) => typeof t === 'string'))
      a.tags = [...(body.tags as string[])];
    return noContent();
  }
  return methodNotAllowed(call);
}
