import type { Attributes, Link } from '@opentelemetry/api';
import type { BlueprintRuntime } from '../blueprint/runtime.js';
import { CacheSlot } from '../cache/store-entry.js';
import type { Acquire } from '../cache/token-store.js';
import type { SpanAttributes } from '../telemetry/telemetry.js';
import type { AccessToken } from '../token/access-token.js';
import type { Agent, GetTokenOptions } from './agent.js';

/**
 * One cached token request of a flow that sibling packages add (OBO, agent user, ...).
 *
 * @example
 * ```ts
 * const req: BrokerRequest = { flow: 'obo', scopes, subject: userOid, assertionHash: hashAssertion(userJwt), tags: [cacheTags.user(userOid)] };
 * ```
 */
export interface BrokerRequest {
  /** The grant, e.g. `obo` or `agent-user`: part of the cache key and the span name (`agentid.<flow>`). */
  flow: string;
  scopes: readonly string[];
  /** The client the request is made as. Default: the agent identity. */
  clientId?: string;
  /** User object id or UPN for user flows (never a token). */
  subject?: string;
  /** `hashAssertion(userAssertion)` for OBO (never the assertion). */
  assertionHash?: string;
  /** Anything else that changes the token. */
  extra?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** Extra invalidation tags (the agent's, blueprint's and tenant's are always added). */
  tags?: readonly string[];
  /** Extra span attributes (user id, actor chain, ...: never token material). */
  attributes?: SpanAttributes;
  /** Span links, e.g. to the upstream agent's span across a hop. */
  links?: Link[];
}

/**
 * A {@link BrokerRequest} whose cache key, tags and span attributes were built once, by
 * `broker.prepare(request)`. Pass it to `broker.get` on hot paths: a cache hit then costs one L1
 * lookup and a clock read. Keep it as long as the request repeats (e.g. in a bounded memo per
 * user assertion); it only works with the broker that prepared it. `label` and `data` are the
 * preparer's own (e.g. the scopes it was prepared for, and the user), kept on the same object
 * so that finding it again reads no other.
 *
 * @example
 * ```ts
 * const prepared = broker.prepare({ flow: 'obo', scopes, subject, assertionHash, tags: [cacheTags.user(oid)] }, { label: scopes.join(' '), data: user });
 * const token = await broker.get(prepared, acquire);
 * ```
 */
export class PreparedRequest<D = unknown> extends CacheSlot {
  // Declared in the order a hit reads them (after the slot's own fields): one or two cache lines.
  readonly #owner: object;
  /** The preparer's name for it (see `prepare`). */
  readonly label: string | undefined;
  /** @internal */
  readonly spanName: string;
  /** @internal The broker's attributes and the request's, cleaned and frozen. */
  readonly attributes: Readonly<Attributes>;
  /** @internal The request's links. */
  readonly links: readonly Link[] | undefined;
  /** The preparer's data (see `prepare`). */
  readonly data: D;
  /** What the cache key was made of (scopes copied and frozen), and the links. */
  readonly request: Readonly<BrokerRequest>;
  /** @internal The broker's tags and the request's, frozen (shared with the cache entry). */
  readonly tags: readonly string[];

  /** @internal Made by `broker.prepare`. */
  constructor(owner: object, request: Readonly<BrokerRequest>, key: string, attributes: Readonly<Attributes>, tags: readonly string[], label: string | undefined, data: D) {
    // The slot (the cache key, and the entry last found for it) is the only mutable part.
    super(key);
    this.#owner = owner;
    this.label = label;
    this.spanName = `agentid.${request.flow}`;
    this.attributes = attributes;
    this.links = request.links;
    this.data = data;
    this.request = request;
    this.tags = tags;
  }

  /** @internal Whether `value` was prepared by `owner`. */
  static by(owner: object, value: unknown): value is PreparedRequest<unknown> {
    return typeof value === 'object' && value !== null && #owner in value && (value as PreparedRequest<unknown>).#owner === owner;
  }
}

/**
 * Per-call span details of a prepared request (they vary where the request does not).
 *
 * @example
 * ```ts
 * await broker.get(prepared, acquire, { signal }, { attributes: { [ATTR.ACTOR_CHAIN]: chain }, links });
 * ```
 */
export interface BrokerCall {
  attributes?: SpanAttributes;
  links?: Link[];
}

/**
 * What sibling packages (`@agentid/obo`, `@agentid/agent-user`, `@agentid/sidecar`) use to add
 * flows to an agent: its runtime, and the broker's cached, single-flight `get`.
 *
 * @example
 * ```ts
 * const broker = agentBroker(blueprint.agent(agentId));
 * const token = await broker.get({ flow: 'obo', scopes, subject: oid, assertionHash }, acquire, { signal });
 * ```
 */
export interface AgentBroker {
  readonly agent: Agent;
  readonly runtime: BlueprintRuntime;
  /**
   * Serves from the cache or runs `acquire` once for all concurrent callers, with an
   * `agentid.<flow>` span (on a fresh hit, one recorded at once; otherwise an active one).
   * `call` adds span attributes and links for this call only.
   */
  get(request: BrokerRequest | PreparedRequest<unknown>, acquire: Acquire, options?: GetTokenOptions, call?: BrokerCall): Promise<AccessToken>;
  /**
   * Validates `request` and builds its cache key, tags and span attributes once. Throws
   * `TypeError` for a bad part. `label` and `data` are stored as they are, for the caller.
   */
  prepare<D = undefined>(request: BrokerRequest, extra?: { label?: string; data?: D }): PreparedRequest<D>;
  /** Whether `prepared` came from this broker's `prepare` (only those work with its `get`). */
  owns(prepared: PreparedRequest<unknown>): boolean;
}

const brokers = new WeakMap<Agent, AgentBroker>();

/** Registers an agent's broker (called by `createAgent`). @internal */
export function registerAgentBroker(agent: Agent, broker: AgentBroker): void {
  brokers.set(agent, broker);
}

/**
 * The {@link AgentBroker} of an agent handle from `blueprint.agent(id)`.
 *
 * @example
 * ```ts
 * const { runtime } = agentBroker(agent);
 * ```
 */
export function agentBroker(agent: Agent): AgentBroker {
  const b = brokers.get(agent);
  if (!b) throw new TypeError('agentBroker: not an agent from blueprint.agent(id)');
  return b;
}
