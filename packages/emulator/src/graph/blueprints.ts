import type { Blueprint } from '../directory/directory.js';
import { MAX_INHERITABLE_RESOURCES } from '../directory/directory.js';
import { newId, text } from '../ids.js';
import type { EmuResponse } from '../http/types.js';
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

/** Most blueprints per tenant for app-only callers (Entra's limit). */
export const MAX_BLUEPRINTS_PER_TENANT = 250;

const scp = (call: GraphCall): string[] => String(call.claims.scp ?? '').split(' ');

const blueprintJson = (b: Blueprint): Record<string, unknown> => ({
  '@odata.type': '#microsoft.graph.agentIdentityBlueprint',
  id: b.objectId ?? b.appId,
  appId: b.appId,
  displayName: b.displayName,
  identifierUris: b.identifierUri ? [b.identifierUri] : [],
});

/** A blueprint by application object id or app id. */
export function findBlueprint(call: GraphCall, id: string): Blueprint | undefined {
  const direct = call.tenant.blueprints.get(id);
  if (direct) return direct;
  for (const b of call.tenant.blueprints.values()) if (b.objectId === id) return b;
  return undefined;
}

/** The blueprint itself, an owner of it, or a signed-in admin. */
const mayManageBlueprint = (call: GraphCall, b: Blueprint): boolean =>
  b.appId === call.azp ||
  (b.owners ?? []).includes(call.azp) ||
  (!call.appOnly && scp(call).includes('AgentIdentity.ReadWrite.All'));

/** `POST /applications/microsoft.graph.agentIdentityBlueprint`: a blueprint with no principal and no credential yet. */
export function createBlueprint(call: GraphCall): EmuResponse {
  const { tenant, ctx } = call;
  const body = parseBody(call.req);
  if (!body) return badBody(call);
  const allowed = call.appOnly
    ? hasRole(call.claims, 'AgentIdentityBlueprint.Create')
    : scp(call).some((s) => s === 'AgentIdentityBlueprint.Create' || s === 'AgentIdentity.ReadWrite.All');
  if (!allowed) return denied(call);
  if (typeof body.displayName !== 'string' || !body.displayName)
    return fail(call, 400, 'Request_BadRequest', "Property 'displayName' is required.");
  if (call.appOnly && tenant.blueprints.size >= MAX_BLUEPRINTS_PER_TENANT)
    return fail(
      call,
      400,
      'AgentBlueprint_LimitExceeded',
      `The tenant has reached the maximum of ${MAX_BLUEPRINTS_PER_TENANT} agent identity blueprints, soft-deleted ones included. Permanently delete unneeded blueprints to create more.`,
    );
  const quota = ctx.graph.directoryQuota;
  if (quota !== undefined && tenant.blueprints.size + tenant.agents.size >= quota * 0.95)
    return fail(
      call,
      400,
      'Agent_Directory_QuotaExceeded',
      'Agent identity blueprints and agent identities have exceeded 95% of the tenant resource quota. Permanently delete unneeded ones to create more.',
    );
  const appId = newId();
  const creator = call.appOnly ? call.azp : String(call.claims.oid ?? '');
  const b: Blueprint = {
    appId,
    objectId: newId(),
    displayName: body.displayName,
    identifierUri: undefined,
    scopes: new Set(['access_agent']),
    appRoles: new Set(),
    tokenVersion: 2,
    tokenLifetimeSec: undefined,
    kind: 'blueprint',
    tenantId: tenant.id,
    homeTenantId: tenant.id,
    enabled: true,
    credentials: { secrets: [], certificates: [], trustedSubjects: [], federated: [] },
    publicClient: false,
    principalId: undefined,
    inheritable: new Map(),
    owners: [creator],
  };
  tenant.blueprints.set(appId, b);
  ctx.replication.created(appId);
  ctx.replication.created(b.objectId!);
  return entity(call, 201, 'applications', blueprintJson(b));
}

