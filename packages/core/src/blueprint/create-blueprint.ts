import { ConfidentialClientApplication, type INetworkModule } from '@azure/msal-node';
import { attachServices } from '../broker/access.js';
import { createRequester } from '../broker/broker.js';
import type { BlueprintServices } from '../broker/types.js';
import { cacheTags } from '../cache/key.js';
import { createMemo } from '../cache/memo.js';
import type { L2Cache } from '../cache/l2.js';
import type { MemoryCacheOptions } from '../cache/memory-cache.js';
import { createTokenStore, type TokenStoreStats } from '../cache/token-store.js';
import { createAgent, type Agent, type GetTokenOptions } from '../agent/agent.js';
import type { AccessToken } from '../token/access-token.js';
import type { BlueprintCredential } from '../credentials/types.js';
import { ConfigurationError, UnexpectedError } from '../errors/agent-id-error.js';
import { createHttpClient } from '../http/client.js';
import { toMsalNetworkModule } from '../http/msal-network.js';
import type { LifetimePolicyOptions } from '../policy/lifetime-policy.js';
import { createTelemetry, type TelemetryOptions } from '../telemetry/telemetry.js';
import { errorFields, httpAttemptObserver } from '../telemetry/token-events.js';
import { systemClock, type Clock } from '../util/clock.js';
import { containsSecret, createSecretRedactor } from '../util/redact.js';
import { assertNumber, withOptionPath } from '../util/validate.js';
import { msalAuthority, normalizeAuthorityHost, resolveExchangeAudience } from './authority.js';
import type { BlueprintRuntime } from './runtime.js';
import { createTenantPolicy, TENANT_PATTERN, type AllowedTenants } from './tenants.js';

/** Options of {@link createBlueprint}. */
export interface BlueprintOptions {
  /** The blueprint's home tenant (where its application is registered). */
  tenantId: string;
  /**
   * Customer tenants a multi-tenant blueprint serves besides its home tenant: tenant ids, `'*'`
   * for any, or a predicate. `agent(id, { tenantId })`, `getAppToken(scopes, { tenantId })` and
   * `validatorForBlueprint` accept these tenants and no others (`AGENTID_TENANT_NOT_ALLOWED`).
   * Default: the home tenant only. List tenant ids (GUIDs): they are what tokens carry in `tid`.
   */
  allowedTenants?: AllowedTenants;
  /** The blueprint's application (client) id. */
  clientId: string;
  credential: BlueprintCredential;
  /** Default `https://login.microsoftonline.com`. */
  authorityHost?: string;
  /**
   * The token-exchange audience leg 1 asks for (`<audience>/.default`). Default: the one of the
   * authority host's cloud (PROTOCOL.md's table: `api://AzureADTokenExchange`,
   * `api://AzureADTokenExchangeUSGov`, ...). Required for an authority host of no known cloud.
   */
  exchangeAudience?: string;
  cache?: {
    l1?: Partial<MemoryCacheOptions>;
    l2?: L2Cache;
    /**
     * Agent handles (each with its MSAL client) kept by `agent(id)`: at least the `maxAgents` most
     * recently used, at most twice as many. Default 1000 (a blueprint has at most 250 active
     * agent identities per tenant). An evicted handle is recreated on the next `agent(id)`; its
     * tokens stay in the token cache.
     */
    maxAgents?: number;
  };
  policy?: LifetimePolicyOptions;
  /** Tracer and meter providers (default: the global ones) and a logger (default: none). */
  telemetry?: TelemetryOptions;
  network?: {
    /** The fetch used for token requests and JWKS (default: the global one). */
    fetch?: typeof fetch;
    timeoutMs?: number;
    retries?: number;
    maxRetryAfterMs?: number;
  };
  /** Client capabilities sent with every request (e.g. `['cp1']` for CAE). */
  clientCapabilities?: string[];
  clock?: Clock;
}

/** What {@link Blueprint.invalidate} drops. */
export type InvalidateTarget = { agent: string } | { user: string } | { tenant: string } | 'all';

/**
 * Options of {@link Blueprint.agent}.
 *
 * @example
 * ```ts
 * const agent = blueprint.agent(agentId, { tenantId: customerTenantId });
 * ```
 */
export interface AgentOptions {
  /**
   * The agent identity's tenant (agent identities are single-tenant: leg 1 goes there). Default:
   * the blueprint's home tenant. Must be the home tenant or one of `allowedTenants`.
   */
  tenantId?: string;
}

