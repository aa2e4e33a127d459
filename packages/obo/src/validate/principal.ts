import { parseFacets } from '@agentid/core/broker';

/**
 * Who an inbound token speaks for, after validation. Holds claims, never the token itself.
 *
 * @example
 * ```ts
 * const p: Principal = await validator.validate(bearer);
 * console.log(p.oid, p.tid, p.idtyp, p.scopes);
 * ```
 */
export interface Principal {
  /** Object id of the subject: the user, agent user, or (app tokens) the calling client. */
  readonly oid: string;
  readonly tid: string;
  readonly sub: string;
  readonly upn?: string;
  readonly name?: string;
  /** `user` for delegated tokens, `app` for app-only tokens. */
  readonly idtyp: 'user' | 'app';
  /** The client that acts: `azp` (v2) or `appid` (v1). For an agent OBO token, the agent identity. */
  readonly azp?: string;
  /** The parent blueprint of an acting agent (`xms_par_app_azp`); for logging, not authorization. */
  readonly parentAppId?: string;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  /** `xms_act_fct` as a set of numbers (11 = agent identity); unknown values kept, ignore them. */
  readonly actorFacets: readonly number[];
  /** `xms_sub_fct` (13 = agent user). */
  readonly subjectFacets: readonly number[];
  readonly audience: string;
  readonly issuer: string;
  readonly expiresOn: Date;
  /** Every claim of the token (no signature, no token). */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Facet values of `xms_act_fct` / `xms_sub_fct`. */
export const FACETS = Object.freeze({ AGENT_IDENTITY: 11, AGENT_USER: 13 });

/**
 * Whether the principal's token was obtained by an agent identity acting (agent OBO or agent user).
 *
 * @example
 * ```ts
 * if (isAgentActed(principal)) console.log(`agent ${principal.azp} acts for ${principal.oid}`);
 * ```
 */
export function isAgentActed(principal: Principal): boolean {
  return principal.actorFacets.includes(FACETS.AGENT_IDENTITY);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Builds a frozen principal from verified claims. @internal */
export function toPrincipal(claims: Record<string, unknown>, oid: string, tid: string): Principal {
  const scopes = typeof claims.scp === 'string' ? claims.scp.split(' ').filter(Boolean) : [];
  const roles = Array.isArray(claims.roles)
    ? claims.roles.filter((r): r is string => typeof r === 'string')
    : [];
  const idtyp =
    claims.idtyp === 'app' || claims.idtyp === 'user' ? claims.idtyp : scopes.length > 0 ? 'user' : 'app';
  const azp = str(claims.azp) ?? str(claims.appid);
  const upn = str(claims.upn) ?? str(claims.preferred_username);
  const name = str(claims.name);
  const parentAppId = str(claims.xms_par_app_azp);
  const aud = Array.isArray(claims.aud) ? String(claims.aud[0]) : String(claims.aud);
  return Object.freeze({
    oid,
    tid,
    sub: str(claims.sub) ?? oid,
    ...(upn ? { upn } : {}),
    ...(name ? { name } : {}),
    idtyp,
    ...(azp ? { azp } : {}),
    ...(parentAppId ? { parentAppId } : {}),
    scopes: Object.freeze(scopes),
    roles: Object.freeze(roles),
    actorFacets: Object.freeze(parseFacets(claims.xms_act_fct)),
    subjectFacets: Object.freeze(parseFacets(claims.xms_sub_fct)),
    audience: aud,
    issuer: String(claims.iss),
    expiresOn: new Date(Number(claims.exp) * 1000),
    claims: Object.freeze({ ...claims }),
  });
}
