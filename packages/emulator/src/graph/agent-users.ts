import type { AgentUser } from '../directory/directory.js';
import { text } from '../ids.js';
import type { EmuResponse } from '../http/types.js';
import { mayManage } from './agent-identities.js';
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
  safeDecode,
} from './respond.js';
import { parseBody } from './respond.js';

/** An agent user as Graph returns it. */
export const agentUserJson = (u: AgentUser): Record<string, unknown> => ({
  '@odata.type': '#microsoft.graph.agentUser',
  id: u.id,
  displayName: u.displayName,
  userPrincipalName: u.userPrincipalName,
  identityParentId: u.identityParentId,
  accountEnabled: true,
  ...(u.deletedAt !== undefined ? { deletedDateTime: new Date(u.deletedAt).toISOString() } : {}),
});

/** The blueprint whose agent the user belongs (belonged) to: kept on the user, so a purged parent does not orphan it from its blueprint. */
const blueprintOf = (call: GraphCall, u: AgentUser): string =>
  u.blueprintAppId ?? call.tenant.agents.get(u.identityParentId)?.blueprintAppId ?? '';

const mayWriteUsers = (call: GraphCall): boolean =>
  call.appOnly
    ? hasRole(call.claims, 'AgentIdUser.ReadWrite.IdentityParentedBy')
    : String(call.claims.scp ?? '')
        .split(' ')
        .some((s) => s === 'AgentIdUser.ReadWrite.All' || s === 'AgentIdentity.ReadWrite.All');

/**
 * `POST /users/microsoft.graph.agentUser` (v1.0) or `POST /users` with the `@odata.type` (beta):
 * one agent user per agent identity, a second one is a plain 400 as in Entra.
 */
export function createAgentUser(call: GraphCall, cast: boolean): EmuResponse {
  const { ctx, tenant, azp } = call;
  const body = parseBody(call.req);
  if (!body) return badBody(call);
  const type = text(body['@odata.type'] ?? '')
    .replace(/^#/, '')
    .toLowerCase();
  if (cast ? type !== '' && type !== 'microsoft.graph.agentuser' : type !== 'microsoft.graph.agentuser')
    return fail(
      call,
      400,
      'Request_BadRequest',
      "Only '@odata.type': 'microsoft.graph.agentUser' can be created here.",
    );
  if (!mayWriteUsers(call)) return denied(call);
  for (const p of ['accountEnabled', 'displayName', 'mailNickname', 'userPrincipalName', 'identityParentId'])
    if (body[p] === undefined || body[p] === '')
      return fail(call, 400, 'Request_BadRequest', `Property '${p}' is required for an agent user.`);
  if ('passwordProfile' in body)
    return fail(
      call,
      400,
      'Request_BadRequest',
      'An agent user has no password: passwordProfile is not allowed.',
    );
  const parent = tenant.agents.get(text(body.identityParentId));
  if (parent && call.appOnly && parent.blueprintAppId !== azp)
    return denied(call, 'A blueprint can only create agent users for its own agent identities.');
  const u = ctx.directory.createAgentUser(tenant.id, {
    userPrincipalName: text(body.userPrincipalName),
    identityParentId: text(body.identityParentId),
    ...(typeof body.displayName === 'string' ? { displayName: body.displayName } : {}),
  });
  ctx.replication.created(u.id);
  return entity(call, 201, 'users', agentUserJson(u));
}

/** `GET /users/microsoft.graph.agentUser` or `GET /users` with `$filter` (e.g. `identityParentId eq '…'`). */
export function listAgentUsers(call: GraphCall): EmuResponse {
  const clauses = parseFilter(call.req.url.searchParams.get('$filter'));
  if (!clauses)
    return fail(call, 400, 'Request_UnsupportedQuery', 'Unsupported or invalid query filter clause.');
  const value = [...call.tenant.agentUsers.values()]
    .filter((u) => mayManage(call, blueprintOf(call, u)))
    .map(agentUserJson)
    .filter((j) => matches(j, clauses));
  return collection(call, 'users', value);
}

/** `GET|PATCH|DELETE /users/{id or UPN}` for agent users. */
export function agentUserById(call: GraphCall, raw: string): EmuResponse {
  const { ctx, tenant, req } = call;
  const key = safeDecode(raw);
  if (key === undefined) return fail(call, 400, 'Request_BadRequest', `Invalid object identifier '${raw}'.`);
  const u = tenant.agentUsers.get(key) ?? (ctx.directory.findUserByUpn(tenant, key) as AgentUser | undefined);
  if (!u || !('identityParentId' in u)) return notFound(call, raw);
  if (!mayManage(call, blueprintOf(call, u))) return denied(call);
  if (req.method === 'GET') return entity(call, 200, 'users', agentUserJson(u));
  if (req.method === 'DELETE') {
    ctx.directory.deleteAgentUser(tenant.id, u.id, ctx.clock.now());
    return noContent();
  }
  if (req.method === 'PATCH') {
    const body = parseBody(req);
    if (!body) return badBody(call);
    if ('identityParentId' in body && body.identityParentId !== u.identityParentId)
      return fail(
        call,
        400,
        'Request_BadRequest',
        'identityParentId cannot be changed: an agent user belongs to its agent identity for life.',
      );
    if (typeof body.displayName === 'string' && body.displayName) u.displayName = body.displayName;
    return noContent();
  }
  return methodNotAllowed(call);
}
