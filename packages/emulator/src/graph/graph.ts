import { randomUUID } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { EmulatorContext } from '../context.js';
import { DirectoryError, type AgentIdentity, type AgentUser, type Tenant } from '../directory/directory.js';
import { GRAPH_APP_ID, GRAPH_RESOURCE, text } from '../ids.js';
import { json, type EmuRequest, type EmuResponse } from '../http/types.js';

const graphError = (status: number, code: string, message: string, req: EmuRequest): EmuResponse =>
  json(status, {
    error: {
      code,
      message,
      innerError: {
        date: new Date().toISOString(),
        'request-id': randomUUID(),
        'client-request-id': req.headers['client-request-id'] ?? randomUUID(),
      },
    },
  });

const agentJson = (a: AgentIdentity): Record<string, unknown> => ({
  '@odata.type': '#microsoft.graph.agentIdentity',
  id: a.id,
  appId: a.id,
  displayName: a.displayName,
  agentIdentityBlueprintId: a.blueprintAppId,
  accountEnabled: a.enabled,
  servicePrincipalType: 'ServiceIdentity',
});

const agentUserJson = (u: AgentUser): Record<string, unknown> => ({
  '@odata.type': '#microsoft.graph.agentUser',
  id: u.id,
  displayName: u.displayName,
  userPrincipalName: u.userPrincipalName,
  identityParentId: u.identityParentId,
  accountEnabled: true,
});

async function caller(
  ctx: EmulatorContext,
  req: EmuRequest,
): Promise<{ claims: JWTPayload; tenant: Tenant } | EmuResponse> {
  const auth = req.headers.authorization ?? '';
  const m = /^Bearer\s+(\S+)$/i.exec(auth);
  if (!m?.[1]) return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.', req);
  let claims: JWTPayload;
  try {
    claims = await ctx.keys.verify(m[1], { clockToleranceSec: ctx.clockSkewSec });
  } catch {
    return graphError(
      401,
      'InvalidAuthenticationToken',
      'Access token validation failure. Invalid signature or expired token.',
      req,
    );
  }
  const aud = String(claims.aud ?? '').toLowerCase();
  if (aud !== GRAPH_APP_ID && aud !== GRAPH_RESOURCE)
    return graphError(
      401,
      'InvalidAuthenticationToken',
      'Access token validation failure. Invalid audience.',
      req,
    );
  const tenant = ctx.directory.tenants.get(String(claims.tid));
  if (!tenant) return graphError(401, 'InvalidAuthenticationToken', 'Unknown tenant.', req);
  return { claims, tenant };
}

const hasRole = (c: JWTPayload, role: string): boolean => Array.isArray(c.roles) && c.roles.includes(role);

const safeDecode = (s: string): string | undefined => {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
};

const methodNotAllowed = (req: EmuRequest): EmuResponse =>
  graphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.', req);

