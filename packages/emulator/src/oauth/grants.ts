import type { JWTPayload } from 'jose';
import { issuerV1, issuerV2, type EmulatorContext } from '../context.js';
import type { AgentIdentity, Client, Resource, Tenant } from '../directory/directory.js';
import {
  exchangeAudienceOf,
  FACET_AGENT_IDENTITY,
  FACET_AGENT_USER,
  GRAPH_APP_ID,
  isGuid,
  text,
} from '../ids.js';
import {
  authenticateClient,
  noBlueprintPrincipal,
  verifyExchangeToken,
  type AuthenticatedClient,
} from './client-auth.js';
import { fail, OAuthFailure } from './errors.js';
import {
  clientInfo,
  issueAccessToken,
  issueIdToken,
  parseClaimsRequest,
  type ClaimsRequest,
  type TokenSpec,
} from './issue.js';
import { parseScopes, qualify, type ParsedScopes } from './scopes.js';
import { issueRefreshToken, refreshTokenGrant } from './refresh-token.js';

/** Which request a token call was, for the counters tests read. */
export type GrantKind =
  'leg1' | 'leg2' | 'obo' | 'user_fic' | 'client_credentials' | 'password' | 'refresh_token' | 'unknown';

export interface GrantInput {
  ctx: EmulatorContext;
  tenant: Tenant;
  tenantSegment: string;
  base: string;
  params: URLSearchParams;
}

export interface GrantResult {
  body: Record<string, unknown>;
}

/** Classifies a token request before it is processed, so faulted and failed calls are counted too. */
export function classifyGrant(tenant: Tenant | undefined, params: URLSearchParams): GrantKind {
  const g = params.get('grant_type');
  const clientId = params.get('client_id') ?? '';
  switch (g) {
    case 'client_credentials':
      if (params.has('fmi_path')) return 'leg1';
      return tenant?.agents.has(clientId) ? 'leg2' : 'client_credentials';
    case 'urn:ietf:params:oauth:grant-type:jwt-bearer':
      return 'obo';
    case 'user_fic':
      return 'user_fic';
    case 'password':
      return 'password';
    case 'refresh_token':
      return 'refresh_token';
    default:
      return 'unknown';
  }
}

function claimsOf(params: URLSearchParams): ClaimsRequest | undefined {
  try {
    return parseClaimsRequest(params.get('claims') ?? undefined);
  } catch {
    throw fail.request(90019, "The 'claims' parameter is not valid JSON.");
  }
}

export function usableAgent(tenant: Tenant, agent: AgentIdentity, ctx: EmulatorContext): void {
  if (!ctx.directory.agentUsable(tenant, agent)) {
    const bpOff = !tenant.blueprints.get(agent.blueprintAppId)?.enabled;
    throw fail.unauthorized(
      7000112,
      bpOff
        ? `Blueprint '${agent.blueprintAppId}' is disabled, and with it agent identity '${agent.id}'.`
        : `Agent identity '${agent.id}' is disabled.`,
    );
  }
}

function refreshIn(ctx: EmulatorContext, lifetime: number): number | undefined {
  if (ctx.refreshIn === 'none') return undefined;
  return ctx.refreshIn === 'half' ? Math.floor(lifetime / 2) : Math.min(ctx.refreshIn, lifetime);
}

async function tokenBody(
  ctx: EmulatorContext,
  spec: TokenSpec,
  extras: { scope?: string[]; idToken?: string; clientInfo?: string; refreshToken?: string },
): Promise<GrantResult> {
  const t = await issueAccessToken(ctx, spec);
  const ri = refreshIn(ctx, t.expiresIn);
  return {
    body: {
      token_type: 'Bearer',
      ...(extras.scope ? { scope: extras.scope.join(' ') } : {}),
      expires_in: t.expiresIn,
      ext_expires_in: t.expiresIn,
      ...(ri !== undefined ? { refresh_in: ri } : {}),
      access_token: t.accessToken,
      ...(extras.refreshToken ? { refresh_token: extras.refreshToken } : {}),
      ...(extras.idToken ? { id_token: extras.idToken } : {}),
      ...(extras.clientInfo ? { client_info: extras.clientInfo } : {}),
    },
  };
}

