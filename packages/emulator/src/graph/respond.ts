import { randomUUID } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { EmulatorContext } from '../context.js';
import type { Tenant } from '../directory/directory.js';
import { GRAPH_APP_ID, GRAPH_RESOURCE } from '../ids.js';
import { json, type EmuRequest, type EmuResponse } from '../http/types.js';

/** One authorized Graph request, as every handler of the Graph subset gets it. */
export interface GraphCall {
  ctx: EmulatorContext;
  req: EmuRequest;
  claims: JWTPayload;
  tenant: Tenant;
  /** The calling application (`azp`, or `appid` of a v1 token). */
  azp: string;
  /** An app-only token (no user): the callers Entra's agent limits apply to. */
  appOnly: boolean;
  /** `v1.0` or `beta`, as in the path. */
  version: 'v1.0' | 'beta';
  /** The path after the version, e.g. `/servicePrincipals/{id}` (case kept). */
  path: string;
}

/** A Graph error in Graph's shape: `{error:{code,message,innerError:{date,request-id,client-request-id}}}`. */
export const graphError = (
  ctx: EmulatorContext,
  req: EmuRequest,
  status: number,
  code: string,
  message: string,
): EmuResponse =>
  json(
    status,
    {
      error: {
        code,
        message,
        innerError: {
          date: new Date(ctx.clock.now()).toISOString(),
          'request-id': randomUUID(),
          'client-request-id': req.headers['client-request-id'] ?? randomUUID(),
        },
      },
    },
    { 'request-id': randomUUID() },
  );

export const fail = (call: GraphCall, status: number, code: string, message: string): EmuResponse =>
  graphError(call.ctx, call.req, status, code, message);

export const denied = (call: GraphCall, message = 'Insufficient privileges to complete the operation.') =>
  fail(call, 403, 'Authorization_RequestDenied', message);

export const notFound = (call: GraphCall, id: string): EmuResponse =>
  fail(
    call,
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );

export const methodNotAllowed = (call: GraphCall): EmuResponse =>
  fail(call, 405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');

export const noContent = (): EmuResponse => ({ status: 204, headers: {}, body: '' });

/** `201`/`200` with the `@odata.context` of the collection or entity. */
export const entity = (call: GraphCall, status: number, set: string, body: object): EmuResponse =>
  json(status, {
    '@odata.context': `https://graph.microsoft.com/${call.version}/$metadata#${set}/$entity`,
    ...body,
  });

export const collection = (call: GraphCall, set: string, value: object[]): EmuResponse =>
  json(200, { '@odata.context': `https://graph.microsoft.com/${call.version}/$metadata#${set}`, value });

export const hasRole = (c: JWTPayload, role: string): boolean =>
  Array.isArray(c.roles) && c.roles.includes(role);

/** The request's JSON object body, or undefined. */
export function parseBody(req: EmuRequest): Record<string, unknown> | undefined {
  try {
    const b = JSON.parse(req.body) as unknown;
    return b && typeof b === 'object' && !Array.isArray(b) ? (b as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export const badBody = (call: GraphCall): EmuResponse =>
  fail(call, 400, 'BadRequest', 'Unable to read JSON request payload.');

export const safeDecode = (s: string): string | undefined => {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
};

/** Verifies the bearer token: a Graph token of a tenant of this emulator. */
export async function authorize(
  ctx: EmulatorContext,
  req: EmuRequest,
): Promise<{ claims: JWTPayload; tenant: Tenant } | EmuResponse> {
  const err = (message: string) => graphError(ctx, req, 401, 'InvalidAuthenticationToken', message);
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (!m?.[1]) return err('Access token is empty.');
  let claims: JWTPayload;
  try {
    claims = await ctx.keys.verify(m[1], { clockToleranceSec: ctx.clockSkewSec });
  } catch {
    return err('Access token validation failure. Invalid signature or expired token.');
  }
  const aud = String(claims.aud ?? '').toLowerCase();
  if (aud !== GRAPH_APP_ID && aud !== GRAPH_RESOURCE)
    return err('Access token validation failure. Invalid audience.');
  const tenant = ctx.directory.tenants.get(String(claims.tid));
  if (!tenant) return err('Unknown tenant.');
  return { claims, tenant };
}
