import { DelegationError } from '@agentid/core';
import { isAgentActed, type Principal } from '../validate/principal.js';

/**
 * Who acts for whom across agent hops: the user, and the ordered chain of agent identities that
 * acted for them (first = the agent the user called).
 *
 * @example
 * ```ts
 * const ctx: DelegationContext = { user: { oid, tid }, actors: [orchestratorId, mailAgentId], hops: 2 };
 * ```
 */
export interface DelegationContext {
  readonly user: { readonly oid: string; readonly tid: string; readonly upn?: string };
  readonly actors: readonly string[];
  /** `actors.length`. */
  readonly hops: number;
  /** W3C `traceparent` of the upstream hop's span, for a span link. */
  readonly traceparent?: string;
}

/** Default maximum number of agents in a chain. */
export const DEFAULT_MAX_HOPS = 5;

// Contexts are frozen and derived only from their inputs, so they are memoized by input identity
// (weakly: they live as long as the principal or context they come from).
const started = new WeakMap<Principal, DelegationContext>();
const appended = new WeakMap<
  DelegationContext,
  { agentId: string; maxHops: number; next: DelegationContext }
>();

/**
 * The context at the first agent: the user, and (when the token was already obtained by an agent
 * identity acting, `xms_act_fct` 11) that agent as the first actor.
 *
 * @example
 * ```ts
 * const ctx = appendActor(startDelegation(principal), myAgentId);
 * ```
 */
export function startDelegation(principal: Principal): DelegationContext {
  // A validator that caches returns the same frozen principal for every request with the same token,
  // and the context depends on nothing else: one context per principal.
  const known = started.get(principal);
  if (known) return known;
  const actors = isAgentActed(principal) && principal.azp ? [principal.azp.toLowerCase()] : [];
  const ctx = freeze(
    { oid: principal.oid, tid: principal.tid, ...(principal.upn ? { upn: principal.upn } : {}) },
    actors,
  );
  if (
    typeof principal === 'object' &&
    principal !== null &&
    Object.isFrozen(principal) &&
    Object.isFrozen(principal.actorFacets)
  )
    started.set(principal, ctx);
  return ctx;
}

/**
 * Adds an agent to the chain. Throws `DelegationError` `AGENTID_DELEGATION_CYCLE` if the agent is
 * already in it, `AGENTID_HOP_LIMIT` if the chain would exceed `maxHops`.
 *
 * @example
 * ```ts
 * const next = appendActor(ctx, mailAgentId, 5);
 * ```
 */
export function appendActor(
  ctx: DelegationContext,
  agentId: string,
  maxHops: number = DEFAULT_MAX_HOPS,
): DelegationContext {
  if (typeof agentId !== 'string' || agentId === '')
    throw new TypeError('appendActor: agentId must be a non-empty string');
  // The same frozen context (from startDelegation or a cached decode) extended by the same agent
  // gives the same result: kept per context, for the agent that last extended it.
  const known = appended.get(ctx);
  if (known !== undefined && known.agentId === agentId && known.maxHops === maxHops) return known.next;
  // Agent ids are GUIDs: the same agent in another case is the same agent.
  const id = agentId.toLowerCase();
  if (ctx.actors.some((a) => a.toLowerCase() === id))
    throw new DelegationError(
      'AGENTID_DELEGATION_CYCLE',
      `Agent ${id} already acted in this chain (${ctx.actors.join(' > ')})`,
    );
  if (ctx.actors.length + 1 > maxHops)
    throw new DelegationError(
      'AGENTID_HOP_LIMIT',
      `The chain would have ${ctx.actors.length + 1} agents; at most ${maxHops} are allowed`,
    );
  const next = freeze(ctx.user, [...ctx.actors.map((a) => a.toLowerCase()), id], ctx.traceparent);
  if (Object.isFrozen(ctx) && Object.isFrozen(ctx.actors) && Object.isFrozen(ctx.user))
    appended.set(ctx, { agentId, maxHops, next });
  return next;
}

/** Checks a decoded chain (no repeats in any case, hop limit). @internal */
export function checkChain(actors: readonly string[], maxHops: number): void {
  if (new Set(actors.map((a) => a.toLowerCase())).size !== actors.length)
    throw new DelegationError('AGENTID_DELEGATION_CYCLE', 'An agent appears twice in the delegation chain');
  if (actors.length > maxHops)
    throw new DelegationError(
      'AGENTID_HOP_LIMIT',
      `The chain has ${actors.length} agents; at most ${maxHops} are allowed`,
    );
}

/** @internal */
export function freeze(
  user: DelegationContext['user'],
  actors: readonly string[],
  traceparent?: string,
): DelegationContext {
  return Object.freeze({
    user: Object.freeze({ ...user }),
    actors: Object.freeze([...actors]),
    hops: actors.length,
    ...(traceparent ? { traceparent } : {}),
  });
}

/**
 * The chain as one span attribute value: `a1 > a2 > a3`.
 *
 * @example
 * ```ts
 * span.setAttribute('agentid.actor.chain', formatChain(ctx));
 * ```
 */
export function formatChain(ctx: DelegationContext): string {
  const actors = ctx.actors;
  // Every span and audit record of a request formats its chain; most chains have one agent.
  if (actors.length === 1) return String(actors[0]);
  return actors.join(' > ');
}
