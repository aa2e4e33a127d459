import type { JwtClaims } from './jwt.js';

/**
 * Facet values with a known meaning in `xms_act_fct` / `xms_sub_fct`. Tokens carry others
 * (a real one had "3 9 11"); they are kept in the parsed set and simply not named here.
 *
 * @example
 * ```ts
 * summary.actorFacets.includes(FACETS.AGENT_IDENTITY); // acting as an agent identity
 * ```
 */
export const FACETS = Object.freeze({ AGENT_IDENTITY: 11, AGENT_USER: 13 });

/**
 * What a token says about who it is for and who acts, flattened and normalised.
 *
 * @example
 * ```ts
 * const s: ClaimsSummary = summarizeClaims(decodeJwtClaims(token));
 * if (s.idtyp === 'user' && s.subjectFacets.includes(FACETS.AGENT_USER)) { ... }
 * ```
 */
export interface ClaimsSummary {
  readonly idtyp?: string;
  /** The subject: agent identity, user, or agent user. */
  readonly oid?: string;
  /** The acting client (`azp`, or v1 `appid`): the agent identity. */
  readonly azp?: string;
  readonly tid?: string;
  readonly aud?: string | readonly string[];
  /** Delegated permissions (`scp` split on spaces). */
  readonly scp: readonly string[];
  /** Application permissions. */
  readonly roles: readonly string[];
  /** `xms_act_fct` as a sorted set of integers. */
  readonly actorFacets: readonly number[];
  /** `xms_sub_fct` as a sorted set of integers. */
  readonly subjectFacets: readonly number[];
  /** `xms_par_app_azp`: the parent blueprint's app id (for logging, not authorization). */
  readonly parentAppId?: string;
  readonly iat?: number;
  readonly exp?: number;
}

/**
 * Parses a facet claim, which Entra sends as a space-separated string, a single number or an
 * array, into a sorted, de-duplicated list of non-negative integers. Anything else is ignored.
 *
 * @example
 * ```ts
 * parseFacets('3 9 11'); // [3, 9, 11]
 * parseFacets([11, '13', 'x']); // [11, 13]
 * ```
 */
export function parseFacets(value: unknown): number[] {
  const raw: unknown[] =
    typeof value === 'string'
      ? value.split(/[\s,]+/)
      : Array.isArray(value)
        ? value.flatMap((v) => (typeof v === 'string' ? v.split(/[\s,]+/) : [v]))
        : [value];
  const set = new Set<number>();
  for (const item of raw) {
    const n =
      typeof item === 'number' ? item : typeof item === 'string' && /^\d+$/.test(item) ? Number(item) : NaN;
    if (Number.isSafeInteger(n) && n >= 0) set.add(n);
  }
  return [...set].sort((a, b) => a - b);
}

// Every cached token carries a summary: its lists (mostly empty, or the same few scopes, roles and
// facets) are frozen and shared between tokens, from a bounded table (beyond it, copies).
const EMPTY: readonly never[] = Object.freeze([]);
const MAX_SHARED_LISTS = 1024;
const sharedLists = new Map<string, readonly (string | number)[]>();
function shared<T extends string | number>(list: T[]): readonly T[] {
  if (list.length === 0) return EMPTY;
  const key = list.join('\u0000');
  const known = sharedLists.get(key) as readonly T[] | undefined;
  if (known !== undefined && known.length === list.length && known.every((v, i) => v === list[i]))
    return known;
  const frozen = Object.freeze(list);
  if (sharedLists.size < MAX_SHARED_LISTS) sharedLists.set(key, frozen);
  return frozen;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const strings = (v: unknown): string[] =>
  Array.isArray(v)
    ? v.filter((x): x is string => typeof x === 'string' && x !== '')
    : typeof v === 'string'
      ? v.split(' ').filter(Boolean)
      : [];

/**
 * Summarises decoded claims into a frozen {@link ClaimsSummary}. Tolerant of missing or
 * oddly-typed claims: unusable values are dropped rather than failing.
 *
 * @example
 * ```ts
 * const { idtyp, oid, azp, actorFacets } = summarizeClaims(decodeJwtClaims(token));
 * ```
 */
export function summarizeClaims(claims: JwtClaims | Record<string, unknown>): ClaimsSummary {
  const c = claims as Record<string, unknown>;
  const aud = Array.isArray(c['aud']) ? Object.freeze(strings(c['aud'])) : str(c['aud']);
  const summary: {
    -readonly [K in keyof ClaimsSummary]: ClaimsSummary[K];
  } = {
    scp: shared(strings(typeof c['scp'] === 'string' ? c['scp'] : undefined)),
    roles: shared(strings(Array.isArray(c['roles']) ? c['roles'] : undefined)),
    actorFacets: shared(parseFacets(c['xms_act_fct'])),
    subjectFacets: shared(parseFacets(c['xms_sub_fct'])),
  };
  const set = <K extends keyof ClaimsSummary>(key: K, value: ClaimsSummary[K] | undefined): void => {
    if (value !== undefined) summary[key] = value;
  };
  set('idtyp', str(c['idtyp']));
  set('oid', str(c['oid']));
  set('azp', str(c['azp']) ?? str(c['appid']));
  set('tid', str(c['tid']));
  set('aud', aud);
  set('parentAppId', str(c['xms_par_app_azp']));
  set('iat', num(c['iat']));
  set('exp', num(c['exp']));
  return Object.freeze(summary);
}
