import { createHash } from 'node:crypto';
import { containsSecret } from '../util/redact.js';

/**
 * Everything that changes which token a request gets.
 *
 * @example
 * ```ts
 * const parts: TokenCacheKeyParts = { tenantId, clientId: agentId, flow: 'obo', subject: userOid,
 *   assertionHash: hashAssertion(userToken), scopes: ['User.Read'] };
 * ```
 */
export interface TokenCacheKeyParts {
  tenantId: string;
  /** The client that requests the token (the agent identity, or the blueprint for leg 1). */
  clientId: string;
  /** The grant, such as `autonomous`, `exchange`, `obo`, `agent-user`. */
  flow: string;
  /** The user (object id or UPN) for user flows. Never a token. */
  subject?: string;
  /** {@link hashAssertion} of the user's assertion for OBO. Never the assertion itself. */
  assertionHash?: string;
  scopes: readonly string[];
  /** A claims request (JSON string or object), e.g. from a CAE challenge. */
  claims?: string | Record<string, unknown>;
  /** Anything else that changes the token (fmi path, authority, ...). */
  extra?: Readonly<Record<string, string | number | boolean | undefined>>;
}

/**
 * SHA-256 of a user assertion, base64url (43 characters). Cache keys carry this, never the
 * assertion: a key may end up in logs, metrics or a shared Redis.
 *
 * @example
 * ```ts
 * hashAssertion(userJwt); // 'x3Jk…' (43 chars)
 * ```
 */
export function hashAssertion(jwt: string): string {
  if (typeof jwt !== 'string' || jwt === '') throw new TypeError('assertion must be a non-empty string');
  return createHash('sha256').update(jwt, 'utf8').digest('base64url');
}

/**
 * Sorts object keys recursively so that equal JSON documents serialize identically.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: { d: 2, c: 3 } }); // '{"a":{"c":3,"d":2},"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

function canonicalClaims(claims: string | Record<string, unknown>): string {
  if (typeof claims !== 'string') return canonicalJson(claims);
  try {
    return canonicalJson(JSON.parse(claims));
  } catch {
    // Not JSON: still a distinct request, keyed by its exact text.
    return claims;
  }
}

/**
 * Normalises scopes for keying: trimmed, lower-cased (Entra compares them case-insensitively),
 * de-duplicated and sorted.
 *
 * @example
 * ```ts
 * normalizeScopes(['User.Read', 'openid', 'user.read']); // ['openid', 'user.read']
 * ```
 */
export function normalizeScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes.map((s) => s.trim().toLowerCase()).filter((s) => s !== ''))].sort();
}

function checkPart(name: string, value: unknown, optional: boolean): void {
  if (value === undefined && optional) return;
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
  if (containsSecret(value))
    throw new TypeError(`${name} looks like a token; cache keys must never contain one`);
}

/**
 * Builds a stable cache key. Scopes are normalised ({@link normalizeScopes}), claims
 * canonicalised and hashed, `extra` sorted, and the parts are JSON-encoded so no separator can
 * be forged. Throws `TypeError` when a part is missing or looks like a raw token.
 *
 * @example
 * ```ts
 * tokenCacheKey({ tenantId, clientId: agentId, flow: 'autonomous', scopes: ['https://graph.microsoft.com/.default'] });
 * // 'agentid:v1:["<tenant>","<agent>","autonomous","","",["https://graph.microsoft.com/.default"],"",{}]'
 * ```
 */
export function tokenCacheKey(parts: TokenCacheKeyParts): string {
  checkPart('tenantId', parts.tenantId, false);
  checkPart('clientId', parts.clientId, false);
  checkPart('flow', parts.flow, false);
  checkPart('subject', parts.subject, true);
  if (parts.assertionHash !== undefined && !/^[A-Za-z0-9_-]{43}$|^[0-9a-f]{64}$/.test(parts.assertionHash)) {
    throw new TypeError('assertionHash must be hashAssertion(assertion), never the assertion itself');
  }
  if (!Array.isArray(parts.scopes) || parts.scopes.some((s) => typeof s !== 'string')) {
    throw new TypeError('scopes must be an array of strings');
  }
  const claims =
    parts.claims === undefined || parts.claims === ''
      ? ''
      : createHash('sha256').update(canonicalClaims(parts.claims)).digest('base64url');
  const extra: Record<string, string> = {};
  for (const key of Object.keys(parts.extra ?? {}).sort()) {
    const v = parts.extra?.[key];
    if (v !== undefined) extra[key] = String(v);
  }
  for (const v of Object.values(extra)) {
    if (containsSecret(v))
      throw new TypeError('extra values look like a token; cache keys must never contain one');
  }
  return `agentid:v1:${JSON.stringify([
    parts.tenantId.toLowerCase(),
    parts.clientId.toLowerCase(),
    parts.flow,
    parts.subject?.toLowerCase() ?? '',
    parts.assertionHash ?? '',
    normalizeScopes(parts.scopes),
    claims,
    extra,
  ])}`;
}

/**
 * Conventional tags for `tokenCacheKey`'d entries, for invalidation with
 * `store.invalidate({ tag })`.
 *
 * @example
 * ```ts
 * store.invalidate({ tag: cacheTags.agent(agentId) }); // every token of that agent
 * ```
 */
export const cacheTags = Object.freeze({
  /** Tag of every token of a tenant. */
  tenant: (tenantId: string) => `tenant:${tenantId.toLowerCase()}`,
  /** Tag of every token of a client application. */
  client: (clientId: string) => `client:${clientId.toLowerCase()}`,
  /** Tag of every token of an agent identity. */
  agent: (agentId: string) => `agent:${agentId.toLowerCase()}`,
  /** Tag of every token of a blueprint. */
  blueprint: (blueprintId: string) => `blueprint:${blueprintId.toLowerCase()}`,
  /** Tag of every token acting for a user. */
  user: (userId: string) => `user:${userId.toLowerCase()}`,
});
