import {
  type DeletedItem,
  deletedItem,
  isDeletedAgentUser,
  listDeleted,
  restoreDeleted,
} from '../directory/deleted-items.js';
import type { EmuResponse } from '../http/types.js';
import { agentJson, mayManage } from './agent-identities.js';
import { agentUserJson } from './agent-users.js';
import { matches, parseFilter } from './odata.js';
import { collection, denied, entity, fail, type GraphCall, methodNotAllowed, noContent } from './respond.js';

const itemJson = (item: DeletedItem) => (isDeletedAgentUser(item) ? agentUserJson(item) : agentJson(item));

const blueprintOf = (call: GraphCall, item: DeletedItem): string =>
  (isDeletedAgentUser(item)
    ? (item.blueprintAppId ?? call.tenant.agents.get(item.identityParentId)?.blueprintAppId)
    : item.blueprintAppId) ?? '';

/** `GET /directory/deletedItems/microsoft.graph.agentIdentity` (or `.servicePrincipal`, `.agentUser`, `.user`). */
export function listDeletedItems(call: GraphCall, type: string): EmuResponse {
  const kind = /^microsoft\.graph\.(agentidentity|serviceprincipal)$/.test(type)
    ? 'agentIdentity'
    : /^microsoft\.graph\.(agentuser|user)$/.test(type)
      ? 'agentUser'
      : undefined;
  if (!kind) return fail(call, 400, 'BadRequest', `Resource not found for the segment '${type}'.`);
  const clauses = parseFilter(call.req.url.searchParams.get('$filter'));
  if (!clauses)
    return fail(call, 400, 'Request_UnsupportedQuery', 'Unsupported or invalid query filter clause.');
  const value = listDeleted(call.ctx.directory, call.tenant, kind)
    .filter((i) => mayManage(call, blueprintOf(call, i)))
    .map(itemJson)
    .filter((j) => matches(j, clauses));
  return collection(call, 'directoryObjects', value);
}

/** `GET|DELETE /directory/deletedItems/{id}` and `POST /directory/deletedItems/{id}/restore`. */
export function deletedItemById(call: GraphCall, id: string, action: string | undefined): EmuResponse {
  const { ctx, tenant, req } = call;
  const item = deletedItem(ctx.directory, tenant, id);
  if (!mayManage(call, blueprintOf(call, item))) return denied(call);
  if (action === 'restore') {
    if (req.method !== 'POST') return methodNotAllowed(call);
    return entity(call, 200, 'directoryObjects', itemJson(restoreDeleted(ctx.directory, tenant, id)));
  }
  if (action !== undefined)
    return fail(call, 400, 'BadRequest', `Resource not found for the segment '${action}'.`);
  if (req.method === 'GET') return entity(call, 200, 'directoryObjects', itemJson(item));
  if (req.method === 'DELETE') {
    ctx.directory.purgeDeleted(tenant.id, id);
    return noContent();
  }
  return methodNotAllowed(call);
}