function parseBody(req: EmuRequest): Record<string, unknown> | undefined {
  try {
    const b = JSON.parse(req.body) as unknown;
    return b && typeof b === 'object' && !Array.isArray(b) ? (b as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The Graph subset: agent identities, agent users, blueprint principals. Authorized by a blueprint app token. */
export async function handleGraph(ctx: EmulatorContext, req: EmuRequest): Promise<EmuResponse> {
  const who = await caller(ctx, req);
  if ('status' in who) return who;
  const { claims, tenant } = who;
  const azp = String(claims.azp ?? claims.appid ?? '');
  const path = req.url.pathname.replace(/\/+$/, '');
  const lower = path.toLowerCase();
  const d = ctx.directory;
  try {
    if (req.method === 'POST' && /^\/beta\/serviceprincipals\/microsoft\.graph\.agentidentity$/.test(lower)) {
      const body = parseBody(req);
      if (!body) return graphError(400, 'BadRequest', 'Unable to read JSON request payload.', req);
      if (!hasRole(claims, 'AgentIdentity.CreateAsManager'))
        return graphError(
          403,
          'Authorization_RequestDenied',
          'Insufficient privileges to complete the operation.',
          req,
        );
      const bpId = typeof body.agentIdentityBlueprintId === 'string' ? body.agentIdentityBlueprintId : '';
      if (bpId !== azp)
        return graphError(
          403,
          'Authorization_RequestDenied',
          'A blueprint can only create agent identities of its own.',
          req,
        );
      if (typeof body.displayName !== 'string' || !body.displayName)
        return graphError(400, 'Request_BadRequest', "Property 'displayName' is required.", req);
      const binds = body['sponsors@odata.bind'];
      const sponsors = Array.isArray(binds) ? binds.map((b) => text(b).split('/').pop() ?? '') : [];
      const a = d.createAgentIdentity(tenant.id, {
        displayName: body.displayName,
        blueprintAppId: bpId,
        sponsors,
      });
      return json(201, {
        '@odata.context': 'https://graph.microsoft.com/beta/$metadata#servicePrincipals/$entity',
        ...agentJson(a),
      });
    }
    if (
      req.method === 'POST' &&
      lower === '/v1.0/serviceprincipals/microsoft.graph.agentidentityblueprintprincipal'
    ) {
      const body = parseBody(req);
      const bp = tenant.blueprints.get(text(body?.appId ?? ''));
      if (!bp)
        return graphError(
          400,
          'Request_BadRequest',
          'appId does not reference an agent identity blueprint.',
          req,
        );
      if (bp.appId !== azp)
        return graphError(
          403,
          'Authorization_RequestDenied',
          'Insufficient privileges to complete the operation.',
          req,
        );
      bp.principalId ??= randomUUID();
      return json(201, {
        '@odata.type': '#microsoft.graph.agentIdentityBlueprintPrincipal',
        id: bp.principalId,
        appId: bp.appId,
      });
    }
    // Graph paths are case-insensitive (SDKs send /beta/servicePrincipals/{id}); ids are compared as sent.
    let m = /^\/beta\/serviceprincipals\/([^/]+)$/i.exec(path);
    if (m?.[1]) {
      const a = tenant.agents.get(m[1]);
      if (!a || a.deleted)
        return graphError(
          404,
          'Request_ResourceNotFound',
          `Resource '${m[1]}' does not exist or one of its queried reference-property objects are not present.`,
          req,
        );
      if (a.blueprintAppId !== azp)
        return graphError(
          403,
          'Authorization_RequestDenied',
          'Insufficient privileges to complete the operation.',
          req,
        );
      if (req.method === 'GET') return json(200, agentJson(a));
      if (req.method === 'DELETE') {
        d.deleteAgentIdentity(tenant.id, a.id);
        return { status: 204, headers: {}, body: '' };
      }
      if (req.method === 'PATCH') {
        const body = parseBody(req);
        if (!body) return graphError(400, 'BadRequest', 'Unable to read JSON request payload.', req);
        if ('accountEnabled' in body && typeof body.accountEnabled !== 'boolean')
          return graphError(400, 'Request_BadRequest', "Property 'accountEnabled' must be a boolean.", req);
        if (typeof body.accountEnabled === 'boolean') d.setAgentEnabled(tenant.id, a.id, body.accountEnabled);
        return { status: 204, headers: {}, body: '' };
      }
      return methodNotAllowed(req);
    }
    if (req.method === 'POST' && lower === '/beta/users') {
      const body = parseBody(req);
      if (!body) return graphError(400, 'BadRequest', 'Unable to read JSON request payload.', req);
      if (text(body['@odata.type'] ?? '').toLowerCase() !== 'microsoft.graph.agentuser')
        return graphError(
          400,
          'Request_BadRequest',
          "Only '@odata.type': 'microsoft.graph.agentUser' can be created here.",
          req,
        );
      if (!hasRole(claims, 'AgentIdUser.ReadWrite.IdentityParentedBy'))
        return graphError(
          403,
          'Authorization_RequestDenied',
          'Insufficient privileges to complete the operation.',
          req,
        );
      const parent = tenant.agents.get(text(body.identityParentId ?? ''));
      if (parent && parent.blueprintAppId !== azp)
        return graphError(
          403,
          'Authorization_RequestDenied',
          'A blueprint can only create agent users for its own agent identities.',
          req,
        );
      const u = d.createAgentUser(tenant.id, {
        userPrincipalName: text(body.userPrincipalName ?? ''),
        identityParentId: text(body.identityParentId ?? ''),
        ...(typeof body.displayName === 'string' ? { displayName: body.displayName } : {}),
      });
      return json(201, {
        '@odata.context': 'https://graph.microsoft.com/beta/$metadata#users/$entity',
        ...agentUserJson(u),
      });
    }
    m = /^\/beta\/users\/([^/]+)$/i.exec(path);
    if (m?.[1]) {
      const key = safeDecode(m[1]);
      if (key === undefined)
        return graphError(400, 'Request_BadRequest', `Invalid object identifier '${m[1]}'.`, req);
      const u = tenant.agentUsers.get(key) ?? (d.findUserByUpn(tenant, key) as AgentUser | undefined);
      if (!u || !('identityParentId' in u))
        return graphError(
          404,
          'Request_ResourceNotFound',
          `Resource '${m[1]}' does not exist or one of its queried reference-property objects are not present.`,
          req,
        );
      const parent = tenant.agents.get(u.identityParentId);
      if (parent?.blueprintAppId !== azp)
        return graphError(
          403,
          'Authorization_RequestDenied',
          'Insufficient privileges to complete the operation.',
          req,
        );
      if (req.method === 'GET') return json(200, agentUserJson(u));
      if (req.method === 'DELETE') {
        d.deleteAgentUser(tenant.id, u.id);
        return { status: 204, headers: {}, body: '' };
      }
      if (req.method === 'PATCH') {
        const body = parseBody(req);
        if (!body) return graphError(400, 'BadRequest', 'Unable to read JSON request payload.', req);
        if ('identityParentId' in body && body.identityParentId !== u.identityParentId) {
          return graphError(
            400,
            'Request_BadRequest',
            'identityParentId cannot be changed: an agent user belongs to its agent identity for life.',
            req,
          );
        }
        if (typeof body.displayName === 'string' && body.displayName) u.displayName = body.displayName;
        return { status: 204, headers: {}, body: '' };
      }
      return methodNotAllowed(req);
    }
    m = /^\/beta\/directory\/deleteditems\/([^/]+)$/i.exec(path);
    if (m?.[1]) {
      if (req.method !== 'DELETE') return methodNotAllowed(req);
      const item = d.deletedItems.get(m[1]);
      if (!item || item.tenantId !== tenant.id)
        return graphError(404, 'Request_ResourceNotFound', `Deleted item '${m[1]}' does not exist.`, req);
      if ('blueprintAppId' in item && item.blueprintAppId !== azp)
        return graphError(
          403,
          'Authorization_RequestDenied',
          'Insufficient privileges to complete the operation.',
          req,
        );
      d.purgeDeleted(tenant.id, m[1]);
      return { status: 204, headers: {}, body: '' };
    }
    return graphError(400, 'BadRequest', `Resource not found for the segment '${path}'.`, req);
  } catch (e) {
    if (e instanceof DirectoryError) return graphError(e.status, e.code, e.message, req);
    throw e;
  }
}
