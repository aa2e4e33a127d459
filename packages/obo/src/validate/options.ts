import { ConfigurationError } from '@agentid/core';

/**
 * Options of {@link createTokenValidator}.
 *
 * @example
 * ```ts
 * const options: ValidatorOptions = { tenantId, audiences: [blueprintId, `api://${blueprintId}`] };
 * ```
 */
export interface ValidatorOptions {
  /** The home tenant. Issuers are derived per token tenant. */
  tenantId: string;
  /** Accepted audiences, e.g. the blueprint's client id and its app id URI. */
  audiences: readonly string[];
  /** Default `https://login.microsoftonline.com`. The emulator: `emu.baseUrl`. */
  authorityHost?: string;
  /**
   * Tenants whose tokens are accepted: a list, `'*'` for any, or a predicate of the token's `tid`
   * (e.g. `blueprint.allowsTenant`, what `validatorForBlueprint` uses). Default `[tenantId]`.
   * Each token's issuer must be its own tenant's (`issuers(tid)`).
   */
  allowedTenants?: readonly string[] | '*' | ((tenantId: string) => boolean);
  /**
   * Any one of these delegated scopes is required. Default `['access_agent']`. `[]` asks for no
   * particular scope, but never accepts an empty token: a delegated token must still carry a scope,
   * an app-only token one of `requiredRoles` (or, when none are set, at least one app role).
   */
  requiredScopes?: readonly string[];
  /** Any one of these app roles is required of app-only tokens. Default: app-only tokens are refused while scopes are required. */
  requiredRoles?: readonly string[];
  /** Default RS256, RS384, RS512, PS256, PS384, PS512. `none` and HMAC are always refused. */
  allowedAlgorithms?: readonly string[];
  /** Default 300 s. */
  clockSkewSec?: number;
  /** Tokens that live longer than this (exp - iat) are refused. Default 86 400 s (CAE tokens live up to ~28 h: raise it for them). */
  maxTokenLifetimeSec?: number;
  /** Accepted issuers for a tenant. Default: v2 `<authorityHost>/<tid>/v2.0` and v1 `https://sts.windows.net/<tid>/`. */
  issuers?: (tenantId: string) => readonly string[];
  jwks?: {
    /** Default `globalThis.fetch`. */
    fetch?: typeof fetch;
    /** Minimum time between two reloads (an unknown kid reloads at most this often). Default 30 000 ms. */
    cooldownMs?: number;
    /** Keys are reloaded after this age. Default 600 000 ms. */
    cacheMaxAgeMs?: number;
    /** Per-request timeout. Default 5 000 ms. */
    timeoutMs?: number;
    /**
     * A failed fetch is remembered this long: meanwhile, validations that need the keys fail at once
     * (`AGENTID_JWKS`) instead of fetching again. Default 10 000 ms.
     */
    failureCacheMs?: number;
    /**
     * JWKS URL for a tenant. Default: the home tenant's `<authorityHost>/<tenantId>/discovery/v2.0/keys`
     * for every tenant (Entra signs all tenants' tokens with the same keys, so one key set serves a
     * multi-tenant validator and a token naming an unknown tenant costs no fetch). A function that
     * returns per-tenant URLs costs one fetch per new tenant.
     */
    uri?: (tenantId: string) => string;
  };
  clock?: {
    /** The current time in epoch milliseconds. */
    now(): number;
  };
  /**
   * Remember successful validations per token (until it expires) so that a client repeating its
   * bearer token costs one map lookup instead of a signature check. A hit needs the identical
   * token (indexed by its last characters, then compared whole); expiry, `nbf` and the call's
   * scopes or roles are re-checked on every hit. Default `{ maxEntries: 10_000 }`; `false` turns it off.
   */
  resultCache?: { maxEntries?: number } | false;
}

/** The signature algorithms accepted by default (RSA only; never none or HMAC). */
export const DEFAULT_ALGORITHMS = Object.freeze(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']);
const ASYMMETRIC = /^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$/;

export interface ResolvedOptions {
  tenantId: string;
  audiences: readonly string[];
  authorityHost: string;
  /** Whether a token's (lower-cased) tenant is accepted. */
  allowsTenant: (tid: string) => boolean;
  requiredScopes: readonly string[];
  requiredRoles: readonly string[] | undefined;
  algorithms: string[];
  skewSec: number;
  maxLifetimeSec: number;
  issuers: (tid: string) => readonly string[];
  fetch: typeof fetch;
  cooldownMs: number;
  cacheMaxAgeMs: number;
  timeoutMs: number;
  failureCacheMs: number;
  jwksUri: (tid: string) => string;
  /** Whether `jwksUri` was given (it may name per-tenant URLs). */
  jwksUriPerTenant: boolean;
  /** The current time in epoch milliseconds. */
  now: () => number;
  resultCacheEntries: number;
}

const fail = (option: string, must: string): never => {
  throw new ConfigurationError(`createTokenValidator: ${option} ${must}`);
};
const nonEmptyStrings = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === 'string' && s !== '');
const positive = (name: string, v: number | undefined, dflt: number): number => {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(name, 'must be a non-negative number');
  return v;
};