/**
 * Options of {@link Blueprint.getAppToken}.
 *
 * @example
 * ```ts
 * await blueprint.getAppToken(['https://graph.microsoft.com/.default'], { tenantId: customerTenantId });
 * ```
 */
export interface AppTokenOptions extends GetTokenOptions {
  /** The tenant whose blueprint principal the token is for. Default: the home tenant. */
  tenantId?: string;
}

/**
 * A blueprint: the one holder of credentials, and the broker of tokens for its agent identities.
 *
 * @example
 * ```ts
 * const blueprint = createBlueprint({ tenantId, clientId, credential: certificateCredential({ certificate, privateKey }) });
 * const token = await blueprint.agent(agentId).getToken(['api://tools/.default']);
 * ```
 */
export interface Blueprint {
  readonly tenantId: string;
  readonly clientId: string;
  readonly authorityHost: string;
  /** The token-exchange audience leg 1 asks for (configured, or derived from the authority host). */
  readonly exchangeAudience: string;
  /**
   * The agent identity `agentIdentityId` of this blueprint, in the home tenant or in
   * `options.tenantId` (a customer tenant from `allowedTenants`; an agent identity lives in one
   * tenant only, and its tokens, cache entries and spans carry that tenant). Handles are reused
   * while they stay among the `cache.maxAgents` most recently used (default 1000; at most twice as
   * many are kept); an evicted one is recreated and still serves its cached tokens.
   */
  agent(agentIdentityId: string, options?: AgentOptions): Agent;
  /** Whether the blueprint serves `tenantId`: its home tenant or one of `allowedTenants`. */
  allowsTenant(tenantId: string): boolean;
  /**
   * An app-only token of the blueprint itself (plain client credentials, no agent identity): for
   * Microsoft Graph provisioning calls (`https://graph.microsoft.com/.default`) or an app-identity
   * call. Cached like agent tokens. Takes exactly one `<resource>/.default` scope. In a customer
   * tenant (`options.tenantId`), it is the token of the blueprint's principal there.
   */
  getAppToken(scopes: readonly string[], options?: AppTokenOptions): Promise<AccessToken>;
  /**
   * Drops cached tokens of an agent, of a user, of a tenant, or of the whole blueprint (also in a shared L2).
   * Resolves once the shared L2 has recorded it. Rejects with `L2UnavailableError`
   * (`AGENTID_SHARED_CACHE_UNAVAILABLE`, retryable) when the L2 could not be told (Redis down, breaker
   * open): this replica's L1 is dropped all the same and it refuses the shared entries the
   * invalidation covers until it has told the L2, but other replicas may still serve them: retry.
   */
  invalidate(target: InvalidateTarget): Promise<void>;
  /** Cache counters (hits, misses, coalesced, refreshes, L2 hits, size). */
  stats(): TokenStoreStats;
}

/**
 * Creates a {@link Blueprint}. Options are validated up front.
 *
 * @example
 * ```ts
 * const blueprint = createBlueprint({ tenantId, clientId, credential: workloadIdentityCredential() });
 * ```
 */
