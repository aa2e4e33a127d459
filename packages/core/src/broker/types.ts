import type { AuthenticationResult, ConfidentialClientApplication } from '@azure/msal-node';
import type { Link } from '@opentelemetry/api';
import type { Agent, GetTokenOptions } from '../agent/agent.js';
import type { TokenAcquisition } from '../cache/token-store.js';
import type { HttpClient } from '../http/client.js';
import type { Telemetry, SpanAttributes } from '../telemetry/telemetry.js';
import type { AccessToken } from '../token/access-token.js';
import type { Clock } from '../util/clock.js';

/**
 * One cached token request of a flow that a sibling package adds (OBO, agent user, ...).
 *
 * @example
 * ```ts
 * const request: BrokerRequest = { flow: 'obo', scopes, subject: oid, assertionHash: hashAssertion(userJwt), tags: [cacheTags.user(oid)] };
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
 * A {@link BrokerRequest} whose cache key, tags and span attributes were built once by
 * {@link AgentBroker.prepare}. Pass it to {@link AgentBroker.acquire} on hot paths: a cache hit
 * then costs one cache-slot read and a clock read. It works only with the broker that prepared
 * it. `label` and `data` are the preparer's own (e.g. the scopes and the user it was prepared
 * for), kept on the same object so that finding it again reads no other.
 *
 * @example
 * ```ts
 * const prepared = broker.prepare({ flow: 'obo', scopes, subject, assertionHash }, { label: scopes.join(' '), data: user });
 * prepared.data === user; // true
 * ```
 */
export interface PreparedRequest<D = unknown> {
  /** The preparer's name for it. */
  readonly label: string | undefined;
  /** The preparer's data. */
  readonly data: D;
  /** What the cache key was made of (scopes copied and frozen). */
  readonly request: Readonly<BrokerRequest>;
}

/**
 * What {@link Exchange.send} gets: the requesting client and the assertions it sends.
 *
 * @example
 * ```ts
 * const send = ({ msal, claims }: SendContext) => msal.acquireTokenOnBehalfOf({ oboAssertion, scopes: [...scopes], skipCache: true, ...(claims ? { claims } : {}) });
 * ```
 */
export interface SendContext {
  /**
   * The agent identity's MSAL client. Its client assertion is T1, the one in `clientAssertion`:
   * MSAL reads it from the broker during this call (never from a cache, never by a leg-1 request
   * of its own), so requests that take no `clientAssertion` field (on-behalf-of) send it too.
   */
  readonly msal: ConfidentialClientApplication;
  /** T1, the agent's client assertion (already got: its failures never reach `send`). */
  readonly clientAssertion: string;
  /** T2, the agent's instance token, when the exchange asked for it (`withInstanceToken`). */
  readonly instanceToken: string | undefined;
  /** The caller's claims request (a CAE or Conditional Access challenge), if any. */
  readonly claims: string | undefined;
  /**
   * The acquisition's signal (the token store's, shared by every caller waiting for it): for an
   * exchange that makes its own HTTP request with `services.http` instead of an MSAL call.
   */
  readonly signal: AbortSignal;
}

/**
 * One token request of a flow, as {@link AgentBroker.acquire} runs it on a cache miss.
 *
 * @example
 * ```ts
 * const exchange: Exchange = {
 *   send: ({ msal, claims }) => msal.acquireTokenOnBehalfOf({ oboAssertion, scopes: [...scopes], skipCache: true, ...(claims ? { claims } : {}) }),
 *   verify: (issued) => { if (issued.meta.subject !== oid) throw new OAuthError('AGENTID_TOKEN_ENDPOINT', 'another subject'); },
 * };
 * ```
 */
export interface Exchange {
  /** Also get T2, the agent's instance token (the agent-user `user_fic` grant sends it). */
  readonly withInstanceToken?: boolean;
  /** Makes the MSAL call. Runs inside the broker's network context (signal, typed errors, secret scrubbing). */
  send(context: SendContext): Promise<AuthenticationResult | null>;
  /** Checks the issued token before it is cached or returned; throw to discard it. */
  verify?(issued: TokenAcquisition): void;
}

