import type { EmulatorContext } from '../context.js';
import { handleGraph } from '../graph/graph.js';
import { instanceDiscovery, openIdConfiguration } from '../oauth/discovery.js';
import { errorBody, OAuthFailure, fail } from '../oauth/errors.js';
import { classifyGrant, handleGrant, type GrantKind } from '../oauth/grants.js';
import type { Counters, RequestRecord } from './counters.js';
import type { Faults, RouteName } from './faults.js';
import { handleManagedIdentity } from './managed-identity.js';
import { json, type EmuRequest, type EmuResponse } from './types.js';

/** Most bytes of a request body the emulator reads (Entra refuses huge requests too). */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface RouterDeps {
  ctx: EmulatorContext;
  faults: Faults;
  counters: Counters;
  /** Admin routes under /_emulator (counters, faults, key rotation, test tokens). */
  admin?: (req: EmuRequest, base: string) => Promise<EmuResponse | undefined>;
}

/** Names the route a path belongs to, for faults and counters. */
export function routeOf(path: string): RouteName {
  const p = path.toLowerCase();
  if (p === '/healthz') return 'health';
  if (p.startsWith('/_emulator/')) return 'admin';
  if (p.startsWith('/_issuers/')) return 'issuer';
  if (p.startsWith('/_mi/') || p.startsWith('/metadata/identity/')) return 'mi';
  if (p.startsWith('/beta/') || p.startsWith('/v1.0/')) return 'graph';
  if (/\/oauth2\/(v2\.0\/)?token$/.test(p)) return 'token';
  if (p.endsWith('/discovery/instance')) return 'discovery';
  if (/\/discovery\/(v2\.0\/)?keys$/.test(p)) return 'jwks';
  if (p.endsWith('/.well-known/openid-configuration')) return 'openid';
  return 'unknown';
}

function faultResponse(
  kind: string,
  status: number | undefined,
  retryAfterSec: number | undefined,
): EmuResponse {
  if (kind === 'drop') return { status: 0, headers: {}, body: '', drop: true };
  if (kind === 'malformed')
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"access_token": "truncated',
    };
  const s = status ?? 503;
  const headers: Record<string, string> =
    retryAfterSec !== undefined ? { 'retry-after': String(retryAfterSec) } : {};
  if (s === 429)
    return json(
      429,
      {
        error: 'temporarily_unavailable',
        error_description:
          'AADSTS50196: The server terminated an operation because it encountered a client request loop or too many requests.',
        error_codes: [50196],
      },
      headers,
    );
  return json(
    s,
    {
      error: 'temporarily_unavailable',
      error_description: `AADSTS90033: A transient error has occurred (injected ${s}). Please try again.`,
      error_codes: [90033],
    },
    headers,
  );
}

/** The emulator's request handler, shared by the socket servers and the in-process fetch. */
export function createRouter(deps: RouterDeps): (req: EmuRequest) => Promise<EmuResponse> {
  const { ctx, faults, counters } = deps;
  return async (req) => {
    const base = `${req.url.protocol}//${req.url.host}`;
    const path = req.url.pathname;
    const route = routeOf(path);
    const rec: RequestRecord = { at: ctx.clock.now(), route, method: req.method, path, status: 0 };
    let params: URLSearchParams | undefined;
    let tenantSegment = '';
    if (route === 'token') {
      params = new URLSearchParams(req.body);
      tenantSegment = path.split('/')[1] ?? '';
      const grant: GrantKind = classifyGrant(ctx.directory.tenant(tenantSegment), params);
      rec.grant = grant;
      const clientId = params.get('client_id');
      if (clientId) rec.clientId = clientId.slice(0, 64);
      const fmi = params.get('fmi_path');
      if (fmi) rec.fmiPath = fmi.slice(0, 64);
      const scope = params.get('scope');
      if (scope) rec.scope = scope.slice(0, 512);
      const user = params.get('username') ?? params.get('user_id');
      if (user && grant === 'user_fic') rec.user = user.slice(0, 256);
    }
    const decision =
      route === 'admin' || route === 'health'
        ? { latencyMs: 0, fault: undefined }
        : faults.decide(route, rec.grant, rec.clientId);
    let res: EmuResponse;
    if (decision.fault) {
      res = faultResponse(decision.fault.kind, decision.fault.status, decision.fault.retryAfterSec);
      rec.fault = decision.fault.kind;
    } else {
      try {
        res = await dispatch(deps, req, route, base, params, tenantSegment);
      } catch (e) {
        // Never crash on garbage input: anything unexpected is a 500 in Entra's shape.
        const f =
          e instanceof OAuthFailure
            ? e
            : new OAuthFailure(
                500,
                'server_error',
                90033,
                'A transient error has occurred. Please try again.',
              );
        res = json(
          f.status,
          errorBody(
            f,
            new Date(ctx.clock.now()),
            params?.get('client-request-id') ?? req.headers['client-request-id'],
          ),
        );
        rec.aadsts = f.aadsts;
      }
    }
    if (decision.latencyMs) res.delayMs = (res.delayMs ?? 0) + decision.latencyMs;
    rec.status = res.status;
    if (route !== 'admin') counters.record(rec);
    return res;
  };
}

