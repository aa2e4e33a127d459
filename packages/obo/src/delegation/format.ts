import { DelegationError } from '@agentid/core';
import {
  type ChainReference,
  chainOf,
  type DelegationActor,
  type DelegationContext,
  ENTITY_TYPES,
  type EntityType,
} from './context.js';

/** The JWS `typ` of a chain header (RFC 8725 explicit typing). */
export const CHAIN_TYP = 'agentid-chain+jwt';
/** The `typ` of the first format (`act` as an array of ids), refused since. @internal */
export const LEGACY_TYP = 'agentid-delegation+jwt';
/** The claim that names an actor's blueprint: Entra's own name for an agent token's parent blueprint. */
export const BLUEPRINT_CLAIM = 'xms_par_app_azp';
/** Nesting read at most, whatever the hop limit (a bound on work before the limit is checked). @internal */
export const MAX_NESTING = 32;

/** One RFC 8693 actor object, as signed. */
export interface ActClaim {
  sub: string;
  sub_profile: EntityType;
  tid: string;
  xms_par_app_azp?: string;
  act?: ActClaim;
}

/** The claims of a chain header, as signed (see the obo README for each). @internal */
export interface ChainClaims {
  iss: string;
  sub: string;
  sub_profile: EntityType;
  tid: string;
  upn?: string;
  ath: string;
  act?: ActClaim;
  tp?: string;
  prev?: ChainReference;
}

const invalid = (message: string): DelegationError =>
  new DelegationError('AGENTID_DELEGATION_INVALID', message);

/**
 * The chain of a context as nested `act` objects: the outermost is the current (last) actor, each
 * `act` inside it the actor before.
 *
 * @internal
 */
export function toActClaim(chain: readonly DelegationActor[]): ActClaim | undefined {
  let act: ActClaim | undefined;
  for (const a of chain) {
    act = {
      sub: a.id.toLowerCase(),
      sub_profile: a.type,
      tid: a.tenantId.toLowerCase(),
      ...(a.blueprintId ? { [BLUEPRINT_CLAIM]: a.blueprintId.toLowerCase() } : {}),
      ...(act ? { act } : {}),
    };
  }
  return act;
}

/** The claims signed for a context (without `iat`, `exp`, set by the signer). @internal */
export function toClaims(
  ctx: DelegationContext,
  iss: string,
  ath: string,
  tp: string | undefined,
  chain: readonly DelegationActor[] = chainOf(ctx),
  prev: ChainReference | undefined = ctx.prev,
): ChainClaims {
  const act = toActClaim(chain);
  return {
    iss,
    sub: ctx.user.oid.toLowerCase(),
    sub_profile: ctx.user.type ?? 'user',
    tid: ctx.user.tid.toLowerCase(),
    ...(ctx.user.upn ? { upn: ctx.user.upn } : {}),
    ath,
    ...(act ? { act } : {}),
    ...(tp ? { tp } : {}),
    ...(prev ? { prev: { iss: prev.iss, hash: prev.hash } } : {}),
  };
}

const str = (v: unknown): v is string => typeof v === 'string' && v !== '';

/**
 * Reads the nested `act` of verified claims into actors in chain order (first = the agent the
 * subject called). Refuses the first format, a malformed actor, and nesting past {@link MAX_NESTING}
 * (`AGENTID_HOP_LIMIT`).
 *
 * @internal
 */
export function readActors(act: unknown): DelegationActor[] {
  if (Array.isArray(act))
    throw invalid(
      `The delegation header is in the first agentid format (act as an array of ids); this version reads only nested RFC 8693 actors (${CHAIN_TYP}): update the sender`,
    );
  const outermostFirst: DelegationActor[] = [];
  let node: unknown = act;
  while (node !== undefined) {
    if (outermostFirst.length >= MAX_NESTING)
      throw new DelegationError('AGENTID_HOP_LIMIT', `The chain nests more than ${MAX_NESTING} actors`);
    if (typeof node !== 'object' || node === null || Array.isArray(node))
      throw invalid('An actor of the delegation chain is not an object');
    const a = node as Record<string, unknown>;
    if (!str(a.sub) || !str(a.tid) || typeof a.sub_profile !== 'string' || !ENTITY_TYPES.has(a.sub_profile))
      throw invalid('An actor of the delegation chain lacks its sub, tid or a known sub_profile');
    const blueprint = a[BLUEPRINT_CLAIM];
    if (blueprint !== undefined && !str(blueprint))
      throw invalid(`An actor's ${BLUEPRINT_CLAIM} is not a string`);
    outermostFirst.push({
      id: a.sub.toLowerCase(),
      tenantId: a.tid.toLowerCase(),
      ...(blueprint ? { blueprintId: blueprint.toLowerCase() } : {}),
      type: a.sub_profile as EntityType,
    });
    node = a.act;
  }
  return outermostFirst.reverse();
}

/** Reads `prev` of verified claims. @internal */
export function readPrev(prev: unknown): ChainReference | undefined {
  if (prev === undefined) return undefined;
  const p = prev as Record<string, unknown> | null;
  if (typeof p !== 'object' || p === null || !str(p.iss) || !str(p.hash))
    throw invalid('The delegation header has a malformed prev reference');
  return Object.freeze({ iss: p.iss, hash: p.hash });
}
