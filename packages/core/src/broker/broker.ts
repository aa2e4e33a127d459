import type { AuthenticationResult, ConfidentialClientApplication } from '@azure/msal-node';
import type { Attributes, Link } from '@opentelemetry/api';
import type { GetTokenOptions } from '../agent/agent.js';
import type { BlueprintRuntime } from '../blueprint/runtime.js';
import { cacheTags, tokenCacheKey } from '../cache/key.js';
import { createMemo } from '../cache/memo.js';
import { CacheSlot } from '../cache/store-entry.js';
import type { TokenAcquisition } from '../cache/token-store.js';
import { ConfigurationError, isAgentIdError } from '../errors/agent-id-error.js';
import { ATTR } from '../telemetry/attributes.js';
import type { FlowLookups } from '../telemetry/metrics.js';
import { spanAttributes } from '../telemetry/telemetry.js';
import { clientAssertionRetry, tokenRequestDone } from '../telemetry/token-events.js';
import type { AccessToken } from '../token/access-token.js';
import { summarizeClaims } from '../token/claims.js';
import { decodeJwtClaims } from '../token/jwt.js';
import { refusalHandler } from './refusal.js';
import type { AgentBroker, BrokerCall, BrokerRequest, Exchange, PreparedRequest } from './types.js';

const HIT = Object.freeze({ [ATTR.CACHE_OUTCOME]: 'hit' });

/**
 * The one rule for retrying a token request: only when Entra rejected the client assertion the
 * agent sent (T1), and then once, with a fresh T1. `invalid_client` says the client's credential
 * was refused; AADSTS700024 says the client assertion is outside its validity window. A user's
 * expired assertion (AADSTS500133), a bad grant and everything else are the caller's to handle.
 */
export function clientAssertionRejected(error: unknown): boolean {
  if (!isAgentIdError(error)) return false;
  return (
    error.code === 'AGENTID_INVALID_CLIENT' ||
    (error.code === 'AGENTID_ASSERTION_EXPIRED' && error.aadsts === 700024)
  );
}

/**
 * Converts an MSAL result into what the token store caches. MSAL stamps `expiresOn`/`refreshOn`
 * with the real clock (`now`) from the answer's `expires_in`, so they are turned back into
 * seconds relative to the real clock; the store applies them on its own (possibly injected)
 * clock. A token's own `exp` wins when it is earlier than `expires_in` says (PROTOCOL.md); it is
 * compared with `clockNow`, the store's clock.
 */
export function toAcquisition(
  result: AuthenticationResult | null,
  scopes: readonly string[],
  now: number = Date.now(),
  clockNow: number = now,
): TokenAcquisition {
  if (!result?.accessToken) throw new ConfigurationError('MSAL returned no access token');
  const claims = summarizeClaims(decodeJwtClaims(result.accessToken));
  const fromExpiresIn = result.expiresOn ? (result.expiresOn.getTime() - now) / 1000 : undefined;
  const fromExp = claims.exp !== undefined ? claims.exp - clockNow / 1000 : undefined;
  const expiresIn =
    fromExpiresIn === undefined
      ? (fromExp ?? -now / 1000)
      : fromExp === undefined
        ? fromExpiresIn
        : Math.min(fromExpiresIn, fromExp);
  return {
    token: result.accessToken,
    expiresInSec: Math.floor(expiresIn),
    ...(result.refreshOn
      ? { refreshInSec: Math.max(0, Math.floor((result.refreshOn.getTime() - now) / 1000)) }
      : {}),
    meta: {
      scopes: [...scopes],
      ...(claims.oid ? { subject: claims.oid } : {}),
      ...(claims.azp ? { actor: claims.azp } : {}),
      ...(claims.tid ? { tenantId: claims.tid } : {}),
      claims,
    },
  };
}

/**
 * A prepared request: its cache slot (the store's hot-path state: the key, and the entry last
 * found for it) and everything a hit reads, built once. Only this module creates them.
 */
