import { DelegationError } from '@agentid/core';
import { FACETS, isAgentActed, type Principal } from '../validate/principal.js';

/**
 * The entity type of a subject or an actor (the actor profile draft's `sub_profile` claim, with
 * Entra Agent ID's kinds of principal): a human `user`, an `agent_user` (the user account of an
 * agent), an `agent_identity`, or a classic `application`.
 *
 * @example
 * ```ts
 * const t: EntityType = principal.subjectFacets.includes(13) ? 'agent_user' : 'user';
 * ```
 */
export type EntityType = 'user' | 'agent_user' | 'agent_identity' | 'application';

/** The entity types a chain may carry. @internal */
export const ENTITY_TYPES: ReadonlySet<string> = new Set<EntityType>([
  'user',
  'agent_user',
  'agent_identity',
  'application',
]);

/**
 * One actor of the chain: the agent identity's id, its tenant, its blueprint (when known) and its type.
 *
 * @example
 * ```ts
 * const actor: DelegationActor = { id: agent.id, tenantId: agent.tenantId, blueprintId: agent.blueprintId, type: 'agent_identity' };
 * ```
 */
export interface DelegationActor {
  /** The agent identity id (lower case). */
  readonly id: string;
  readonly tenantId: string;
  /** The agent's blueprint (parent app id), carried as `xms_par_app_azp`. */
  readonly blueprintId?: string;
  readonly type: EntityType;
}

/**
 * Who acts for whom across agent hops: the subject (the user, or an agent user), and the ordered
 * chain of agent identities that acted for them (first = the agent the user called).
 *
 * @example
 * ```ts
 * const ctx = appendActor(startDelegation(principal), agent);
 * console.log(ctx.user.oid, ctx.actors, ctx.chain.map((a) => a.tenantId));
 * ```
 */
export interface DelegationContext {
  readonly user: {
    readonly oid: string;
    readonly tid: string;
    readonly upn?: string;
    /** Default `user`. */
    readonly type?: EntityType;
  };
  /** The actors' ids, in order (first = the agent the user called). */
  readonly actors: readonly string[];
  /** The actors with their tenant, blueprint and type, in the same order as `actors`. */
  readonly chain?: readonly DelegationActor[];
  /** `actors.length`. */
  readonly hops: number;
  /** W3C `traceparent` of the upstream hop's span, for a span link. */
  readonly traceparent?: string;
  /**
   * The chain of another trust domain that this one continues (issuer and base64url SHA-256 of
   * its JWS): set when a hop crossed into this domain.
   */
  readonly prev?: ChainReference;
  /** The verified header this context was decoded from: its issuer and the SHA-256 of its JWS. */
  readonly source?: ChainReference;
}

/**
 * A reference to a chain header: its issuer and the base64url SHA-256 of its compact JWS.
 *
 * @example
 * ```ts
 * if (ctx.prev) log.info('continues chain', ctx.prev.iss, ctx.prev.hash);
 * ```
 */
export interface ChainReference {
  readonly iss: string;
  readonly hash: string;
}

/**
 * What {@link appendActor} adds: an agent id (tenant = the subject's, blueprint unknown), or an
 * agent handle (`blueprint.agent(id)`: its id, tenant and blueprint), or a full actor.
 *
 * @example
 * ```ts
 * const next = appendActor(ctx, blueprint.agent(mailAgentId));
 * ```
 */
export type ActorInput =
  | string
  | {
      readonly id: string;
      readonly tenantId: string;
      readonly blueprintId?: string;
      readonly type?: EntityType;
    };

/** Default maximum number of agents in a chain. */
export const DEFAULT_MAX_HOPS = 5;

// Contexts are frozen and derived only from their inputs, so they are memoized by input identity
// (weakly: they live as long as the principal or context they come from).
const started = new WeakMap<Principal, DelegationContext>();
const appended = new WeakMap<
  DelegationContext,
  { input: ActorInput; maxHops: number; next: DelegationContext }
>();

/**
 * The entity type of a token's subject: an agent user (`xms_sub_fct` 13), a user, an agent identity
 * (an app token an agent got for itself) or an application.
 *
 * @example
 * ```ts
 * subjectTypeOf(principal); // 'user'
 * ```
 */
export function subjectTypeOf(principal: Principal): EntityType {
  if (principal.subjectFacets.includes(FACETS.AGENT_USER)) return 'agent_user';
  if (principal.idtyp === 'user') return 'user';
  return principal.actorFacets.includes(FACETS.AGENT_IDENTITY) ? 'agent_identity' : 'application';
}

/**
 * The context at the first agent: the subject, and (when the token was already obtained by an agent
 * identity acting, `xms_act_fct` 11) that agent as the first actor, with its tenant and blueprint.
 *
 * @example
 * ```ts
 * const ctx = appendActor(startDelegation(principal), blueprint.agent(myAgentId));
 * ```
 */
