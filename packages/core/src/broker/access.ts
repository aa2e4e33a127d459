import type { Agent } from '../agent/agent.js';
import type { Blueprint } from '../blueprint/create-blueprint.js';
import type { AgentBroker, BlueprintServices } from './types.js';

// Registered symbols, not module-local ones or WeakMaps: an agent made by one copy of
// @agentid/core (two copies in one app are a common npm outcome) still shows its broker to a
// package that imported another copy. The version is part of the key: an incompatible future
// contract gets another symbol instead of a broker it does not understand.
const BROKER = Symbol.for('@agentid/core.broker.v1');
const SERVICES = Symbol.for('@agentid/core.services.v1');

/**
 * Gives `target` its broker under the registered symbol: not enumerable, so it stays out of
 * `Object.keys`, JSON and `util.inspect`. `make` receives the object it is attached to.
 */
export function attachBroker<T extends object>(target: T, make: (self: Agent) => AgentBroker): T {
  Object.defineProperty(target, BROKER, { value: make(target as unknown as Agent), enumerable: false });
  return target;
}

/** Gives a blueprint its services under the registered symbol (not enumerable). */
export function attachServices<T extends object>(target: T, services: BlueprintServices): T {
  Object.defineProperty(target, SERVICES, { value: services, enumerable: false });
  return target;
}

/**
 * The broker of an agent from `blueprint.agent(id)`: how a package adds a flow to it.
 * Throws `TypeError` for anything else.
 *
 * @example
 * ```ts
 * const broker = brokerOf(blueprint.agent(agentId));
 * const token = await broker.acquire(request, { send: ({ msal }) => msal.acquireTokenOnBehalfOf(oboRequest) });
 * ```
 */
export function brokerOf(agent: Agent): AgentBroker {
  const broker =
    agent !== null && typeof agent === 'object'
      ? (agent as unknown as Record<symbol, unknown>)[BROKER]
      : undefined;
  if (broker === undefined) throw new TypeError('brokerOf: not an agent from blueprint.agent(id)');
  return broker as AgentBroker;
}

/**
 * What a blueprint from `createBlueprint()` shares with the packages that build on it (HTTP
 * client, fetch, telemetry, clock, cache bounds). Throws `TypeError` for anything else.
 *
 * @example
 * ```ts
 * const { fetch, clock } = servicesOf(blueprint);
 * ```
 */
export function servicesOf(blueprint: Blueprint): BlueprintServices {
  const services =
    blueprint !== null && typeof blueprint === 'object'
      ? (blueprint as unknown as Record<symbol, unknown>)[SERVICES]
      : undefined;
  if (services === undefined) throw new TypeError('servicesOf: not a blueprint from createBlueprint()');
  return services as BlueprintServices;
}
