import type { EmulatorContext } from '../context.js';
import { DirectoryError } from '../directory/directory.js';
import { expireDeleted } from '../directory/deleted-items.js';
import type { EmuRequest, EmuResponse } from '../http/types.js';
import { agentIdentityById, createAgentIdentity, listAgentIdentities } from './agent-identities.js';
import { agentUserById, createAgentUser, listAgentUsers } from './agent-users.js';
import {
  blueprintById,
  blueprintByPrincipal,
  blueprintPrincipalById,
  createBlueprint,
  createBlueprintPrincipal,
  inheritablePermissions,
} from './blueprints.js';
import { deletedItemById, listDeletedItems } from './deleted-items.js';
import { authorize, fail, type GraphCall, graphError, methodNotAllowed } from './respond.js';

const BLUEPRINT_CAST = 'microsoft.graph.agentidentityblueprint';

/**
 * The Graph subset of Agent ID, on `/v1.0` and `/beta`: blueprints (creation, identifier URIs,
 * principal, inheritable permissions), agent identities, agent users, deleted items. Paths are
 * case-insensitive as in Graph; ids are compared as sent.
 */
export async function handleGraph(ctx: EmulatorContext, req: EmuRequest): Promise<EmuResponse> {
  const v = /^\/(v1\.0|beta)(\/.*)?$/i.exec(req.url.pathname.replace(/\/+$/, ''));
  if (!v) return graphError(ctx, req, 400, 'BadRequest', 'Invalid version.');
  const who = await authorize(ctx, req);
  if ('status' in who) return who;
  const call: GraphCall = {
    ctx,
    req,
    claims: who.claims,
    tenant: who.tenant,
    azp: String(who.claims.azp ?? who.claims.appid ?? ''),
    appOnly: who.claims.idtyp === 'app' || (who.claims.scp === undefined && who.claims.idtyp !== 'user'),
    version: v[1]!.toLowerCase() === 'beta' ? 'beta' : 'v1.0',
    path: v[2] ?? '/',
  };
  expireDeleted(ctx.directory, ctx.clock.now());
  const missing = ctx.replication.miss(req);
  if (missing) return fail(call, 400, 'Request_BadRequest', `Object with id '${missing}' not found.`);
  try {
    return route(call);
  } catch (e) {
    if (e instanceof DirectoryError) return fail(call, e.status, e.code, e.message);
    throw e;
  }
}

function route(call: GraphCall): EmuResponse {
  const { method } = call.req;
  const segs = call.path.split('/').filter(Boolean);
  const lower = segs.map((s) => s.toLowerCase());
  const [root, a, b, c] = lower;
  if (root === 'serviceprincipals') {
    if (a === 'microsoft.graph.agentidentity' && b === undefined) {
      if (method === 'POST') return createAgentIdentity(call);
      if (method === 'GET') return listAgentIdentities(call);
      return methodNotAllowed(call);
    }
    if (a === 'microsoft.graph.agentidentityblueprintprincipal' && b === undefined) {
      if (method === 'POST') return createBlueprintPrincipal(call);
      return methodNotAllowed(call);
    }
    // `/servicePrincipals/microsoft.graph.agentIdentity/{id}` is the same object as `/servicePrincipals/{id}`.
    if (a === 'microsoft.graph.agentidentity' && b !== undefined) return agentIdentityById(call, segs[2]!, c);
    const principalOf = a !== undefined && b === undefined ? blueprintByPrincipal(call, segs[1]!) : undefined;
    if (principalOf) return blueprintPrincipalById(call, principalOf);
    if (a !== undefined && c === undefined) return agentIdentityById(call, segs[1]!, b);
  }
  if (root === 'users') {
    if (a === undefined && method === 'POST') return createAgentUser(call, false);
    if (a === undefined && method === 'GET') return listAgentUsers(call);
    if (a === 'microsoft.graph.agentuser' && b === undefined) {
      if (method === 'POST') return createAgentUser(call, true);
      if (method === 'GET') return listAgentUsers(call);
      return methodNotAllowed(call);
    }
    if (a === 'microsoft.graph.agentuser' && b !== undefined && c === undefined)
      return agentUserById(call, segs[2]!);
    if (a !== undefined && b === undefined) return agentUserById(call, segs[1]!);
  }
  if (root === 'applications') {
    // Both `/applications/{id}/microsoft.graph.agentIdentityBlueprint/…` and `/applications/microsoft.graph.agentIdentityBlueprint/{id}/…`.
    const rest = segs.slice(1).filter((s) => s.toLowerCase() !== BLUEPRINT_CAST);
    if (rest.length === 0 && a === BLUEPRINT_CAST && method === 'POST') return createBlueprint(call);
    const [id, sub, rid] = rest;
    if (id !== undefined && sub === undefined) return blueprintById(call, id);
    if (id !== undefined && sub?.toLowerCase() === 'inheritablepermissions' && rest.length <= 3)
      return inheritablePermissions(call, id, rid);
  }
  if (root === 'directory' && a === 'deleteditems' && segs[2] !== undefined) {
    if (b!.startsWith('microsoft.graph.') && c === undefined) {
      if (method !== 'GET') return methodNotAllowed(call);
      return listDeletedItems(call, b!);
    }
    if (segs.length <= 4) return deletedItemById(call, segs[2], c);
  }
  return fail(call, 400, 'BadRequest', `Resource not found for the segment '${segs[0] ?? ''}'.`);
}