export function startDelegation(principal: Principal): DelegationContext {
  // A validator that caches returns the same frozen principal for every request with the same token,
  // and the context depends on nothing else: one context per principal.
  const known = started.get(principal);
  if (known) return known;
  const chain: DelegationActor[] =
    isAgentActed(principal) && principal.azp
      ? [
          {
            id: principal.azp.toLowerCase(),
            tenantId: principal.tid.toLowerCase(),
            ...(principal.parentAppId ? { blueprintId: principal.parentAppId.toLowerCase() } : {}),
            type: 'agent_identity',
          },
        ]
      : [];
  const type = subjectTypeOf(principal);
  const ctx = freeze(
    {
      oid: principal.oid,
      tid: principal.tid,
      ...(principal.upn ? { upn: principal.upn } : {}),
      ...(type !== 'user' ? { type } : {}),
    },
    chain,
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

/** The actors of a context with their details (a context built by hand may have only ids). @internal */
export function chainOf(ctx: DelegationContext): readonly DelegationActor[] {
  const chain = ctx.chain;
  if (chain !== undefined && chain.length === ctx.actors.length) return chain;
  return ctx.actors.map((id) => ({
    id: id.toLowerCase(),
    tenantId: ctx.user.tid.toLowerCase(),
    type: 'agent_identity',
  }));
}

function toActor(input: ActorInput, ctx: DelegationContext): DelegationActor {
  const o = typeof input === 'string' ? { id: input } : input;
  if (!o || typeof o.id !== 'string' || o.id === '')
    throw new TypeError('appendActor: the agent must be a non-empty id or an agent handle with an id');
  const tenantId = typeof input === 'string' ? ctx.user.tid : input.tenantId;
  if (typeof tenantId !== 'string' || tenantId === '')
    throw new TypeError('appendActor: the agent needs its tenantId');
  const blueprintId = typeof input === 'string' ? undefined : input.blueprintId;
  const type = (typeof input === 'string' ? undefined : input.type) ?? 'agent_identity';
  if (!ENTITY_TYPES.has(type)) throw new TypeError(`appendActor: unknown entity type ${String(type)}`);
  return Object.freeze({
    id: o.id.toLowerCase(),
    tenantId: tenantId.toLowerCase(),
    ...(typeof blueprintId === 'string' && blueprintId !== ''
      ? { blueprintId: blueprintId.toLowerCase() }
      : {}),
    type,
  });
}

/**
 * Adds an agent to the chain (an id, or an agent handle so that its tenant and blueprint are kept).
 * Throws `DelegationError` `AGENTID_DELEGATION_CYCLE` if the agent is already in it (in any letter
 * case), `AGENTID_HOP_LIMIT` if the chain would exceed `maxHops`.
 *
 * @example
 * ```ts
 * const next = appendActor(ctx, blueprint.agent(mailAgentId), codec.maxHops);
 * ```
 */
export function appendActor(
  ctx: DelegationContext,
  agent: ActorInput,
  maxHops: number = DEFAULT_MAX_HOPS,
): DelegationContext {
  // The same frozen context (from startDelegation or a cached decode) extended by the same agent
  // gives the same result: kept per context, for the agent that last extended it.
  const known = appended.get(ctx);
  if (known !== undefined && known.input === agent && known.maxHops === maxHops) return known.next;
  const actor = toActor(agent, ctx);
  // Agent ids are GUIDs: the same agent in another case is the same agent.
  if (ctx.actors.some((a) => a.toLowerCase() === actor.id))
    throw new DelegationError(
      'AGENTID_DELEGATION_CYCLE',
      `Agent ${actor.id} already acted in this chain (${ctx.actors.join(' > ')})`,
    );
  if (ctx.actors.length + 1 > maxHops)
    throw new DelegationError(
      'AGENTID_HOP_LIMIT',
      `The chain would have ${ctx.actors.length + 1} agents; at most ${maxHops} are allowed`,
    );
  const next = freeze(ctx.user, [...chainOf(ctx), actor], ctx.traceparent, ctx.prev, ctx.source);
  if (Object.isFrozen(ctx) && Object.isFrozen(ctx.actors) && Object.isFrozen(ctx.user))
    appended.set(ctx, { input: agent, maxHops, next });
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
  chain: readonly DelegationActor[],
  traceparent?: string,
  prev?: ChainReference,
  source?: ChainReference,
): DelegationContext {
  const frozen = Object.freeze(chain.map((a) => (Object.isFrozen(a) ? a : Object.freeze({ ...a }))));
  return Object.freeze({
    user: Object.isFrozen(user) ? user : Object.freeze({ ...user }),
    actors: Object.freeze(frozen.map((a) => a.id)),
    chain: frozen,
    hops: frozen.length,
    ...(traceparent ? { traceparent } : {}),
    ...(prev ? { prev } : {}),
    ...(source ? { source } : {}),
  });
}

/**
 * The chain as one readable string: `a1 > a2 > a3` (for messages; spans and audit events carry
 * {@link chainAttributes}).
 *
 * @example
 * ```ts
 * console.log(`chain: ${formatChain(ctx)}`);
 * ```
 */
export function formatChain(ctx: DelegationContext): string {
  const actors = ctx.actors;
  if (actors.length === 1) return String(actors[0]);
  return actors.join(' > ');
}
