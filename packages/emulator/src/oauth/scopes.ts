import type { Directory, Resource, Tenant } from '../directory/directory.js';
import { GRAPH_RESOURCE, isExchangeAudience } from '../ids.js';
import { fail } from './errors.js';

const OIDC = new Set(['openid', 'profile', 'offline_access', 'email']);

/** A `scope` parameter split into OIDC scopes and one resource's permissions. */
export interface ParsedScopes {
  oidc: Set<string>;
  /** `undefined` for the token-exchange audience. */
  resource: Resource | undefined;
  exchange: boolean;
  /** Permission values on the resource; `.default` alone means all consented ones. */
  values: string[];
  isDefault: boolean;
}

/** Splits `api://tools/Mail.Read openid` into the resource and its permission values. */
export function parseScopes(directory: Directory, tenant: Tenant, raw: string | null): ParsedScopes {
  if (!raw || !raw.trim())
    throw fail.request(900144, "The request body must contain the following parameter: 'scope'.");
  const oidc = new Set<string>();
  let resourceId: string | undefined;
  const values: string[] = [];
  for (const s of raw.split(/\s+/).filter(Boolean)) {
    if (OIDC.has(s.toLowerCase())) {
      oidc.add(s.toLowerCase());
      continue;
    }
    const i = s.lastIndexOf('/');
    // A bare scope like `User.Read` is Microsoft Graph's, as in Entra.
    const rid = i > 0 ? s.slice(0, i) : GRAPH_RESOURCE;
    const value = i > 0 ? s.slice(i + 1) : s;
    if (!value) throw fail.scope(70011, `The provided value for scope '${s}' is not valid.`);
    if (resourceId !== undefined && resourceId.toLowerCase() !== rid.toLowerCase()) {
      throw fail.scope(
        70011,
        `The provided value for the input parameter 'scope' is not valid: scopes for more than one resource ('${resourceId}', '${rid}') were requested.`,
      );
    }
    resourceId = rid;
    values.push(value);
  }
  if (resourceId === undefined)
    return { oidc, resource: undefined, exchange: false, values, isDefault: false };
  const isDefault = values.length === 1 && values[0]?.toLowerCase() === '.default';
  if (values.some((v) => v.toLowerCase() === '.default') && !isDefault) {
    throw fail.scope(
      70011,
      "The provided value for scope is not valid: '.default' cannot be combined with other scopes.",
    );
  }
  if (isExchangeAudience(resourceId)) return { oidc, resource: undefined, exchange: true, values, isDefault };
  const resource = directory.findResource(tenant, resourceId);
  if (!resource) {
    throw fail.resource(
      500011,
      `The resource principal named ${resourceId} was not found in the tenant named ${tenant.id}. This can happen if the application has not been installed by the administrator of the tenant.`,
    );
  }
  return { oidc, resource, exchange: false, values, isDefault };
}

/** Full scope strings as Entra returns them in `scope` (`api://tools/Mail.Read`). */
export function qualify(resource: Resource, values: Iterable<string>): string[] {
  const prefix = resource.identifierUri ?? resource.appId;
  return [...values].map((v) => `${prefix}/${v}`);
}