/** `GET|PATCH /applications/{id}`: a blueprint; PATCH sets `identifierUris` (e.g. `api://<appId>`) or `displayName`. */
export function blueprintById(call: GraphCall, id: string): EmuResponse {
  const b = findBlueprint(call, id);
  if (!b) return notFound(call, id);
  if (!mayManageBlueprint(call, b)) return denied(call);
  if (call.req.method === 'GET') return entity(call, 200, 'applications', blueprintJson(b));
  if (call.req.method !== 'PATCH') return methodNotAllowed(call);
  const body = parseBody(call.req);
  if (!body) return badBody(call);
  if ('identifierUris' in body) {
    const uris = body.identifierUris;
    if (
      !Array.isArray(uris) ||
      uris.length > 1 ||
      uris.some((u) => typeof u !== 'string' || !u.includes(':'))
    )
      return fail(
        call,
        400,
        'Request_BadRequest',
        "Property 'identifierUris' must hold one URI such as api://<appId>.",
      );
    b.identifierUri = (uris[0] as string | undefined) ?? undefined;
  }
  if (typeof body.displayName === 'string' && body.displayName) b.displayName = body.displayName;
  return noContent();
}

/** `POST /servicePrincipals/microsoft.graph.agentIdentityBlueprintPrincipal {appId}` (idempotent here). */
export function createBlueprintPrincipal(call: GraphCall): EmuResponse {
  const body = parseBody(call.req);
  if (!body) return badBody(call);
  const b = call.tenant.blueprints.get(text(body.appId ?? ''));
  if (!b)
    return fail(
      call,
      400,
      'AgentBlueprintPrincipal_RequireAgentBlueprint',
      'Agent identity blueprint principals can only be created for agent identity blueprints.',
    );
  if (!mayManageBlueprint(call, b)) return denied(call);
  b.principalId ??= newId();
  call.ctx.replication.created(b.principalId);
  return entity(call, 201, 'servicePrincipals', {
    '@odata.type': '#microsoft.graph.agentIdentityBlueprintPrincipal',
    id: b.principalId,
    appId: b.appId,
  });
}

type Inheritable = { scopes: Set<string>; roles: Set<string> };

/** `{"@odata.type":"#microsoft.graph.enumeratedScopes", scopes}` | `allAllowedScopes` | `noScopes` (and the same for roles). */
function readSet(value: unknown, all: Set<string>, key: 'scopes' | 'roles'): Set<string> | string {
  if (value === undefined || value === null) return new Set();
  if (typeof value !== 'object')
    return `inheritable${key === 'scopes' ? 'Scopes' : 'Roles'} must be an object`;
  const v = value as Record<string, unknown>;
  const type = text(v['@odata.type'] ?? '').toLowerCase();
  if (type.includes('allallowed')) return new Set(all);
  if (type.includes('no')) return new Set();
  const list = v[key];
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string'))
    return `inheritable${key === 'scopes' ? 'Scopes' : 'Roles'}.${key} must be an array of strings`;
  const unknown = (list as string[]).find((s) => !all.has(s));
  if (unknown)
    return `'${unknown}' is not a ${key === 'scopes' ? 'scope' : 'role'} of the resource application`;
  return new Set(list as string[]);
}

const permissionJson = (resourceAppId: string, p: Inheritable) => ({
  resourceAppId,
  inheritableScopes: { '@odata.type': '#microsoft.graph.enumeratedScopes', scopes: [...p.scopes] },
  inheritableRoles: { '@odata.type': '#microsoft.graph.enumeratedRoles', roles: [...p.roles] },
});

