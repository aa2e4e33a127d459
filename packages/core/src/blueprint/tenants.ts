import { AuthorizationError, ConfigurationError } from '../errors/agent-id-error.js';

/**
 * The customer tenants a multi-tenant blueprint serves besides its home tenant: a list of tenant
 * ids, `'*'` for any tenant, or a predicate (e.g. a lookup of the tenants that have onboarded).
 *
 * @example
 * ```ts
 * const allowedTenants: AllowedTenants = ['5f1c…', '9b2e…'];
 * ```
 */
export type AllowedTenants = readonly string[] | '*' | ((tenantId: string) => boolean);

/** A tenant id (GUID) or a verified domain, as Entra's authority path takes it. */
export const TENANT_PATTERN = /^[0-9a-z][0-9a-z.-]{2,254}$/i;

/** The blueprint's allow-list: the home tenant is always allowed. */
export interface TenantPolicy {
  /** Whether `tenantId` (case-insensitive) may be served. */
  allows(tenantId: string): boolean;
  /**
   * The tenant when allowed (the home tenant as configured, any other lower-cased); else an
   * `AGENTID_TENANT_NOT_ALLOWED` error naming `what`.
   */
  check(tenantId: unknown, what: string): string;
}

/** Validates the `allowedTenants` option up front. */
export function createTenantPolicy(homeTenantId: string, option: unknown): TenantPolicy {
  const home = homeTenantId.toLowerCase();
  let listed: ((tenantId: string) => boolean) | undefined;
  if (option === undefined) listed = () => false;
  else if (option === '*') listed = () => true;
  else if (typeof option === 'function') {
    const predicate = option as (tenantId: string) => unknown;
    listed = (t) => predicate(t) === true;
  } else if (Array.isArray(option) && option.every((t) => typeof t === 'string' && TENANT_PATTERN.test(t))) {
    const set = new Set((option as string[]).map((t) => t.toLowerCase()));
    listed = (t) => set.has(t);
  } else {
    throw new ConfigurationError(
      "createBlueprint: allowedTenants must be a list of tenant ids, '*', or a function of the tenant id",
    );
  }
  const allows = (tenantId: string): boolean => {
    const t = tenantId.toLowerCase();
    return t === home || listed(t);
  };
  return {
    allows,
    check(tenantId, what) {
      if (typeof tenantId !== 'string' || !TENANT_PATTERN.test(tenantId))
        throw new ConfigurationError(
          `${what}: tenantId must be a tenant id or domain, got ${JSON.stringify(tenantId)}`,
        );
      if (!allows(tenantId))
        throw new AuthorizationError(
          'AGENTID_TENANT_NOT_ALLOWED',
          `${what}: tenant '${tenantId}' is not among the blueprint's tenants: add it to createBlueprint's allowedTenants (home tenant '${homeTenantId}')`,
        );
      const t = tenantId.toLowerCase();
      return t === home ? homeTenantId : t;
    },
  };
}