/**
 * Per-call span details of a prepared request (they vary where the request does not).
 *
 * @example
 * ```ts
 * await broker.acquire(prepared, exchange, { signal }, { attributes: { [ATTR.ACTOR_CHAIN]: chain }, links });
 * ```
 */
export interface BrokerCall {
  attributes?: SpanAttributes;
  links?: Link[];
}

/**
 * What a blueprint shares with the packages that build on it: its tenant and client, the
 * retrying HTTP client (timeouts, Retry-After, spans) for calls such as Graph, the `fetch` it was
 * configured with (for JWKS), telemetry, the clock, and the token cache's bounds (memos that
 * follow the cache are sized by them).
 *
 * @example
 * ```ts
 * const { http, clock } = servicesOf(blueprint);
 * const res = await http.request({ url: 'https://graph.microsoft.com/v1.0/me', method: 'GET', headers });
 * ```
 */
export interface BlueprintServices {
  /** The blueprint's tenant. */
  readonly tenantId: string;
  /** The blueprint's application (client) id. */
  readonly clientId: string;
  /** The Entra authority host its tokens come from (e.g. `https://login.microsoftonline.com`). */
  readonly authorityHost: string;
  /** The retrying HTTP client (timeouts, `Retry-After`, spans) the token requests use. */
  readonly http: HttpClient;
  /** The `fetch` the blueprint was configured with (`network.fetch`, else the global one). */
  readonly fetch: typeof fetch;
  /** The blueprint's tracer and logger. */
  readonly telemetry: Telemetry;
  /** The blueprint's clock (the `clock` option). */
  readonly clock: Clock;
  /** The token cache's bounds (`cache.l1`). */
  readonly cache: { readonly maxEntries: number; readonly maxBytes: number };
}

/**
 * The broker of one agent identity, for packages that add flows to it: every token request goes
 * through {@link AgentBroker.acquire}, the one acquisition path (cache, single-flight,
 * refresh-ahead, span, T1, and one retry with a fresh T1 when Entra rejects the cached one).
 *
 * @example
 * ```ts
 * const broker = brokerOf(blueprint.agent(agentId));
 * const token = await broker.acquire({ flow: 'obo', scopes, subject, assertionHash }, { send: ({ msal }) => msal.acquireTokenOnBehalfOf(request) });
 * ```
 */
export interface AgentBroker {
  readonly agent: Agent;
  readonly services: BlueprintServices;
  /**
   * Serves `request` from the cache, or runs `exchange` once for all concurrent callers: T1 (and
   * T2 if asked) first, then `exchange.send`; when Entra rejects T1 (`AGENTID_INVALID_CLIENT`, or
   * AADSTS700024 for the client assertion), once more with a fresh T1. Nothing else is retried
   * here (transport retries are the HTTP client's). An `agentid.<flow>` span records it.
   */
  acquire(
    request: BrokerRequest | PreparedRequest<unknown>,
    exchange: Exchange,
    options?: GetTokenOptions,
    call?: BrokerCall,
  ): Promise<AccessToken>;
  /** Validates `request` and builds its cache key, tags and span attributes once. Throws `TypeError` for a bad part. */
  prepare<D = undefined>(request: BrokerRequest, extra?: { label?: string; data?: D }): PreparedRequest<D>;
  /** Whether `value` came from this broker's `prepare` (only those work with its `acquire`). */
  owns(value: unknown): value is PreparedRequest<unknown>;
  /** The agent identity's MSAL client (its token cache is emptied after every request: the broker's cache is the only one). */
  readonly msal: ConfidentialClientApplication;
  /** T1: the blueprint's exchange token for this agent (leg 1). */
  exchangeToken(options?: GetTokenOptions): Promise<AccessToken>;
  /** T2: the agent's instance token for the exchange audience (leg 2). */
  instanceToken(options?: GetTokenOptions): Promise<AccessToken>;
}