class Prepared<D> extends CacheSlot implements PreparedRequest<D> {
  // Declared in the order a hit reads them (after the slot's own fields).
  readonly owner: object;
  readonly label: string | undefined;
  readonly spanName: string;
  readonly attributes: Readonly<Attributes>;
  /** The lookup counts of the request's flow (a hit increments one number, no attribute object). */
  readonly lookups: FlowLookups;
  /** The request's links, kept here too: a hit reads this object only, never `request`. */
  readonly links: readonly Link[] | undefined;
  readonly data: D;
  readonly request: Readonly<BrokerRequest>;
  readonly tags: readonly string[];

  constructor(
    owner: object,
    request: Readonly<BrokerRequest>,
    key: string,
    attributes: Readonly<Attributes>,
    tags: readonly string[],
    label: string | undefined,
    data: D,
    lookups: FlowLookups,
  ) {
    super(key);
    this.owner = owner;
    this.label = label;
    this.spanName = `agentid.${request.flow}`;
    this.attributes = attributes;
    this.lookups = lookups;
    this.links = request.links;
    this.data = data;
    this.request = request;
    this.tags = tags;
  }
}

/** Who a requester's requests are for: an agent identity, or the blueprint itself (app tokens). */
export type RequesterIdentity = { readonly agentId: string } | { readonly agentId?: undefined };

/** Whose client makes a request: the agent identity's (T1 as its assertion), or the blueprint's own. */
type Client = 'agent' | 'blueprint';

/**
 * The token requests of one agent identity (or of the blueprint itself): cache keys, tags and
 * span attributes, prepared requests, and the one acquisition path: what an agent's broker
 * offers, plus the blueprint's own path. The blueprint's requester has no T1 or T2 (its
 * `exchangeToken` and `instanceToken` reject).
 */
export interface Requester extends Omit<AgentBroker, 'agent' | 'services'> {
  /** The same path as the blueprint's own client (leg 1, app tokens): no T1, nothing to retry. */
  acquireAsBlueprint(
    request: BrokerRequest | PreparedRequest<unknown>,
    exchange: Exchange,
    options?: GetTokenOptions,
  ): Promise<AccessToken>;
}

/**
 * Creates the requester of an agent identity (`{ agentId }`) or of the blueprint (`{}`). On a
 * miss, `acquire` gets the client's assertions (for an agent: T1 from leg 1, and T2 if the
 * exchange asks), then sends the request through the blueprint's network context, clears MSAL's
 * cache (MSAL keeps every token it receives, even with `skipCache`), checks the result, and
 * retries once with fresh assertions under {@link clientAssertionRejected}. Assertions are got
 * before the MSAL call, never by MSAL's callback inside it: a refused blueprint credential (leg 1
 * `invalid_client`) is then thrown as it is, never mistaken for a rejected T1 and sent twice.
 */
