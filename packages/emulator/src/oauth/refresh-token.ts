import { randomBytes } from 'node:crypto';
import type { EmulatorContext, RefreshGrant } from '../context.js';
import type { Tenant } from '../directory/directory.js';
import { FACET_AGENT_IDENTITY, FACET_AGENT_USER } from '../ids.js';
import { authenticateClient } from './client-auth.js';
import { fail } from './errors.js';
import { parseScopes, qualify } from './scopes.js';
import { lookupUser, usableAgent, userToken, type GrantInput, type GrantResult } from './grants.js';

/** Default inactivity window of a refresh token, seconds: each rotation starts a new one. */
export const DEFAULT_REFRESH_TOKEN_LIFETIME_SEC = 24 * 3600;
/** Default maximum age of a refresh token's session (from the first grant, kept across rotations): 90 days, as Entra's. */
export const DEFAULT_REFRESH_TOKEN_MAX_AGE_SEC = 90 * 24 * 3600;

/**
 * Issues an opaque refresh token bound to the client (for an agent: the agent identity), the
 * user and the tenant. `sessionStart` is the first grant of its session (kept by rotations):
 * the session's maximum age counts from it.
 */
export function issueRefreshToken(
  ctx: EmulatorContext,
  grant: Omit<RefreshGrant, 'expiresAt' | 'issuedAt' | 'sessionStart' | 'revoked'> & {
    sessionStart?: number;
  },
): string {
  const now = ctx.clock.now();
  const token = randomBytes(32).toString('base64url');
  ctx.refreshTokens.set(token, {
    ...grant,
    issuedAt: now,
    sessionStart: grant.sessionStart ?? now,
    expiresAt: now + ctx.refreshTokenLifetimeSec * 1000,
  });
  // A long-running emulator (soak tests, a shared dev instance) must not grow without bound:
  // keep the newest refresh tokens only (Maps iterate in insertion order).
  if (ctx.refreshTokens.size > ctx.maxRefreshTokens) {
    for (const old of ctx.refreshTokens.keys()) {
      ctx.refreshTokens.delete(old);
      if (ctx.refreshTokens.size <= ctx.maxRefreshTokens) break;
    }
  }
  return token;
}

/**
 * Revokes every refresh token of a user (Graph's `revokeSignInSessions`): those issued until
 * now are refused with AADSTS50173 from here on (kept, marked, so that the answer says why).
 * Returns how many were live.
 */
export function revokeSignInSessions(ctx: EmulatorContext, tenant: Tenant, userId: string): number {
  let n = 0;
  for (const g of ctx.refreshTokens.values()) {
    if (!g.revoked && g.tenantId === tenant.id && g.userId.toLowerCase() === userId.toLowerCase()) {
      g.revoked = true;
      n++;
    }
  }
  return n;
}

/** Why a refresh token cannot be redeemed by `clientId`, or undefined. */
function refusal(ctx: EmulatorContext, tenant: Tenant, clientId: string, grant: RefreshGrant | undefined) {
  if (!grant || grant.clientId !== clientId || grant.tenantId !== tenant.id)
    return fail.grant(70000, 'The provided refresh token is invalid or was issued to another client.');
  if (grant.revoked)
    return fail.grant(
      50173,
      'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.',
    );
  const now = ctx.clock.now();
  if (grant.expiresAt <= now) return fail.grant(700082, 'The refresh token has expired due to inactivity.');
  if (grant.sessionStart + ctx.refreshTokenMaxAgeSec * 1000 <= now)
    return fail.grant(
      700082,
      'The refresh token has expired: its session is older than the maximum session age.',
    );
  return undefined;
}

/**
 * refresh_token: long-running work for a user, with the client's own credential (T1 for an agent
 * identity). Answers new tokens for the same user (`azp`: the client) and a new refresh token of
 * the same session (rotation: the one redeemed is spent).
 */
export async function refreshTokenGrant(input: GrantInput): Promise<GrantResult> {
  const { ctx, tenant, params } = input;
  const auth = await authenticateClient({ ...input, allowPublic: true });
  const refreshToken = params.get('refresh_token');
  if (!refreshToken)
    throw fail.request(900144, "The request body must contain the following parameter: 'refresh_token'.");
  const grant = ctx.refreshTokens.get(refreshToken);
  const clientId = auth.kind === 'agent' ? auth.agent.id : auth.client.appId;
  const refused = refusal(ctx, tenant, clientId, grant);
  if (refused) throw refused;
  const g = grant as RefreshGrant;
  if (auth.kind === 'agent') usableAgent(tenant, auth.agent, ctx);
  const user = lookupUser(tenant, g.userId);
  if (!user) throw fail.grant(50034, 'The user of this refresh token no longer exists.');
  const scopes = params.get('scope')
    ? parseScopes(ctx.directory, tenant, params.get('scope'))
    : parseScopes(
        ctx.directory,
        tenant,
        qualify(ctx.directory.findResource(tenant, g.resourceAppId)!, g.scopes).join(' '),
      );
  ctx.refreshTokens.delete(refreshToken);
  return userToken(input, {
    clientId,
    user,
    scopes: { ...scopes, oidc: new Set([...scopes.oidc, 'offline_access']) },
    sessionStart: g.sessionStart,
    ...(auth.kind === 'agent'
      ? { parentAppId: auth.agent.blueprintAppId, actFacets: [FACET_AGENT_IDENTITY] }
      : {}),
    ...(user.agentParent ? { subFacets: [FACET_AGENT_USER] } : {}),
  });
}
