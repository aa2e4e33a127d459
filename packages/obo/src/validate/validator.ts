import { type Blueprint, TokenValidationError } from '@agentid/core';
import { servicesOf, type TokenValidationErrorCode } from '@agentid/core/broker';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { MAX_TOKEN_LENGTH } from './header.js';
import { createJwksResolver } from './jwks.js';
import { resolveOptions, type ValidatorOptions } from './options.js';
import { type Principal, toPrincipal } from './principal.js';
import { createResultCache, type ValidatedEntry } from './result-cache.js';

/**
 * Per-call options of {@link TokenValidator.validate}.
 *
 * @example
 * ```ts
 * await validator.validate(token, { requiredScopes: ['Mail.Read'] });
 * ```
 */
export interface ValidateOptions {
  /** Overrides the validator's required scopes for this call (any-of; `[]` disables). */
  requiredScopes?: readonly string[];
  /** Overrides the validator's required roles for this call (any-of). */
  requiredRoles?: readonly string[];
}

/**
 * Validates inbound Entra access tokens (user tokens for the blueprint, or an upstream agent's
 * OBO token) and returns who they speak for.
 *
 * @example
 * ```ts
 * const principal = await validator.validate(parseAuthorizationHeader(req.headers.authorization));
 * ```
 */
export interface TokenValidator {
  /** Verifies `token` (signature, issuer, audience, tenant, lifetime, scopes or roles) and returns its principal. */
  validate(token: string, options?: ValidateOptions): Promise<Principal>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const invalid = (code: TokenValidationErrorCode, message: string, cause?: unknown): TokenValidationError =>
  new TokenValidationError(code, message, cause === undefined ? {} : { cause });

/** Maps jose's failures to our codes; messages name the claim, never the token. */
function fromJose(e: unknown): TokenValidationError {
  if (e instanceof TokenValidationError) return e;
  const err = e as { code?: string; claim?: string; reason?: string };
  switch (err.code) {
    case 'ERR_JWT_EXPIRED':
      return invalid('AGENTID_TOKEN_EXPIRED', 'The token has expired', e);
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (err.claim === 'nbf' || err.claim === 'iat')
        return invalid(
          err.reason === 'missing' ? 'AGENTID_TOKEN_CLAIMS' : 'AGENTID_TOKEN_NOT_YET_VALID',
          `The token's ${err.claim} claim ${err.reason === 'missing' ? 'is missing' : 'is in the future'}`,
          e,
        );
      if (err.claim === 'iss')
        return invalid('AGENTID_TOKEN_ISSUER', 'The token issuer is not the expected one for its tenant', e);
      if (err.claim === 'aud')
        return invalid('AGENTID_TOKEN_AUDIENCE', 'The token audience is not this service', e);
      return invalid(
        'AGENTID_TOKEN_CLAIMS',
        `The token's ${err.claim ?? 'claims'} claim is invalid (${err.reason ?? 'check failed'})`,
        e,
      );
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return invalid('AGENTID_TOKEN_ALGORITHM', 'The token algorithm is not allowed', e);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return invalid('AGENTID_TOKEN_SIGNATURE', 'The token signature does not verify', e);
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return invalid('AGENTID_TOKEN_SIGNATURE', 'No signing key of the issuer matches the token kid', e);
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return invalid('AGENTID_TOKEN_MALFORMED', 'The token is not a well-formed JWT', e);
    default:
      return invalid('AGENTID_TOKEN_MALFORMED', 'The token could not be verified', e);
  }
}

// `have` is lower-cased once per validated token; `want` is lower-cased up front for the defaults.
const anyOf = (
  have: ReadonlySet<string>,
  want: readonly string[],
  wantLower?: readonly string[],
): boolean => {
  if (wantLower) {
    for (const w of wantLower) if (have.has(w)) return true;
    return false;
  }
  return want.some((w) => have.has(w.toLowerCase()));
};
const NO_OPTIONS: ValidateOptions = Object.freeze({});
const lowerSet = (xs: readonly string[]): ReadonlySet<string> => new Set(xs.map((x) => x.toLowerCase()));

/**
 * Creates a validator: RS/PS-family signatures against the issuer's remote JWKS (cached,
 * single-flight reload, cooldown), issuer per tenant (v1 and v2), audience, tenant allow-list,
 * exp/nbf/iat with skew, a maximum lifetime and a required scope. Every refusal is a
 * `TokenValidationError` with its code.
 *
 * @example
 * ```ts
 * const validator = createTokenValidator({ tenantId, audiences: [blueprintId, `api://${blueprintId}`] });
 * const principal = await validator.validate(token);
 * ```
 */
export function createTokenValidator(options: ValidatorOptions): TokenValidator {
  const settings = resolveOptions(options);
  const jwks = createJwksResolver(settings);
  const allowedAlgs = new Set(settings.algorithms);
  const results =
    settings.resultCacheEntries > 0 ? createResultCache(settings.resultCacheEntries) : undefined;
  const skewMs = settings.skewSec * 1000;
  const defaultScopesLower = settings.requiredScopes.map((x) => x.toLowerCase());
  const defaultRolesLower = settings.requiredRoles?.map((x) => x.toLowerCase());

  // A cached validation is served only while its key is published: the kid is looked up again
  // whenever the key set changed since (cheap: one comparison otherwise).
  function keyStillListed(e: ValidatedEntry, now: number): boolean {
    const keys = e.keys;
    if (keys === undefined) return true;
    keys.refreshIfStale(now);
    if (e.keysGeneration === keys.generation) return true;
    if (!keys.has(e.kid!)) return false;
    e.keysGeneration = keys.generation;
    return true;
  }

  // Scope and role checks depend on the call, so they run on cached results too.
  function authorize(e: ValidatedEntry, call: ValidateOptions): Principal {
    const principal = e.principal;
    const scopesWanted = call.requiredScopes ?? settings.requiredScopes;
    const scopesLower = call.requiredScopes ? undefined : defaultScopesLower;
    const rolesWanted = call.requiredRoles ?? settings.requiredRoles;
    const rolesLower = call.requiredRoles ? undefined : defaultRolesLower;
    if (principal.idtyp === 'app' || principal.scopes.length === 0) {
      if (rolesWanted && rolesWanted.length > 0) {
        if (!anyOf(e.roles, rolesWanted, rolesLower))
          throw invalid(
            'AGENTID_INSUFFICIENT_SCOPE',
            `The app token has none of the required roles: ${rolesWanted.join(', ')}`,
          );
      } else if (scopesWanted.length > 0) {
        throw invalid(
          'AGENTID_INSUFFICIENT_SCOPE',
          `An app-only token cannot carry the required scope ${scopesWanted.join(' or ')}`,
        );
      } else if (e.roles.size === 0) {
        // No particular scope or role asked for is not "anything goes": the token must still grant something of this API.
        throw invalid(
          'AGENTID_INSUFFICIENT_SCOPE',
          'The token carries neither a delegated scope nor an app role of this API',
        );
      }
    } else if (scopesWanted.length > 0 && !anyOf(e.scopes, scopesWanted, scopesLower)) {
      throw invalid(
        'AGENTID_INSUFFICIENT_SCOPE',
        `The token has none of the required scopes: ${scopesWanted.join(', ')}`,
      );
    }
    return principal;
  }

  async function validate(token: string, call: ValidateOptions = NO_OPTIONS): Promise<Principal> {
    if (typeof token !== 'string' || token === '')
      throw invalid('AGENTID_UNAUTHENTICATED', 'No token was presented');
    if (token.length > MAX_TOKEN_LENGTH)
      throw invalid('AGENTID_TOKEN_MALFORMED', `The token is longer than ${MAX_TOKEN_LENGTH} characters`);
    const cached = results?.get(token);
    if (cached) {
      // The signature, issuer, audience and tenant were checked for this exact token; its time
      // window, its signing key (still published?) and the call's scopes are checked again on every hit.
      const now = settings.now();
      const live = cached.expMs + skewMs > now;
      if (live && cached.nbfMs - skewMs <= now && keyStillListed(cached, now)) return authorize(cached, call);
      // Expired, or its key was withdrawn: verified afresh below (a token not yet valid stays).
      if (!live || cached.nbfMs - skewMs <= now) results!.delete(token);
    }
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token))
      throw invalid('AGENTID_TOKEN_MALFORMED', 'The token is not a compact JWS (three base64url segments)');
    let header: ReturnType<typeof decodeProtectedHeader>;
    let unverified: Record<string, unknown>;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token) as Record<string, unknown>;
    } catch (e) {
      throw invalid('AGENTID_TOKEN_MALFORMED', 'The token header or payload is not base64url JSON', e);
    }
    const alg = typeof header.alg === 'string' ? header.alg : '';
    if (!allowedAlgs.has(alg))
      throw invalid('AGENTID_TOKEN_ALGORITHM', `The token algorithm '${alg.slice(0, 16)}' is not allowed`);
    if (typeof header.kid !== 'string' || header.kid === '')
      throw invalid('AGENTID_TOKEN_SIGNATURE', 'The token header has no kid');
    const tid = unverified.tid;
    if (typeof tid !== 'string' || !GUID.test(tid))
      throw invalid('AGENTID_TOKEN_CLAIMS', 'The token has no tenant (tid) claim');
    if (!settings.allowsTenant(tid.toLowerCase()))
      throw invalid('AGENTID_TOKEN_TENANT', `Tenant ${tid} is not allowed`);
    let claims: Record<string, unknown>;
    const keys = jwks(tid);
    const keysGeneration = keys.generation;
    try {
      const r = await jwtVerify(token, keys.getKey, {
        algorithms: settings.algorithms,
        issuer: [...settings.issuers(tid)],
        audience: [...settings.audiences],
        clockTolerance: settings.skewSec,
        currentDate: new Date(settings.now()),
        requiredClaims: ['exp', 'iat'],
      });
      claims = r.payload as Record<string, unknown>;
    } catch (e) {
      throw fromJose(e);
    }
    const exp = Number(claims.exp);
    const iat = Number(claims.iat);
    // jose checks iat only against a maximum age: a token issued in the future would also escape maxTokenLifetimeSec.
    if (!Number.isFinite(iat) || iat * 1000 - skewMs > settings.now())
      throw invalid('AGENTID_TOKEN_NOT_YET_VALID', "The token's iat claim is in the future");
    const start = Number(claims.nbf ?? claims.iat);
    if (Number.isFinite(start) && exp - Math.min(start, Number(claims.iat)) > settings.maxLifetimeSec) {
      throw invalid(
        'AGENTID_TOKEN_TOO_LONG_LIVED',
        `The token lives longer than the accepted ${settings.maxLifetimeSec} s`,
      );
    }
    const oid = claims.oid;
    if (typeof oid !== 'string' || oid === '')
      throw invalid('AGENTID_TOKEN_CLAIMS', 'The token has no object id (oid) claim');
    const principal = toPrincipal(claims, oid, tid);
    const entry: ValidatedEntry = {
      token,
      principal,
      expMs: exp * 1000,
      nbfMs: Math.max(typeof claims.nbf === 'number' ? claims.nbf * 1000 : -Infinity, iat * 1000),
      scopes: lowerSet(principal.scopes),
      roles: lowerSet(principal.roles),
      keys,
      kid: header.kid,
      // The generation before the verification: a load during it makes the first hit look the kid up.
      keysGeneration,
    };
    results?.set(entry);
    return authorize(entry, call);
  }

  return Object.freeze({ validate });
}

/**
 * A validator for tokens addressed to a blueprint (its client id or `api://<client id>`), with the
 * blueprint's tenant, authority host and fetch, accepting users of the tenants the blueprint
 * serves (its home tenant and `allowedTenants`: `blueprint.allowsTenant`), each token with its own
 * tenant's issuer.
 *
 * @example
 * ```ts
 * const validator = validatorForBlueprint(blueprint);
 * const principal = await validator.validate(token); // requires the access_agent scope
 * ```
 */
export function validatorForBlueprint(
  blueprint: Blueprint,
  options: Partial<ValidatorOptions> = {},
): TokenValidator {
  const services = servicesOf(blueprint);
  return createTokenValidator({
    tenantId: blueprint.tenantId,
    audiences: [blueprint.clientId, `api://${blueprint.clientId}`],
    authorityHost: blueprint.authorityHost,
    allowedTenants: (tid) => blueprint.allowsTenant(tid),
    ...options,
    jwks: { fetch: services.fetch, ...(options.jwks ?? {}) },
  });
}