export function createRequester(runtime: BlueprintRuntime, identity: RequesterIdentity): Requester {
  const { tenantId, clientId: blueprintId, store, telemetry, network, clock } = runtime;
  const agentId = identity.agentId;
  const baseTags = Object.freeze(
    agentId !== undefined
      ? [cacheTags.agent(agentId), cacheTags.blueprint(blueprintId), cacheTags.tenant(tenantId)]
      : [cacheTags.blueprint(blueprintId), cacheTags.tenant(tenantId), cacheTags.client(blueprintId)],
  );
  const baseAttributes = (flow: string) =>
    agentId !== undefined
      ? {
          [ATTR.BLUEPRINT_ID]: blueprintId,
          [ATTR.AGENT_ID]: agentId,
          [ATTR.GEN_AI_AGENT_ID]: agentId,
          [ATTR.TENANT_ID]: tenantId,
          [ATTR.FLOW]: flow,
        }
      : { [ATTR.BLUEPRINT_ID]: blueprintId, [ATTR.TENANT_ID]: tenantId, [ATTR.FLOW]: flow };
  // Proves that a prepared request came from this requester's prepare().
  const owner = {};
  const owns = (value: unknown): value is Prepared<unknown> =>
    value instanceof Prepared && value.owner === owner;

  const buildKey = (request: Readonly<BrokerRequest>, claims: string | undefined): string =>
    tokenCacheKey({
      tenantId,
      clientId: request.clientId ?? agentId ?? blueprintId,
      flow: request.flow,
      scopes: request.scopes,
      ...(request.subject ? { subject: request.subject } : {}),
      ...(request.assertionHash ? { assertionHash: request.assertionHash } : {}),
      ...(claims ? { claims } : {}),
      ...(agentId !== undefined
        ? { extra: { ...(request.extra ?? {}), fmi: agentId } }
        : request.extra
          ? { extra: request.extra }
          : {}),
    });
  // Building a key validates and normalises every part (about 1 µs); plain requests look it up
  // by their raw parts instead, in a memo bounded like the token cache (a smaller one would miss
  // on every hit once the cache outgrows it).
  const keys = createMemo<string, string>({
    maxEntries: store.maxEntries,
    maxBytes: store.maxBytes,
    sizeOf: (raw, key) => raw.length + key.length + 64,
  });
  const cacheKeyOf = (request: BrokerRequest, claims: string | undefined): string => {
    const { scopes } = request;
    const plainParts =
      !claims &&
      !request.extra &&
      !request.subject?.includes('\u0000') &&
      Array.isArray(scopes) &&
      scopes.every((s) => typeof s === 'string' && !s.includes('\u0000'));
    if (!plainParts) return buildKey(request, claims);
    const raw = `${request.flow}\u0000${request.clientId ?? ''}\u0000${request.subject ?? ''}\u0000${request.assertionHash ?? ''}\u0000${scopes.join('\u0000')}`;
    let key = keys.get(raw);
    if (key === undefined) keys.set(raw, (key = buildKey(request, undefined)));
    return key;
  };

  // Prepared requests that share their attributes or tags objects (one user's requests to
  // several tools) share the merged ones too.
  const mergedAttributes = new WeakMap<object, { flow: string; attributes: Readonly<Attributes> }>();
  const mergedTags = new WeakMap<readonly string[], readonly string[]>();
  const prepare = <D = undefined>(
    request: BrokerRequest,
    extra?: { label?: string; data?: D },
  ): PreparedRequest<D> => {
    if (request === null || typeof request !== 'object' || !Array.isArray(request.scopes))
      throw new TypeError('prepare: request must be a BrokerRequest with scopes');
    // Kept: what the key is made of and the links; attributes and tags live merged in the
    // prepared request. (One literal, so that every prepared request shares one hidden class.)
    const frozen: Readonly<BrokerRequest> = Object.freeze({
      flow: request.flow,
      scopes: Object.isFrozen(request.scopes) ? request.scopes : Object.freeze([...request.scopes]),
      clientId: request.clientId,
      subject: request.subject,
      assertionHash: request.assertionHash,
      extra: request.extra,
      links: request.links,
    });
    const key = buildKey(frozen, undefined);
    let tags = baseTags;
    if (request.tags?.length) {
      tags = mergedTags.get(request.tags) ?? Object.freeze([...baseTags, ...request.tags]);
      mergedTags.set(request.tags, tags);
    }
    const known = request.attributes ? mergedAttributes.get(request.attributes) : undefined;
    const attributes =
      known?.flow === request.flow
        ? known.attributes
        : spanAttributes({ ...baseAttributes(request.flow), ...(request.attributes ?? {}) });
    if (request.attributes && known?.attributes !== attributes)
      mergedAttributes.set(request.attributes, { flow: request.flow, attributes });
    return new Prepared<D>(
      owner,
      frozen,
      key,
      attributes,
      tags,
      extra?.label,
      extra?.data as D,
      telemetry.metrics.lookupsOf(request.flow),
    );
  };

  // The agent's client sends T1 as its assertion, read from the network context of the request
  // being made (set by `send` below), so that MSAL never fetches one itself.
  const agentApp = agentId !== undefined ? runtime.newAgentApp(agentId) : undefined;
  const appOf = (as: Client): ConfidentialClientApplication =>
    as === 'agent' && agentApp !== undefined ? agentApp : runtime.blueprintApp;

  // T1 and T2 of this agent, each a cached request of its own (leg 1 as the blueprint, leg 2 as the agent).
  const exchangeScopes = Object.freeze([`${runtime.exchangeAudience}/.default`]);
  const exchangeRequest =
    agentId !== undefined
      ? prepare({ flow: 'exchange', clientId: blueprintId, scopes: exchangeScopes })
      : undefined;
  const instanceRequest =
    agentId !== undefined
      ? prepare({ flow: 'instance', clientId: agentId, scopes: exchangeScopes })
      : undefined;
  const noAgent = () =>
    Promise.reject(new TypeError('the blueprint itself has no exchange or instance token'));
  const leg1: Exchange = {
    send: ({ msal }) =>
      msal.acquireTokenByClientCredential({ scopes: [...exchangeScopes], fmiPath: agentId, skipCache: true }),
  };
  const leg2: Exchange = {
    send: ({ msal, clientAssertion }) =>
      msal.acquireTokenByClientCredential({ scopes: [...exchangeScopes], skipCache: true, clientAssertion }),
  };
  const exchangeToken = (options: GetTokenOptions = {}): Promise<AccessToken> =>
    exchangeRequest === undefined ? noAgent() : acquireWith('blueprint', exchangeRequest, leg1, options);
  const instanceToken = (options: GetTokenOptions = {}): Promise<AccessToken> =>
    instanceRequest === undefined ? noAgent() : acquireWith('agent', instanceRequest, leg2, options);

  /** One MSAL request with the given assertions, in the network context; MSAL's cache emptied after it. */
  const sendOnce = (
    as: Client,
    flow: string,
    exchange: Exchange,
    scopes: readonly string[],
    clientAssertion: string,
    instance: string | undefined,
    claims: string | undefined,
    signal: AbortSignal,
  ) => {
    const msal = appOf(as);
    const started = performance.now();
    return network
      .run({ signal, ...(as === 'agent' ? { clientAssertion } : {}) }, async () => {
        let result: AuthenticationResult | null;
        try {
          result = await exchange.send({ msal, clientAssertion, instanceToken: instance, claims, signal });
        } finally {
          msal.clearCache();
        }
        const issued = toAcquisition(result, scopes, Date.now(), clock.now());
        exchange.verify?.(issued);
        return issued;
      })
      .then(
        (issued) => {
          tokenRequestDone(telemetry, flow, started);
          return issued;
        },
        (error: unknown) => {
          // Counted once typed (the network context turns MSAL's failures into ours).
          tokenRequestDone(telemetry, flow, started, error);
          throw error;
        },
      );
  };

  /** What `acquire` runs on a miss: assertions first, then the request, retried once under the one rule. */
  const fill = async (
    as: Client,
    flow: string,
    exchange: Exchange,
    scopes: readonly string[],
    claims: string | undefined,
    signal: AbortSignal,
  ): Promise<TokenAcquisition> => {
    for (let fresh = false; ; fresh = true) {
      // Failures to get the assertions are thrown as they are: never retried as "T1 rejected".
      const asAgent = as === 'agent' && agentId !== undefined;
      const clientAssertion = asAgent ? (await exchangeToken({ forceRefresh: fresh, signal })).token : '';
      const instance =
        asAgent && exchange.withInstanceToken
          ? (await instanceToken({ forceRefresh: fresh, signal })).token
          : undefined;
      try {
        return await sendOnce(as, flow, exchange, scopes, clientAssertion, instance, claims, signal);
      } catch (error) {
        if (fresh || !asAgent || !clientAssertionRejected(error)) throw error;
        clientAssertionRetry(telemetry, flow, error);
      }
    }
  };

  const refused = refusalHandler(store, agentId ?? blueprintId);

  function acquireWith(
    as: Client,
    request: BrokerRequest | PreparedRequest<unknown>,
    exchange: Exchange,
    options: GetTokenOptions = {},
    call?: BrokerCall,
  ): Promise<AccessToken> {
    const { claims } = options;
    const force = !!(options.forceRefresh || claims);
    const prepared = request instanceof Prepared ? (request as Prepared<unknown>) : undefined;
    if (prepared !== undefined && prepared.owner !== owner)
      return Promise.reject(new TypeError('acquire: the request was prepared by another agent'));
    const plain = prepared === undefined ? (request as BrokerRequest) : undefined;
    const name = plain !== undefined ? `agentid.${plain.flow}` : (prepared as Prepared<unknown>).spanName;
    const attributesOf = () =>
      plain !== undefined
        ? spanAttributes({ ...baseAttributes(plain.flow), ...(plain.attributes ?? {}) })
        : (prepared as Prepared<unknown>).attributes;
    const requestLinks =
      call?.links ?? (plain !== undefined ? plain.links : (prepared as Prepared<unknown>).links);
    const links = requestLinks?.length ? { links: [...requestLinks] } : undefined;
    // A fresh hit: one L1 lookup (or slot read), one clock read, a span recorded at once (no context switch).
    if (!force) {
      try {
        const token = store.getFresh(
          plain !== undefined ? cacheKeyOf(plain, undefined) : (prepared as Prepared<unknown>),
        );
        if (token !== undefined) {
          (prepared !== undefined ? prepared.lookups : telemetry.metrics.lookupsOf(plain!.flow)).hit++;
          telemetry.recordSpan(
            name,
            call?.attributes ? { ...attributesOf(), ...spanAttributes(call.attributes) } : attributesOf(),
            HIT,
            links,
          );
          return token;
        }
      } catch {
        // A bad part of the request: the span below records the error.
      }
    }
    return telemetry.withSpan(
      name,
      { ...attributesOf(), ...(call?.attributes ?? {}) },
      async (span) => {
        // A prepared request is its own cache slot, unless claims make another key.
        const target =
          plain !== undefined
            ? cacheKeyOf(plain, claims)
            : claims
              ? buildKey((prepared as Prepared<unknown>).request, claims)
              : (prepared as Prepared<unknown>);
        const tags =
          plain !== undefined
            ? plain.tags
              ? [...baseTags, ...plain.tags]
              : baseTags
            : (prepared as Prepared<unknown>).tags;
        const scopes = plain !== undefined ? plain.scopes : (prepared as Prepared<unknown>).request.scopes;
        const flow = plain !== undefined ? plain.flow : (prepared as Prepared<unknown>).request.flow;
        const filled = (signal: AbortSignal) =>
          fill(as, flow, exchange, scopes, claims, signal).catch((e: unknown) =>
            refused(e, target, flow, scopes),
          );
        const result = await store.get(target, filled, {
          forceRefresh: force,
          ...(options.signal ? { signal: options.signal } : {}),
          tags,
        });
        telemetry.metrics.lookup(
          prepared !== undefined ? prepared.lookups : telemetry.metrics.lookupsOf(flow),
          result.outcome,
        );
        span.setAttribute(ATTR.CACHE_OUTCOME, result.outcome);
        return result.token;
      },
      links,
    );
  }

  return {
    acquire: (request, exchange, options, call) => acquireWith('agent', request, exchange, options, call),
    acquireAsBlueprint: (request, exchange, options) => acquireWith('blueprint', request, exchange, options),
    prepare,
    owns,
    msal: appOf('agent'),
    exchangeToken,
    instanceToken,
  };
}