/** `…/inheritablePermissions[/{resourceAppId}]`: at most 10 resource apps, 409 on a duplicate, never a high-privilege role. */
export function inheritablePermissions(
  call: GraphCall,
  id: string,
  resourceAppId: string | undefined,
): EmuResponse {
  const { ctx, tenant, req } = call;
  const b = findBlueprint(call, id);
  if (!b) return notFound(call, id);
  if (!mayManageBlueprint(call, b)) return denied(call);
  const set = `applications('${b.objectId ?? b.appId}')/inheritablePermissions`;
  if (resourceAppId === undefined) {
    if (req.method === 'GET')
      return collection(
        call,
        set,
        [...b.inheritable].map(([rid, p]) => permissionJson(rid, p)),
      );
    if (req.method !== 'POST') return methodNotAllowed(call);
  }
  const body = req.method === 'POST' || req.method === 'PATCH' ? parseBody(req) : {};
  if (!body) return badBody(call);
  const rid = resourceAppId ?? text(body.resourceAppId ?? '');
  const existing = b.inheritable.get(rid);
  if (req.method === 'GET' || req.method === 'DELETE') {
    if (!existing) return notFound(call, rid);
    if (req.method === 'GET') return entity(call, 200, set, permissionJson(rid, existing));
    b.inheritable.delete(rid);
    return noContent();
  }
  if (req.method === 'POST' && existing)
    return fail(
      call,
      409,
      'Request_MultipleObjectsWithSameKeyValue',
      `Inheritable permissions for resource '${rid}' already exist.`,
    );
  if (req.method === 'PATCH' && !existing) return notFound(call, rid);
  if (req.method !== 'POST' && req.method !== 'PATCH') return methodNotAllowed(call);
  const resource = ctx.directory.findResource(tenant, rid);
  if (!resource || resource.appId !== rid)
    return fail(
      call,
      400,
      'Request_BadRequest',
      `resourceAppId '${rid}' is not an application in this tenant.`,
    );
  const scopes = readSet(body.inheritableScopes, resource.scopes, 'scopes');
  const roles = readSet(body.inheritableRoles, resource.appRoles, 'roles');
  for (const r of [scopes, roles]) if (typeof r === 'string') return fail(call, 400, 'Request_BadRequest', r);
  const next: Inheritable = {
    scopes: 'inheritableScopes' in body || !existing ? (scopes as Set<string>) : existing.scopes,
    roles: 'inheritableRoles' in body || !existing ? (roles as Set<string>) : existing.roles,
  };
  const blocked = [...next.roles].find((r) => ctx.directory.isBlockedRole(r));
  if (blocked)
    return fail(
      call,
      400,
      'Request_BadRequest',
      `Role ${blocked} is high-privilege and can never be granted to agents.`,
    );
  if (!existing && b.inheritable.size >= MAX_INHERITABLE_RESOURCES)
    return fail(
      call,
      400,
      'Request_BadRequest',
      `A blueprint may have inheritable permissions for at most ${MAX_INHERITABLE_RESOURCES} resource applications.`,
    );
  b.inheritable.set(rid, next);
  return req.method === 'POST' ? entity(call, 201, set, permissionJson(rid, next)) : noContent();
}

/** The blueprint whose principal has this object id. */
export function blueprintByPrincipal(call: GraphCall, id: string): Blueprint | undefined {
  for (const b of call.tenant.blueprints.values())
    if (b.principalId !== undefined && b.principalId === id) return b;
  return undefined;
}

/**
 * `GET|DELETE /servicePrincipals/{principal id}` of a blueprint principal. Deleting it cascades
 * (in Entra asynchronously, here at once): its agent identities and their agent users are deleted.
 */
export function blueprintPrincipalById(call: GraphCall, b: Blueprint): EmuResponse {
  if (!mayManageBlueprint(call, b)) return denied(call);
  const json = {
    '@odata.type': '#microsoft.graph.agentIdentityBlueprintPrincipal',
    id: b.principalId,
    appId: b.appId,
  };
  if (call.req.method === 'GET') return entity(call, 200, 'servicePrincipals', json);
  if (call.req.method !== 'DELETE') return methodNotAllowed(call);
  const { directory, clock } = call.ctx;
  const now = clock.now();
  for (const u of [...call.tenant.agentUsers.values()])
    if (call.tenant.agents.get(u.identityParentId)?.blueprintAppId === b.appId)
      directory.deleteAgentUser(call.tenant.id, u.id, now);
  for (const a of [...call.tenant.agents.values()])
    if (a.blueprintAppId === b.appId && !a.deleted) directory.deleteAgentIdentity(call.tenant.id, a.id, now);
  b.principalId = undefined;
  return noContent();
}
