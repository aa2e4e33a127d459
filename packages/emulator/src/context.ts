import type { Directory } from './directory/directory.js';
import type { KeySet } from './crypto/keys.js';
import type { GraphSettings, Replication } from './graph/replication.js';
import type { ConditionalAccess } from './policy/conditional-access.js';

/**
 * A source of time in epoch milliseconds: structurally the same as `Clock` of `@agentid/core`
 * (the emulator does not depend on core), so one clock object serves both.
 *
 * @example
 * ```ts
 * let t = Date.UTC(2026, 0, 1);
 * const emu = await createEmulator({ clock: { now: () => t } });
 * ```
 */
export interface Clock {
  /** The current time in epoch milliseconds. */
  now(): number;
}

/** Everything the emulator's handlers share. */
export interface EmulatorContext {
  directory: Directory;
  /** Signs the tokens the emulator issues as Entra. */
  keys: KeySet;
  /** External OIDC issuers (workload identity, GitHub, ...) by name. */
  issuers: Map<string, { issuer: string | undefined; keys: KeySet }>;
  clock: Clock;
  tokenLifetimeSec: number;
  /** `refresh_in` sent with tokens: 'half' of the lifetime, a number of seconds, or 'none'. */
  refreshIn: 'half' | 'none' | number;
  /** Reject a repeated certificate-assertion `jti` (off by default: MSAL Node reuses assertions). */
  strictJti: boolean;
  seenJti: Map<string, number>;
  clockSkewSec: number;
  refreshTokens: Map<string, RefreshGrant>;
  /** The oldest refresh tokens are forgotten beyond this many. */
  maxRefreshTokens: number;
  /** Inactivity window of a refresh token, seconds (each rotation starts a new one). */
  refreshTokenLifetimeSec: number;
  /** Maximum age of a refresh token's session, seconds from its first grant. */
  refreshTokenMaxAgeSec: number;
  /** Secret for the managed-identity endpoint's `X-IDENTITY-HEADER`. */
  identityHeader: string;
  /** Graph settings (replication lag, tenant quota), changeable at run time. */
  graph: GraphSettings;
  /** Objects Graph has not "replicated" yet (see {@link GraphSettings.replicationLag}). */
  replication: Replication;
  /** Conditional Access policies, evaluated on leg 2, OBO and user_fic. */
  conditionalAccess: ConditionalAccess;
}

export interface RefreshGrant {
  tenantId: string;
  clientId: string;
  userId: string;
  resourceAppId: string;
  scopes: string[];
  /** When this refresh token was issued. */
  issuedAt: number;
  /** The first grant of its session: rotations keep it. */
  sessionStart: number;
  expiresAt: number;
  /** Set when the user's sessions were revoked: refused with AADSTS50173. */
  revoked?: boolean;
}

/** `iss` of tokens issued for a tenant: v2 uses the emulator's own base URL. */
export const issuerV2 = (base: string, tenantId: string): string => `${base}/${tenantId}/v2.0`;
export const issuerV1 = (tenantId: string): string => `https://sts.windows.net/${tenantId}/`;
export const tokenEndpoint = (base: string, tenant: string): string => `${base}/${tenant}/oauth2/v2.0/token`;
