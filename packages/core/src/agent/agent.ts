import { type BlueprintServices, type AgentBroker, type PreparedRequest } from '../broker/types.js';
import { attachBroker } from '../broker/access.js';
import { createRequester } from '../broker/broker.js';
import type { BlueprintRuntime } from '../blueprint/runtime.js';
import { createMemo } from '../cache/memo.js';
import { ConfigurationError } from '../errors/agent-id-error.js';
import type { AccessToken } from '../token/access-token.js';

/**
 * Options of one token request.
 *
 * @example
 * ```ts
 * await agent.getToken(['api://tools/.default'], { claims: challenge.claims, signal: req.signal });
 * ```
 */
export interface GetTokenOptions {
  /** Skip the cache (still coalesced with concurrent requests). */
  forceRefresh?: boolean;
  /** A claims request, e.g. from a CAE `insufficient_claims` challenge: skips the cache. */
  claims?: string;
  signal?: AbortSignal;
}

/**
 * One agent identity of a blueprint. Tokens come from the blueprint's cache (single-flight,
 * refresh-ahead); legs 1 and 2 go through MSAL Node. Other flows (on-behalf-of, agent users)
 * take an agent: `onBehalfOf(agent, ...)` from `@agentid/obo`, `agentUser(agent, ...)` from
 * `@agentid/agent-user`.
 *
 * @example
 * ```ts
 * const agent = blueprint.agent(agentId);
 * const token = await agent.getToken(['https://graph.microsoft.com/.default']);
 * ```
 */
export interface Agent {
  /** The agent identity's client id. */
  readonly id: string;
  readonly blueprintId: string;
  readonly tenantId: string;
  /** An autonomous (app-only) token for one resource: `['<resource>/.default']`. */
  getToken(scopes: readonly string[], options?: GetTokenOptions): Promise<AccessToken>;
}

/** A client id, or the identifier Entra accepts in its place (letters, digits, dashes). */
const AGENT_ID_PATTERN = /^[0-9a-z][0-9a-z-]{2,63}$/i;

function checkAutonomousScopes(scopes: readonly string[]): void {
  if (
    !Array.isArray(scopes) ||
    scopes.length !== 1 ||
    typeof scopes[0] !== 'string' ||
    !/\/\.default$/i.test(scopes[0])
  ) {
    throw new ConfigurationError(
      `getToken: an autonomous agent token takes exactly one scope of the form '<resource>/.default', got ${JSON.stringify(scopes)}`,
    );
  }
}

/** Creates the agent handle; called by `blueprint.agent(id)`. */
export function createAgent(runtime: BlueprintRuntime, services: BlueprintServices, id: string): Agent {
  if (typeof id !== 'string' || !AGENT_ID_PATTERN.test(id))
    throw new ConfigurationError(
      `agent: agentIdentityId must be the agent identity's client id, got '${String(id)}'`,
    );
  const requester = createRequester(runtime, { agentId: id });
  // One prepared request per resource the agent calls (a scope found here passed the check).
  const autonomous = createMemo<string, PreparedRequest<undefined>>({ maxEntries: runtime.store.maxEntries });

  const getToken = (scopes: readonly string[], options: GetTokenOptions = {}): Promise<AccessToken> => {
    const scope: unknown = Array.isArray(scopes) && scopes.length === 1 ? scopes[0] : undefined;
    let prepared = typeof scope === 'string' ? autonomous.get(scope) : undefined;
    if (prepared === undefined) {
      try {
        checkAutonomousScopes(scopes);
        autonomous.set(
          scope as string,
          (prepared = requester.prepare({ flow: 'autonomous', clientId: id, scopes })),
        );
      } catch (e) {
        return Promise.reject(e);
      }
    }
    const resource = prepared.request.scopes;
    return requester.acquire(
      prepared,
      {
        send: ({ msal, clientAssertion, claims }) =>
          msal.acquireTokenByClientCredential({
            scopes: [...resource],
            skipCache: true,
            clientAssertion,
            ...(claims ? { claims } : {}),
          }),
      },
      options,
    );
  };

  const agent: Agent = Object.freeze(
    attachBroker(
      {
        id,
        blueprintId: runtime.clientId,
        tenantId: runtime.tenantId,
        getToken,
        toString: () => `Agent(${id}, blueprint=${runtime.clientId}, tenant=${runtime.tenantId})`,
      },
      (self): AgentBroker =>
        Object.freeze({
          agent: self,
          services,
          msal: requester.msal,
          acquire: requester.acquire,
          prepare: requester.prepare,
          owns: requester.owns,
          exchangeToken: requester.exchangeToken,
          instanceToken: requester.instanceToken,
        }),
    ),
  );
  return agent;
}

export type { AccessToken };
