import type { Link } from '@opentelemetry/api';
import type { BlueprintRuntime } from '../blueprint/runtime.js';
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
  /** Serves from the cache or runs `acquire` once for all concurrent callers, inside an `agentid.<flow>` span. */
  get(request: BrokerRequest, acquire: Acquire, options?: GetTokenOptions): Promise<AccessToken>;
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
