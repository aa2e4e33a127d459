import type { AllowOverrides, DownstreamApiProfile } from './config.js';
import { type Problem, problem } from './problem.js';

/** The four token-issuing routes, by their Microsoft names. */
export type RouteName =
  | 'AuthorizationHeader'
  | 'AuthorizationHeaderUnauthenticated'
  | 'DownstreamApi'
  | 'DownstreamApiUnauthenticated';

/** What a request asks for, after its query was parsed and checked against the route. */
export interface ParsedRequest {
  agentIdentity?: string;
  agentUsername?: string;
  agentUserId?: string;
  scopes: string[];
  requestAppToken: boolean;
  relativePath: string;
  httpMethod: string;
  forceRefresh: boolean;
  claims?: string;
  /** `optionsOverride.AcquireTokenOptions.Tenant` when it names a customer tenant (absent for the home tenant). */
  tenantId?: string;
  /** `optionsOverride.AcquireTokenOptions.CorrelationId` (a GUID): in the span, and `client-request-id` downstream. */
  correlationId?: string;
  /** `optionsOverride.CustomHeader.<name>`: headers for the downstream API (`/DownstreamApi` only). */
  customHeaders?: Readonly<Record<string, string>>;
  acceptHeader?: string;
  contentType?: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UPN = /^[^@\s]{1,113}@[^@\s]{1,255}$/;
const SINGLE = new Map(
  [
    'AgentIdentity',
    'AgentUsername',
    'AgentUserId',
    'optionsOverride.RequestAppToken',
    'optionsOverride.RelativePath',
    'optionsOverride.HttpMethod',
    'optionsOverride.BaseUrl',
    'optionsOverride.AcceptHeader',
    'optionsOverride.ContentType',
    'optionsOverride.AcquireTokenOptions.Tenant',
    'optionsOverride.AcquireTokenOptions.ForceRefresh',
    'optionsOverride.AcquireTokenOptions.Claims',
    'optionsOverride.AcquireTokenOptions.CorrelationId',
  ].map((k) => [k.toLowerCase(), k]),
);
const SCOPES = 'optionsoverride.scopes';
const CUSTOM_HEADER = 'optionsoverride.customheader.';
const TENANT = /^[0-9a-z][0-9a-z.-]{2,254}$/i;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
// Never set by a caller: the credential the sidecar adds, what framing and routing depend on, and
// the hop-by-hop headers (RFC 9110 section 7.6.1).
const RESERVED_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'proxy-authenticate',
  'host',
  'content-length',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The tenants a sidecar serves: its home tenant and the blueprint's `allowedTenants`. */
export interface SidecarTenants {
  readonly home: string;
  allows(tenantId: string): boolean;
}

/** Checks one `optionsOverride.CustomHeader.<name>` parameter: a problem, or undefined. */
function customHeaderProblem(name: string, value: string, seen: Record<string, string>): Problem | undefined {
  const lower = name.toLowerCase();
  if (!HEADER_NAME.test(name))
    return problem(
      400,
      'optionsOverride.CustomHeader needs a header name (a token).',
      'AGENTID_INVALID_REQUEST',
    );
  if (RESERVED_HEADERS.has(lower))
    return problem(
      400,
      `optionsOverride.CustomHeader.${name} is refused: the sidecar sets Authorization itself, and hop-by-hop and framing headers cannot be forwarded.`,
      'AGENTID_INVALID_REQUEST',
    );
  if (lower in seen)
    return problem(400, `The header '${name}' is given more than once.`, 'AGENTID_INVALID_REQUEST');
  if (value.length > 4096 || /[\r\n\0]/.test(value))
    return problem(
      400,
      `optionsOverride.CustomHeader.${name} has an invalid value.`,
      'AGENTID_INVALID_REQUEST',
    );
  return undefined;
}

function allowedOn(route: RouteName, allow: AllowOverrides): boolean {
  switch (route) {
    case 'AuthorizationHeader':
      return allow.getAuthorizationHeader;
    case 'AuthorizationHeaderUnauthenticated':
      return allow.getAuthorizationHeaderUnauthenticated;
    case 'DownstreamApi':
      return allow.callDownstreamApi;
    case 'DownstreamApiUnauthenticated':
      return allow.callDownstreamApiUnauthenticated;
  }
}

const settingName = (route: RouteName) =>
  `Sidecar:AllowOverrides:${{ AuthorizationHeader: 'GetAuthorizationHeader', AuthorizationHeaderUnauthenticated: 'GetAuthorizationHeaderUnauthenticated', DownstreamApi: 'CallDownstreamApi', DownstreamApiUnauthenticated: 'CallDownstreamApiUnauthenticated' }[route]}`;

/**
 * Parses and checks a request's query against its route and API profile. Fails closed where
 * Microsoft's sidecar only logs a warning: agent parameters or overrides on a route that may not
 * honour them are a 403, never a token for another identity; unknown `optionsOverride.*`
 * parameters, repeated parameters and contradictory ones are a 400. A `Tenant` override outside
 * the served tenants is a 403 (`AGENTID_TENANT_NOT_ALLOWED`); the home tenant is always served.
 *
 * @example
 * ```ts
 * const parsed = parseRequest(url.searchParams, 'AuthorizationHeaderUnauthenticated', api, config.allowOverrides, tenants);
 * if ('status' in parsed) return sendProblem(res, parsed);
 * ```
 */
export function parseRequest(
  query: URLSearchParams,
  route: RouteName,
  api: DownstreamApiProfile,
  allow: AllowOverrides,
  tenants: SidecarTenants,
): ParsedRequest | Problem {
  const single = new Map<string, string>();
  const scopes: string[] = [];
  const customHeaders: Record<string, string> = {};
  let overrides = false;
  let agentParams = false;
  for (const [rawKey, value] of query) {
    const key = rawKey.toLowerCase();
    if (key === SCOPES) {
      overrides = true;
      for (const s of value.split(/\s+/)) if (s) scopes.push(s);
      continue;
    }
    if (key.startsWith(CUSTOM_HEADER)) {
      overrides = true;
      const header = rawKey.slice(CUSTOM_HEADER.length);
      const refused = customHeaderProblem(header, value, customHeaders);
      if (refused) return refused;
      customHeaders[header.toLowerCase()] = value;
      continue;
    }
    const name = SINGLE.get(key);
    if (name === undefined) {
      if (key.startsWith('optionsoverride.'))
        return problem(
          400,
          `The override '${rawKey.slice(0, 80)}' is not supported by this sidecar.`,
          'AGENTID_INVALID_REQUEST',
        );
      continue; // Unknown plain parameters are ignored, as ASP.NET binding does.
    }
    if (single.has(name))
      return problem(400, `The parameter '${name}' is given more than once.`, 'AGENTID_INVALID_REQUEST');
    single.set(name, value);
    if (name.startsWith('optionsOverride.')) overrides = true;
    else agentParams = true;
  }
  const allowed = allowedOn(route, allow);
  if (agentParams && !allowed) {
    return problem(
      403,
      `Agent identity parameters are not allowed on ${route} (${settingName(route)} is false); refusing rather than returning a token of another identity.`,
      'AGENTID_FORBIDDEN',
    );
  }
  if (overrides && !allowed)
    return problem(
      403,
      `optionsOverride parameters are not allowed on ${route} (${settingName(route)} is false).`,
      'AGENTID_FORBIDDEN',
    );

  const agentIdentity = single.get('AgentIdentity');
  const agentUsername = single.get('AgentUsername');
  const agentUserId = single.get('AgentUserId');
  if (agentIdentity !== undefined && !GUID.test(agentIdentity))
    return problem(
      400,
      "AgentIdentity must be the agent identity's client id (a GUID).",
      'AGENTID_INVALID_REQUEST',
    );
  if (agentUsername !== undefined && agentUserId !== undefined)
    return problem(400, 'AgentUsername and AgentUserId are mutually exclusive.', 'AGENTID_INVALID_REQUEST');
  if ((agentUsername !== undefined || agentUserId !== undefined) && agentIdentity === undefined) {
    return problem(
      400,
      'AgentUsername and AgentUserId need AgentIdentity (the agent identity the agent user belongs to).',
      'AGENTID_INVALID_REQUEST',
    );
  }
  if (agentUserId !== undefined && !GUID.test(agentUserId))
    return problem(400, 'AgentUserId must be an object id (a GUID).', 'AGENTID_INVALID_REQUEST');
  if (agentUsername !== undefined && !UPN.test(agentUsername))
    return problem(400, 'AgentUsername must be a user principal name.', 'AGENTID_INVALID_REQUEST');

  const flag = (name: string): boolean | Problem => {
    const v = single.get(name);
    if (v === undefined) return false;
    if (/^true$/i.test(v)) return true;
    if (/^false$/i.test(v)) return false;
    return problem(400, `${name} must be true or false.`, 'AGENTID_INVALID_REQUEST');
  };
  const appToken = flag('optionsOverride.RequestAppToken');
  if (typeof appToken !== 'boolean') return appToken;
  const forceRefresh = flag('optionsOverride.AcquireTokenOptions.ForceRefresh');
  if (typeof forceRefresh !== 'boolean') return forceRefresh;
  const requestAppToken = appToken || api.requestAppToken;
  if (requestAppToken && (agentUsername !== undefined || agentUserId !== undefined)) {
    return problem(
      400,
      'RequestAppToken cannot be combined with an agent user (AgentUsername/AgentUserId).',
      'AGENTID_INVALID_REQUEST',
    );
  }
  // agents-hosting sends the inbound activity's tenant on every call: the home tenant, or a
  // customer tenant of a multi-tenant blueprint (AgentId:AllowedTenants).
  const tenant = single.get('optionsOverride.AcquireTokenOptions.Tenant');
  if (tenant !== undefined && !TENANT.test(tenant))
    return problem(
      400,
      'optionsOverride.AcquireTokenOptions.Tenant must be a tenant id or domain.',
      'AGENTID_INVALID_REQUEST',
    );
  if (tenant !== undefined && !tenants.allows(tenant))
    return problem(
      403,
      `This sidecar does not serve tenant ${tenant} (AgentId:AllowedTenants; home tenant ${tenants.home}).`,
      'AGENTID_TENANT_NOT_ALLOWED',
    );
  const tenantId =
    tenant !== undefined && tenant.toLowerCase() !== tenants.home.toLowerCase()
      ? tenant.toLowerCase()
      : undefined;
  const correlationId = single.get('optionsOverride.AcquireTokenOptions.CorrelationId');
  if (correlationId !== undefined && !GUID.test(correlationId))
    return problem(
      400,
      'optionsOverride.AcquireTokenOptions.CorrelationId must be a GUID.',
      'AGENTID_INVALID_REQUEST',
    );
  const httpMethod = (single.get('optionsOverride.HttpMethod') ?? api.httpMethod).toUpperCase();
  if (!/^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)$/.test(httpMethod))
    return problem(
      400,
      'optionsOverride.HttpMethod is not a supported HTTP method.',
      'AGENTID_INVALID_REQUEST',
    );
  const finalScopes = scopes.length > 0 ? scopes : [...api.scopes];
  if (finalScopes.length === 0) {
    return problem(
      400,
      `No scopes found for the API '${api.name}' or in optionsOverride. 'scopes' needs to be either a single value or a list of values.`,
      'AGENTID_INVALID_REQUEST',
    );
  }
  const claims = single.get('optionsOverride.AcquireTokenOptions.Claims');
  const accept = single.get('optionsOverride.AcceptHeader') ?? api.acceptHeader;
  const contentType = single.get('optionsOverride.ContentType') ?? api.contentType;
  return {
    ...(agentIdentity !== undefined ? { agentIdentity } : {}),
    ...(agentUsername !== undefined ? { agentUsername } : {}),
    ...(agentUserId !== undefined ? { agentUserId } : {}),
    scopes: finalScopes,
    requestAppToken,
    // optionsOverride.BaseUrl is always ignored: the caller never chooses where the token goes.
    relativePath: single.get('optionsOverride.RelativePath') ?? api.relativePath,
    httpMethod,
    forceRefresh,
    ...(claims ? { claims } : {}),
    ...(tenantId ? { tenantId } : {}),
    ...(correlationId ? { correlationId: correlationId.toLowerCase() } : {}),
    ...(Object.keys(customHeaders).length > 0 ? { customHeaders } : {}),
    ...(accept ? { acceptHeader: accept } : {}),
    ...(contentType ? { contentType } : {}),
  };
}

/**
 * The downstream URL: `relativePath` under the profile's base URL. Refuses anything that would
 * leave it (an absolute URL, `//host`, `..` above the base path, a backslash), so the caller can
 * never change where the token is sent.
 *
 * @example
 * ```ts
 * downstreamUrl('https://graph.microsoft.com/v1.0/', 'me/messages'); // https://graph.microsoft.com/v1.0/me/messages
 * ```
 */
export function downstreamUrl(baseUrl: string, relativePath: string): URL | undefined {
  const base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  if (
    /^[a-z][a-z0-9+.-]*:/i.test(relativePath) ||
    relativePath.startsWith('//') ||
    relativePath.includes('\\')
  )
    return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(relativePath);
  } catch {
    return undefined;
  }
  if (decoded.split(/[/?#]/).includes('..') || decoded.includes('\\')) return undefined;
  const url = new URL(relativePath.replace(/^\/+/, ''), base);
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) return undefined;
  return url;
}