function requireDefault(s: ParsedScopes, raw: string | null): void {
  if (!s.isDefault) {
    throw fail.scope(
      1002012,
      `The provided value for scope '${raw ?? ''}' is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    );
  }
}

/** client_credentials: leg 1 (fmi_path), leg 2 (agent + T1), or a plain app token. */
export async function clientCredentials(input: GrantInput): Promise<GrantResult> {
  const { ctx, tenant, params } = input;
  const auth = await authenticateClient(input);
  const raw = params.get('scope');
  const scopes = parseScopes(ctx.directory, tenant, raw);
  requireDefault(scopes, raw);
  const claimsRequest = claimsOf(params);
  if (auth.kind === 'agent') {
    usableAgent(tenant, auth.agent, ctx);
    return agentAppToken(input, auth.agent, scopes.resource, claimsRequest);
  }
  const fmi = params.get('fmi_path');
  if (auth.kind === 'blueprint' && auth.client.kind === 'blueprint') {
    const bp = tenant.blueprints.get(auth.client.appId)!;
    if (!bp.enabled) throw fail.unauthorized(7000112, `Blueprint '${bp.appId}' is disabled.`);
    const isLeg1 = fmi !== null || scopes.exchange;
    // Leg 1 in a tenant without the blueprint's principal: the wrong tenant (PROTOCOL.md).
    if (!bp.principalId && isLeg1) throw noBlueprintPrincipal(bp.appId, tenant.id);
    if (!bp.principalId)
      throw fail.client(
        7000229,
        `The client application '${bp.appId}' is missing its blueprint principal in tenant '${tenant.id}'.`,
        400,
      );
    if (isLeg1) {
      if (!fmi)
        throw fail.request(
          82008,
          'A token for the token-exchange audience requires fmi_path: the agent identity this exchange token is for.',
        );
      if (!scopes.exchange)
        throw fail.scope(
          70011,
          'fmi_path may only be used with the token-exchange scope (api://AzureADTokenExchange/.default).',
        );
      const asked = (params.get('scope') ?? '').replace(/\/\.default$/i, '').toLowerCase();
      if (asked !== exchangeAudienceOf(input.base).toLowerCase())
        throw fail.scope(
          70011,
          `The token-exchange audience of this cloud is '${exchangeAudienceOf(input.base)}', not '${asked}'.`,
        );
      return leg1(input, bp.appId, bp.principalId, fmi, auth.method);
    }
    return appToken(input, bp, bp.principalId, scopes.resource!, claimsRequest, auth.method, true);
  }
  if (fmi !== null)
    throw fail.request(
      82008,
      `fmi_path is only valid for an agent identity blueprint; '${auth.client.appId}' is not one.`,
    );
  if (scopes.exchange)
    throw fail.scope(
      70011,
      'Only agent identity blueprints and agent identities may request the token-exchange audience.',
    );
  if (!auth.client.enabled)
    throw fail.unauthorized(7000112, `Application '${auth.client.appId}' is disabled.`);
  return appToken(input, auth.client, auth.client.appId, scopes.resource!, claimsRequest, auth.method, false);
}

async function leg1(
  input: GrantInput,
  blueprintAppId: string,
  principalId: string,
  fmi: string,
  method: string,
): Promise<GrantResult> {
  const { ctx, tenant } = input;
  const agent = tenant.agents.get(fmi);
  if (!agent || agent.deleted) {
    const elsewhere = ctx.directory.locateClient(fmi);
    if (elsewhere && elsewhere.tenant.id !== tenant.id)
      throw fail.unauthorized(
        700211,
        `Agent identity '${fmi}' belongs to tenant '${elsewhere.tenant.id}', not '${tenant.id}'.`,
      );
    throw fail.unauthorized(
      700016,
      `fmi_path '${fmi}' is not an agent identity of blueprint '${blueprintAppId}' in tenant '${tenant.id}'.`,
    );
  }
  if (agent.blueprintAppId !== blueprintAppId)
    throw fail.unauthorized(
      700016,
      `Agent identity '${fmi}' belongs to another blueprint, not '${blueprintAppId}'.`,
    );
  usableAgent(tenant, agent, ctx);
  return tokenBody(
    ctx,
    {
      base: input.base,
      tenant,
      resource: undefined,
      idtyp: 'app',
      oid: principalId,
      sub: `/eid1/c/pub/t/${tenant.id}/a/${blueprintAppId}/${agent.id}`,
      azp: blueprintAppId,
      azpacr: method === 'secret' ? '1' : '2',
      extra: { appid: blueprintAppId },
    },
    {},
  );
}

async function agentAppToken(
  input: GrantInput,
  agent: AgentIdentity,
  resource: Resource | undefined,
  claimsRequest: ClaimsRequest | undefined,
): Promise<GrantResult> {
  const { ctx, tenant } = input;
  // Conditional Access evaluates leg 2 for a resource, never T2 (the token-exchange audience).
  if (resource) ctx.conditionalAccess.evaluate({ grant: 'leg2', tenant, agent, resource });
  const roles = resource ? ctx.directory.appRolesFor(tenant, agent.id, resource) : undefined;
  return tokenBody(
    ctx,
    {
      base: input.base,
      tenant,
      resource,
      idtyp: 'app',
      oid: agent.id,
      azp: agent.id,
      parentAppId: agent.blueprintAppId,
      actFacets: [FACET_AGENT_IDENTITY],
      subFacets: [FACET_AGENT_IDENTITY],
      ...(roles ? { roles } : {}),
      ...(claimsRequest ? { claimsRequest } : {}),
      extra: { appid: agent.id },
    },
    {},
  );
}

async function appToken(
  input: GrantInput,
  client: Client,
  oid: string,
  resource: Resource,
  claimsRequest: ClaimsRequest | undefined,
  method: string,
  isBlueprint: boolean,
): Promise<GrantResult> {
  const { ctx, tenant } = input;
  let roles = ctx.directory.appRolesFor(tenant, client.appId, resource);
  // A blueprint may manage its own agent identities and agent users through Graph.
  if (isBlueprint && resource.appId === GRAPH_APP_ID)
    roles = [
      ...new Set([...roles, 'AgentIdentity.CreateAsManager', 'AgentIdUser.ReadWrite.IdentityParentedBy']),
    ];
  return tokenBody(
    ctx,
    {
      base: input.base,
      tenant,
      resource,
      idtyp: 'app',
      oid,
      azp: client.appId,
      azpacr: method === 'secret' ? '1' : '2',
      roles,
      ...(claimsRequest ? { claimsRequest } : {}),
    },
    {},
  );
}

/** The delegated permissions to grant: explicit scopes must exist and be consented; `.default` gives all consented. */
function delegatedScopes(
  ctx: EmulatorContext,
  tenant: Tenant,
  clientId: string,
  userId: string,
  s: ParsedScopes,
): string[] {
  const resource = s.resource;
  if (!resource)
    throw fail.scope(70011, 'A delegated token cannot be requested for the token-exchange audience.');
  const consented = ctx.directory.delegatedScopesFor(tenant, clientId, userId, resource);
  if (s.isDefault) return [...consented].filter((v) => resource.scopes.has(v)).sort();
  for (const v of s.values) {
    if (!resource.scopes.has(v))
      throw fail.scope(
        70011,
        `The provided value for scope '${v}' is not valid: resource '${resource.appId}' exposes no such permission.`,
      );
  }
  const missing = s.values.filter((v) => !consented.has(v));
  if (missing.length) {
    throw fail.grant(
      65001,
      `The user or administrator has not consented to use the application with ID '${clientId}'. Send an interactive authorization request for this user and resource (missing: ${missing.join(' ')}).`,
      'consent_required',
    );
  }
  return [...new Set(s.values)].sort();
}

export async function userToken(
  input: GrantInput,
  args: {
    clientId: string;
    user: { oid: string; upn?: string; name?: string };
    scopes: ParsedScopes;
    parentAppId?: string;
    actFacets?: number[];
    subFacets?: number[];
    azpacr?: '0' | '1' | '2';
    /** The first grant of a refreshed session (kept by the new refresh token). */
    sessionStart?: number;
    /** How the user signed in (`amr`), kept across on-behalf-of hops as Entra does. */
    amr?: string[];
  },
): Promise<GrantResult> {
  const { ctx, tenant, params, base } = input;
  const values = delegatedScopes(ctx, tenant, args.clientId, args.user.oid, args.scopes);
  const resource = args.scopes.resource!;
  const claimsRequest = claimsOf(params);
  const oidc = [...args.scopes.oidc];
  const refreshToken = args.scopes.oidc.has('offline_access')
    ? issueRefreshToken(ctx, {
        tenantId: tenant.id,
        clientId: args.clientId,
        userId: args.user.oid,
        resourceAppId: resource.appId,
        scopes: values,
        ...(args.sessionStart !== undefined ? { sessionStart: args.sessionStart } : {}),
      })
    : undefined;
  return tokenBody(
    ctx,
    {
      base,
      tenant,
      resource,
      idtyp: 'user',
      oid: args.user.oid,
      azp: args.clientId,
      scp: values,
      ...(args.user.upn ? { upn: args.user.upn } : {}),
      ...(args.user.name ? { name: args.user.name } : {}),
      ...(args.parentAppId ? { parentAppId: args.parentAppId } : {}),
      ...(args.actFacets ? { actFacets: args.actFacets } : {}),
      ...(args.subFacets ? { subFacets: args.subFacets } : {}),
      ...(args.azpacr ? { azpacr: args.azpacr } : {}),
      ...(claimsRequest ? { claimsRequest } : {}),
      extra: { appid: args.clientId, ...(args.amr ? { amr: args.amr } : {}) },
    },
    {
      scope: [...qualify(resource, values), ...oidc],
      ...(args.scopes.oidc.has('openid')
        ? { idToken: await issueIdToken(ctx, base, tenant, args.clientId, args.user) }
        : {}),
      ...(params.get('client_info') === '1' ? { clientInfo: clientInfo(args.user.oid, tenant.id) } : {}),
      ...(refreshToken ? { refreshToken } : {}),
    },
  );
}

/** Finds the user (human or agent user) a token or request names. */
export function lookupUser(
  tenant: Tenant,
  oid: string,
): { oid: string; upn: string; name: string; agentParent?: string } | undefined {
  const u = tenant.users.get(oid);
  if (u) return { oid: u.id, upn: u.userPrincipalName, name: u.displayName };
  const a = tenant.agentUsers.get(oid);
  if (a) return { oid: a.id, upn: a.userPrincipalName, name: a.displayName, agentParent: a.identityParentId };
  return undefined;
}

/** Audiences a client accepts an OBO assertion for: its app id and its app id URI. */
function ownAudiences(tenant: Tenant, auth: AuthenticatedClient): string[] {
  const appId = auth.kind === 'agent' ? auth.agent.blueprintAppId : auth.client.appId;
  const r = tenant.blueprints.get(appId) ?? tenant.apps.get(appId);
  return [appId, r?.identifierUri].filter((x): x is string => !!x).map((x) => x.toLowerCase());
}

/** jwt-bearer on_behalf_of: an agent (T1) or a plain app exchanges a user's token. */
export async function onBehalfOf(input: GrantInput): Promise<GrantResult> {
  const { ctx, tenant, params, base } = input;
  if (params.get('requested_token_use') !== 'on_behalf_of')
    throw fail.request(900144, "The request body must contain 'requested_token_use=on_behalf_of'.");
  const assertion = params.get('assertion');
  if (!assertion)
    throw fail.request(900144, "The request body must contain the following parameter: 'assertion'.");
  const auth = await authenticateClient(input);
  if (auth.kind === 'agent') usableAgent(tenant, auth.agent, ctx);
  let tc: JWTPayload;
  try {
    tc = await ctx.keys.verify(assertion, { clockToleranceSec: ctx.clockSkewSec });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_JWT_EXPIRED')
      throw fail.grant(500133, 'Assertion is not within its valid time range: the user token has expired.');
    throw fail.grant(50013, 'Assertion failed signature validation.');
  }
  if (tc.iss !== issuerV2(base, tenant.id) && tc.iss !== issuerV1(tenant.id))
    throw fail.grant(50013, `Assertion issuer '${text(tc.iss)}' is not this tenant's.`);
  const aud = (Array.isArray(tc.aud) ? tc.aud : [tc.aud ?? '']).map((a) => a.toLowerCase());
  const own = ownAudiences(tenant, auth);
  if (!aud.some((a) => own.includes(a))) {
    throw fail.grant(
      50013,
      `Assertion audience '${aud.join(' ')}' does not match the ${auth.kind === 'agent' ? "agent's blueprint" : 'client'} ('${own[0] ?? ''}').`,
    );
  }
  if (tc.idtyp === 'app' || typeof tc.oid !== 'string')
    throw fail.grant(
      50013,
      'On-behalf-of requires a user token as assertion; an app-only token was presented.',
    );
  const user = lookupUser(tenant, tc.oid);
  if (!user)
    throw fail.grant(50034, `The user account '${tc.oid}' does not exist in the '${tenant.id}' directory.`);
  const scopes = parseScopes(ctx.directory, tenant, params.get('scope'));
  if (auth.kind === 'agent' && scopes.resource)
    ctx.conditionalAccess.evaluate({
      grant: 'obo',
      tenant,
      agent: auth.agent,
      resource: scopes.resource,
      user: { oid: user.oid, agentUser: !!user.agentParent },
      amr: Array.isArray(tc.amr) ? tc.amr.map(String) : [],
    });
  const clientId = auth.kind === 'agent' ? auth.agent.id : auth.client.appId;
  // Entra keeps the subject facets of the incoming token across hops.
  const subFacets =
    typeof tc.xms_sub_fct === 'string'
      ? tc.xms_sub_fct.split(/\s+/).map(Number).filter(Number.isFinite)
      : undefined;
  return userToken(input, {
    clientId,
    user,
    scopes,
    ...(auth.kind === 'agent'
      ? { parentAppId: auth.agent.blueprintAppId, actFacets: [FACET_AGENT_IDENTITY] }
      : {}),
    ...(subFacets?.length ? { subFacets } : {}),
    ...(Array.isArray(tc.amr) ? { amr: tc.amr.map(String) } : {}),
  });
}

/** user_fic (leg 3): T1 as client assertion, T2 as the user federated credential, one agent user. */
export async function userFic(input: GrantInput): Promise<GrantResult> {
  const { ctx, tenant, params, base } = input;
  const auth = await authenticateClient(input);
  if (auth.kind !== 'agent')
    throw fail.unauthorized(700016, 'The user_fic grant is only available to agent identities.');
  usableAgent(tenant, auth.agent, ctx);
  const t2raw = params.get('user_federated_identity_credential');
  if (!t2raw)
    throw fail.request(
      900144,
      "The request body must contain the following parameter: 'user_federated_identity_credential'.",
    );
  const t2 = await verifyExchangeToken(ctx, base, tenant, t2raw, 'user federated identity credential');
  if (t2.azp !== auth.agent.id || t2.sub !== auth.agent.id) {
    throw fail.grant(
      700213,
      `The user federated identity credential is not an instance token of agent identity '${auth.agent.id}'.`,
    );
  }
  const username = params.get('username');
  const userId = params.get('user_id');
  if ((username ? 1 : 0) + (userId ? 1 : 0) !== 1)
    throw fail.request(900144, "Exactly one of 'username' or 'user_id' must be sent.");
  let agentUser;
  if (userId) {
    if (!isGuid(userId))
      throw fail.grant(
        50000,
        `user_id '${userId}' must be the agent user's object id (a UPN goes in 'username').`,
      );
    agentUser = tenant.agentUsers.get(userId);
  } else {
    const found = ctx.directory.findUserByUpn(tenant, username!);
    agentUser = found && 'identityParentId' in found ? found : undefined;
    if (found && !agentUser) throw fail.grant(50000, `'${username}' is not an agent user.`);
  }
  if (!agentUser)
    throw fail.grant(
      50034,
      `The agent user '${userId ?? username}' does not exist in the '${tenant.id}' directory.`,
    );
  if (agentUser.identityParentId !== auth.agent.id) {
    throw fail.grant(
      50000,
      `Agent user '${agentUser.id}' is not linked to agent identity '${auth.agent.id}' (its parent is fixed for life).`,
    );
  }
  const ficScopes = parseScopes(ctx.directory, tenant, params.get('scope'));
  if (ficScopes.resource)
    ctx.conditionalAccess.evaluate({
      grant: 'user_fic',
      tenant,
      agent: auth.agent,
      resource: ficScopes.resource,
      user: { oid: agentUser.id, agentUser: true },
    });
  return userToken(input, {
    clientId: auth.agent.id,
    user: { oid: agentUser.id, upn: agentUser.userPrincipalName, name: agentUser.displayName },
    scopes: ficScopes,
    parentAppId: auth.agent.blueprintAppId,
    actFacets: [FACET_AGENT_IDENTITY],
    subFacets: [FACET_AGENT_USER],
  });
}

/** Resource-owner password grant, for seeded human users (tests and the demo sign users in with it). */
export async function password(input: GrantInput): Promise<GrantResult> {
  const { ctx, tenant, params } = input;
  const auth = await authenticateClient({ ...input, allowPublic: true });
  if (auth.kind === 'agent')
    throw fail.unauthorized(7000112, 'Agent identities cannot use the password grant.');
  const username = params.get('username') ?? '';
  const found = ctx.directory.findUserByUpn(tenant, username);
  if (!found || 'identityParentId' in found)
    throw fail.grant(
      50034,
      `The user account '${username}' does not exist in the '${tenant.id}' directory (agent users cannot sign in interactively).`,
    );
  const user = tenant.users.get(found.id)!;
  if (!user.password || user.password !== params.get('password'))
    throw fail.grant(50126, 'Error validating credentials due to invalid username or password.');
  return userToken(input, {
    clientId: auth.client.appId,
    user: { oid: user.id, upn: user.userPrincipalName, name: user.displayName },
    scopes: parseScopes(ctx.directory, tenant, params.get('scope')),
    azpacr: auth.method === 'none' ? '0' : '1',
  });
}

/** Dispatches a token request by grant type. */
export async function handleGrant(input: GrantInput): Promise<GrantResult> {
  switch (input.params.get('grant_type')) {
    case 'client_credentials':
      return clientCredentials(input);
    case 'urn:ietf:params:oauth:grant-type:jwt-bearer':
      return onBehalfOf(input);
    case 'user_fic':
      return userFic(input);
    case 'password':
      return password(input);
    case 'refresh_token':
      return refreshTokenGrant(input);
    case null:
      throw fail.request(900144, "The request body must contain the following parameter: 'grant_type'.");
    default:
      throw new OAuthFailure(
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${input.params.get('grant_type') ?? ''}'.`,
      );
  }
}
