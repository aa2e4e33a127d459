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
  const actors = isAgentActed(principal) && principal.azp ? [principal.azp.toLowerCase()] : [];
  return freeze({ oid: principal.oid, tid: principal.tid, ...(principal.upn ? { upn: principal.upn } : {}) }, actors);
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
export function appendActor(ctx: DelegationContext, agentId: string, maxHops: number = DEFAULT_MAX_HOPS): DelegationContext {
  if (typeof agentId !== 'string' || agentId === '') throw new TypeError('appendActor: agentId must be a non-empty string');
  const id = agentId.toLowerCase();
  if (ctx.actors.includes(id)) throw new DelegationError('AGENTID_DELEGATION_CYCLE', `Agent ${id} already acted in this chain (${ctx.actors.join(' > ')})`);
  if (ctx.actors.length + 1 > maxHops) throw new DelegationError('AGENTID_HOP_LIMIT', `The chain would have ${ctx.actors.length + 1} agents; at most ${maxHops} are allowed`);
  return freeze(ctx.user, [...ctx.actors, id], ctx.traceparent);
}

/** Checks a decoded chain (no repeats, hop limit). @internal */
export function checkChain(actors: readonly string[], maxHops: number): void {
  if (new Set(actors).size !== actors.length) throw new DelegationError('AGENTID_DELEGATION_CYCLE', 'An agent appears twice in the delegation chain');
  if (actors.length > maxHops) throw new DelegationError('AGENTID_HOP_LIMIT', `The chain has ${actors.length} agents; at most ${maxHops} are allowed`);
}

/** @internal */
export function freeze(user: DelegationContext['user'], actors: readonly string[], traceparent?: string): DelegationContext {
  return Object.freeze({ user: Object.freeze({ ...user }), actors: Object.freeze([...actors]), hops: actors.length, ...(traceparent ? { traceparent } : {}) });
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
  return ctx.actors.join(' > ');
}
