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
  ].map((k) => [k.toLowerCase(), k]),
);
const SCOPES = 'optionsoverride.scopes';

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
 * parameters, repeated parameters and contradictory ones are a 400.
 *
 * @example
 * ```ts
 * const parsed = parseRequest(url.searchParams, 'AuthorizationHeaderUnauthenticated', api, config.allowOverrides, config.tenantId);
 * if ('status' in parsed) return sendProblem(res, parsed);
 * ```
 */
export function parseRequest(
  query: URLSearchParams,
  route: RouteName,
  api: DownstreamApiProfile,
  allow: AllowOverrides,
  tenantId: string,
): ParsedRequest | Problem {
  const single = new Map<string, string>();
  const scopes: string[] = [];
  let overrides = false;
  let agentParams = false;
  for (const [rawKey, value] of query) {
    const key = rawKey.toLowerCase();
    if (key === SCOPES) {
      overrides = true;
      for (const s of value.split(/\s+/)) if (s) scopes.push(s);
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
  const tenant = single.get('optionsOverride.AcquireTokenOptions.Tenant');
  if (tenant !== undefined && tenant.toLowerCase() !== tenantId.toLowerCase()) {
    return problem(
      400,
      `This sidecar acts in tenant ${tenantId}; optionsOverride.AcquireTokenOptions.Tenant may only name that tenant.`,
      'AGENTID_WRONG_TENANT',
    );
  }
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