export function createBlueprint(options: BlueprintOptions): Blueprint {
  if (!options || typeof options !== 'object')
    throw new ConfigurationError('createBlueprint: options are required');
  if (typeof options.tenantId !== 'string' || !TENANT_PATTERN.test(options.tenantId))
    throw new ConfigurationError('createBlueprint: tenantId must be a tenant id or domain');
  if (typeof options.clientId !== 'string' || !TENANT_PATTERN.test(options.clientId))
    throw new ConfigurationError("createBlueprint: clientId must be the blueprint's application id");
  if (!options.credential || typeof options.credential.resolve !== 'function')
    throw new ConfigurationError(
      'createBlueprint: credential must come from one of the *Credential factories',
    );
  const { tenantId, clientId } = options;
  const maxAgents = options.cache?.maxAgents ?? 1000;
  assertNumber('createBlueprint: cache.maxAgents', maxAgents, { min: 1, max: 1_000_000, integer: true });
  const clock = options.clock ?? systemClock;
  const authorityHost = normalizeAuthorityHost(options.authorityHost);
  const exchangeAudience = resolveExchangeAudience(authorityHost, options.exchangeAudience);
  const tenants = createTenantPolicy(tenantId, options.allowedTenants);
  const telemetry = withOptionPath('createBlueprint: telemetry.', () =>
    createTelemetry(options.telemetry ?? {}),
  );
  const http = withOptionPath('createBlueprint: network.', () =>
    createHttpClient({
      ...(options.network ?? {}),
      clock,
      tracer: telemetry.tracer,
      onAttempt: httpAttemptObserver(telemetry),
    }),
  );
  // Throw on exhausted retries: MSAL would otherwise remember the request as throttled.
  // The blueprint's own secrets, kept out of every error its token requests throw.
  const secrets = createSecretRedactor();
  const network = toMsalNetworkModule(http, { exhaustedRetries: 'throw', clock, secrets });
  const lastLogged = new Map<string, { at: number; suppressed: number }>();
  const store = withOptionPath('createBlueprint: ', () =>
    createTokenStore({
      optionPaths: { l1: 'cache.l1.', policy: 'policy.' },
      l1: { maxEntries: 10_000, maxBytes: 64 * 1024 * 1024, ...(options.cache?.l1 ?? {}), clock },
      ...(options.cache?.l2 ? { l2: options.cache.l2 } : {}),
      ...(options.policy ? { policy: options.policy } : {}),
      clock,
      onEvent: (e) => {
        if (!e.type.endsWith('error')) return;
        // While an L2 is down, every miss reports an l2-error: log the first, then one summary
        // line per 30 s with the count, not one line per miss.
        const now = clock.now();
        const last = lastLogged.get(e.type);
        if (last !== undefined && now - last.at < 30_000) {
          last.suppressed += 1;
          return;
        }
        const suppressed = last?.suppressed ?? 0;
        lastLogged.set(e.type, { at: now, suppressed: 0 });
        telemetry.logger.warn(
          `agentid token store: ${e.type}${'operation' in e ? ` (${e.operation})` : ''}${suppressed > 0 ? `; ${suppressed} more since the last report` : ''}`,
          {
            event: e.type,
            key: e.key,
            ...('operation' in e ? { operation: e.operation } : {}),
            ...('mode' in e ? { mode: e.mode } : {}),
            suppressed,
            ...('error' in e ? errorFields(e.error) : {}),
          },
        );
      },
    }),
  );
  const system = { networkClient: network as INetworkModule, disableInternalRetries: true };
  const caps = options.clientCapabilities ? { clientCapabilities: options.clientCapabilities } : {};
  let credential = options.credential.resolve({
    exchangeAudience,
    network,
    clock,
    warn: (m) => telemetry.logger.warn(m),
  });
  if ('clientSecret' in credential) secrets.add(credential.clientSecret);
  if ('clientAssertion' in credential) {
    // JWT assertions are redacted by their shape; an opaque one is known only by its value.
    const assertion = credential.clientAssertion;
    credential = {
      clientAssertion: async (config) => {
        const value = await assertion(config);
        if (typeof value === 'string' && !containsSecret(value)) secrets.addTransient(value);
        return value;
      },
    };
  }
  // An agent's client sends, as its assertion, the T1 of the request in flight (the broker sets it
  // in the network context before every call): never one MSAL would fetch on its own.
  const agentAssertion = () => {
    const t1 = network.clientAssertion();
    return t1 !== undefined
      ? Promise.resolve(t1)
      : Promise.reject(
          new UnexpectedError(
            "An agent identity's MSAL client was used outside the broker (no T1 in flight)",
          ),
        );
  };
  // One runtime per tenant served: its tenant is in every cache key, tag and span attribute of its
  // requesters, and its MSAL clients send every request (leg 1 first) to that tenant.
  const runtimeOf = (tenant: string): BlueprintRuntime => {
    const auth = msalAuthority(authorityHost, tenant);
    return {
      tenantId: tenant,
      clientId,
      authorityHost,
      exchangeAudience,
      store,
      network,
      http,
      fetch: options.network?.fetch ?? globalThis.fetch,
      telemetry,
      clock,
      blueprintApp: new ConfidentialClientApplication({
        auth: { clientId, ...auth, ...caps, ...credential },
        system,
      }),
      newAgentApp: (agentId) =>
        new ConfidentialClientApplication({
          auth: { clientId: agentId, ...auth, ...caps, clientAssertion: agentAssertion },
          system,
        }),
    };
  };
  const runtime = runtimeOf(tenantId);
  const customerRuntimes = createMemo<string, BlueprintRuntime>({ maxEntries: maxAgents });
  const runtimeFor = (tenant: string): BlueprintRuntime => {
    if (tenant === tenantId) return runtime;
    let r = customerRuntimes.get(tenant);
    if (r === undefined) customerRuntimes.set(tenant, (r = runtimeOf(tenant)));
    return r;
  };
  const services: BlueprintServices = Object.freeze({
    tenantId,
    clientId,
    authorityHost,
    http,
    fetch: runtime.fetch,
    telemetry,
    clock,
    cache: Object.freeze({ maxEntries: store.maxEntries, maxBytes: store.maxBytes }),
  });
  // Bounded: `agent(id)` with ever-new ids (ephemeral agents, ids from requests) must not keep an
  // Agent and an MSAL client for each one forever. An agent's MSAL client goes with its handle.
  const agents = createMemo<string, Agent>({ maxEntries: maxAgents });
  // App tokens: the same acquisition path, as the blueprint's own client (one per tenant).
  type Requester = ReturnType<typeof createRequester>;
  const self = createRequester(runtime, {});
  const selves = createMemo<string, Requester>({ maxEntries: maxAgents });
  const appTokens = createMemo<string, ReturnType<Requester['prepare']>>({ maxEntries: store.maxEntries });
  const getAppToken = (scopes: readonly string[], getOptions: AppTokenOptions = {}): Promise<AccessToken> => {
    const scope: unknown = Array.isArray(scopes) && scopes.length === 1 ? scopes[0] : undefined;
    const tenant =
      getOptions.tenantId === undefined ? tenantId : tenants.check(getOptions.tenantId, 'getAppToken');
    let requester = self;
    if (tenant !== tenantId) {
      requester = selves.get(tenant) ?? createRequester(runtimeFor(tenant), {});
      selves.set(tenant, requester);
    }
    const memoKey = tenant === tenantId ? scope : `${tenant}\u0000${String(scope)}`;
    let prepared = typeof memoKey === 'string' ? appTokens.get(memoKey) : undefined;
    if (prepared !== undefined && !requester.owns(prepared)) prepared = undefined;
    if (prepared === undefined) {
      if (typeof scope !== 'string' || !/\/\.default$/i.test(scope)) {
        throw new ConfigurationError(
          `getAppToken: takes exactly one scope of the form '<resource>/.default', got ${JSON.stringify(scopes)}`,
        );
      }
      appTokens.set(memoKey as string, (prepared = requester.prepare({ flow: 'app', scopes: [scope] })));
    }
    const resource = prepared.request.scopes;
    return requester.acquireAsBlueprint(
      prepared,
      {
        send: ({ msal, claims }) =>
          msal.acquireTokenByClientCredential({
            scopes: [...resource],
            skipCache: true,
            ...(claims ? { claims } : {}),
          }),
      },
      getOptions,
    );
  };
  const blueprint: Blueprint & { toString(): string } = {
    tenantId,
    clientId,
    authorityHost,
    exchangeAudience,
    getAppToken,
    allowsTenant: (t: string) => typeof t === 'string' && tenants.allows(t),
    agent(id: string, agentOptions?: AgentOptions) {
      const asked = agentOptions?.tenantId;
      // The home tenant's handles keep their plain id as memo key (the common, single-tenant case).
      const tenant = asked === undefined ? tenantId : tenants.check(asked, 'agent');
      const key = tenant === tenantId ? id : `${tenant}\u0000${id}`;
      let a = agents.get(key);
      if (!a) {
        a = createAgent(runtimeFor(tenant), services, id);
        agents.set(key, a);
      }
      return a;
    },
    invalidate(target: InvalidateTarget) {
      if (target === 'all') {
        // L1 at once; in a shared L2, every entry of this blueprint (other blueprints may share it).
        return store.invalidate('all').then(() => store.invalidate({ tag: cacheTags.blueprint(clientId) }));
      }
      if (target && 'agent' in target) return store.invalidate({ tag: cacheTags.agent(target.agent) });
      if (target && 'user' in target) return store.invalidate({ tag: cacheTags.user(target.user) });
      if (target && 'tenant' in target && typeof target.tenant === 'string')
        return store.invalidate({ tag: cacheTags.tenant(target.tenant) });
      throw new ConfigurationError("invalidate: target must be 'all', { agent }, { user } or { tenant }");
    },
    stats: () => store.stats(),
    toString: () => `Blueprint(${clientId}, tenant=${tenantId})`,
  };
  return Object.freeze(attachServices(blueprint, services));
}