async function dispatch(
  deps: RouterDeps,
  req: EmuRequest,
  route: RouteName,
  base: string,
  params: URLSearchParams | undefined,
  tenantSegment: string,
): Promise<EmuResponse> {
  const { ctx } = deps;
  const path = req.url.pathname;
  const segs = path.split('/').filter(Boolean);
  switch (route) {
    case 'health':
      return json(200, { status: 'ok' });
    case 'admin':
      return (await deps.admin?.(req, base)) ?? json(404, { error: 'not_found' });
    case 'token': {
      if (req.method !== 'POST')
        return json(
          405,
          {
            error: 'invalid_request',
            error_description: 'AADSTS900561: The endpoint only accepts POST requests.',
            error_codes: [900561],
          },
          { allow: 'POST' },
        );
      const tenant = ctx.directory.tenant(tenantSegment);
      if (!tenant)
        throw fail.request(
          90002,
          `Tenant '${tenantSegment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
        );
      const ct = req.headers['content-type'] ?? '';
      if (!ct.toLowerCase().startsWith('application/x-www-form-urlencoded'))
        throw fail.request(
          900144,
          "The request body must contain the following parameter: 'grant_type' (send application/x-www-form-urlencoded).",
        );
      const dup = [...new Set([...params!.keys()])].find((k) => params!.getAll(k).length > 1);
      if (dup)
        throw fail.request(
          9002313,
          `Invalid request. Request is malformed or invalid: parameter '${dup}' was sent more than once.`,
        );
      const r = await handleGrant({ ctx, tenant, tenantSegment, base, params: params! });
      return json(200, r.body);
    }
    case 'openid': {
      const tenant = ctx.directory.tenant(segs[0] ?? '');
      if (!tenant)
        return json(400, {
          error: 'invalid_tenant',
          error_description: `AADSTS90002: Tenant '${segs[0] ?? ''}' not found.`,
          error_codes: [90002],
        });
      return json(200, openIdConfiguration(base, tenant.id, segs[1] !== 'v2.0'));
    }
    case 'discovery':
      return json(200, instanceDiscovery(base, req.url.searchParams.get('authorization_endpoint')));
    case 'jwks':
      return json(200, ctx.keys.jwks());
    case 'graph':
      return handleGraph(ctx, req);
    case 'mi':
      return handleManagedIdentity(ctx, req, base);
    case 'issuer': {
      const name = segs[1] ?? '';
      const iss = ctx.issuers.get(name);
      if (!iss) return json(404, { error: 'not_found' });
      if (segs[2] === 'jwks') return json(200, iss.keys.jwks());
      if (segs.slice(2).join('/') === '.well-known/openid-configuration') {
        return json(200, {
          issuer: iss.issuer ?? `${base}/_issuers/${name}`,
          jwks_uri: `${base}/_issuers/${name}/jwks`,
          id_token_signing_alg_values_supported: ['RS256'],
          response_types_supported: ['id_token'],
          subject_types_supported: ['public'],
        });
      }
      return json(404, { error: 'not_found' });
    }
    default:
      return json(404, { error: 'not_found', error_description: `No route for ${req.method} ${path}` });
  }
}
