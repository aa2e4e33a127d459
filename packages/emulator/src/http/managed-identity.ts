import type { EmulatorContext } from '../context.js';
import { issuerV2 } from '../context.js';
import type { ManagedIdentitySeed } from '../directory/types.js';
import type { Tenant } from '../directory/directory.js';
import { json, type EmuRequest, type EmuResponse } from './types.js';

function findIdentity(
  ctx: EmulatorContext,
  q: URLSearchParams,
): { tenant: Tenant; mi: ManagedIdentitySeed } | undefined {
  const clientId = q.get('client_id');
  const principalId = q.get('principal_id') ?? q.get('object_id');
  for (const tenant of ctx.directory.tenants.values()) {
    for (const mi of tenant.managedIdentities.values()) {
      if (clientId ? mi.clientId === clientId : principalId ? mi.id === principalId : true)
        return { tenant, mi };
    }
  }
  return undefined;
}

/**
 * Managed identity endpoints, App Service style (`IDENTITY_ENDPOINT` + `X-IDENTITY-HEADER`) and
 * IMDS style (`Metadata: true`), so MSAL's ManagedIdentityApplication works unmodified.
 */
export async function handleManagedIdentity(
  ctx: EmulatorContext,
  req: EmuRequest,
  base: string,
): Promise<EmuResponse> {
  const path = req.url.pathname.replace(/\/+$/, '').toLowerCase();
  if (path !== '/_mi/token' && path !== '/metadata/identity/oauth2/token')
    return json(404, {
      error: 'not_found',
      error_description: `No managed identity endpoint at ${req.url.pathname}`,
    });
  const imds = path.startsWith('/metadata/');
  if (
    imds
      ? req.headers.metadata?.toLowerCase() !== 'true'
      : req.headers['x-identity-header'] !== ctx.identityHeader
  ) {
    return json(imds ? 400 : 401, {
      error: 'invalid_request',
      error_description: imds
        ? 'Required metadata header not specified'
        : 'X-IDENTITY-HEADER is missing or wrong',
    });
  }
  const q = req.url.searchParams;
  const resource = (q.get('resource') ?? '').replace(/\/\.default$/i, '');
  if (!resource) return json(400, { error: 'invalid_request', error_description: 'resource is required' });
  const found = findIdentity(ctx, q);
  if (!found)
    return json(400, {
      error: 'invalid_request',
      error_description: 'No managed identity matches the request (client_id / principal_id).',
    });
  const now = Math.floor(ctx.clock.now() / 1000);
  const lifetime = ctx.tokenLifetimeSec;
  const token = await ctx.keys.sign({
    aud: resource,
    iss: issuerV2(base, found.tenant.id),
    iat: now,
    nbf: now,
    exp: now + lifetime,
    tid: found.tenant.id,
    oid: found.mi.id,
    sub: found.mi.id,
    azp: found.mi.clientId,
    appid: found.mi.clientId,
    idtyp: 'app',
    ver: '2.0',
  });
  return json(200, {
    access_token: token,
    expires_on: String(now + lifetime),
    ...(imds ? { expires_in: String(lifetime), not_before: String(now), refresh_token: '' } : {}),
    resource,
    token_type: 'Bearer',
    client_id: found.mi.clientId,
  });
}