/** Validates options up front and fills defaults. @internal */
export function resolveOptions(settings: ValidatorOptions): ResolvedOptions {
  if (!settings || typeof settings !== 'object') fail('options', 'are required');
  if (typeof settings.tenantId !== 'string' || settings.tenantId === '')
    fail('tenantId', 'must be a tenant id');
  if (!nonEmptyStrings(settings.audiences) || settings.audiences.length === 0)
    fail('audiences', 'must list at least one audience');
  const authorityHost = (settings.authorityHost ?? 'https://login.microsoftonline.com').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(authorityHost)) fail('authorityHost', 'must be an http(s) URL');
  if (
    settings.allowedTenants !== undefined &&
    settings.allowedTenants !== '*' &&
    typeof settings.allowedTenants !== 'function' &&
    !nonEmptyStrings(settings.allowedTenants)
  )
    fail('allowedTenants', "must be a list of tenant ids, '*' or a function of the tenant id");
  if (settings.requiredScopes !== undefined && !nonEmptyStrings(settings.requiredScopes))
    fail('requiredScopes', 'must be a list of scope names');
  if (settings.requiredRoles !== undefined && !nonEmptyStrings(settings.requiredRoles))
    fail('requiredRoles', 'must be a list of role names');
  const algorithms = [...(settings.allowedAlgorithms ?? DEFAULT_ALGORITHMS)];
  if (!nonEmptyStrings(algorithms) || algorithms.length === 0)
    fail('allowedAlgorithms', 'must list at least one algorithm');
  for (const a of algorithms)
    if (!ASYMMETRIC.test(a))
      fail(
        'allowedAlgorithms',
        `may not include '${a}': only asymmetric algorithms are safe for tokens verified with public keys`,
      );
  const fetchImpl = settings.jwks?.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function') fail('jwks.fetch', 'must be a fetch function');
  if (settings.jwks?.uri !== undefined && typeof settings.jwks.uri !== 'function')
    fail('jwks.uri', 'must be a function of the tenant id');
  const clock = settings.clock ?? { now: () => Date.now() };
  if (typeof clock.now !== 'function') fail('clock', 'must have now()');
  const allowed = settings.allowedTenants ?? [settings.tenantId];
  const listed = typeof allowed === 'object' ? new Set(allowed.map((t) => t.toLowerCase())) : undefined;
  return {
    tenantId: settings.tenantId,
    audiences: [...settings.audiences],
    authorityHost,
    allowsTenant:
      allowed === '*'
        ? () => true
        : typeof allowed === 'function'
          ? (tid) => allowed(tid) === true
          : (tid) => listed!.has(tid),
    requiredScopes: [...(settings.requiredScopes ?? ['access_agent'])],
    requiredRoles: settings.requiredRoles ? [...settings.requiredRoles] : undefined,
    algorithms,
    skewSec: positive('clockSkewSec', settings.clockSkewSec, 300),
    maxLifetimeSec: positive('maxTokenLifetimeSec', settings.maxTokenLifetimeSec, 86_400),
    issuers:
      settings.issuers ?? ((tid) => [`${authorityHost}/${tid}/v2.0`, `https://sts.windows.net/${tid}/`]),
    fetch: fetchImpl,
    cooldownMs: positive('jwks.cooldownMs', settings.jwks?.cooldownMs, 30_000),
    cacheMaxAgeMs: positive('jwks.cacheMaxAgeMs', settings.jwks?.cacheMaxAgeMs, 600_000),
    timeoutMs: positive('jwks.timeoutMs', settings.jwks?.timeoutMs, 5_000),
    failureCacheMs: positive('jwks.failureCacheMs', settings.jwks?.failureCacheMs, 10_000),
    jwksUri: settings.jwks?.uri ?? (() => `${authorityHost}/${settings.tenantId}/discovery/v2.0/keys`),
    jwksUriPerTenant: settings.jwks?.uri !== undefined,
    now: () => clock.now(),
    resultCacheEntries:
      settings.resultCache === false
        ? 0
        : positive('resultCache.maxEntries', settings.resultCache?.maxEntries, 10_000),
  };
}
