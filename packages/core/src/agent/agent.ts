import type { AuthenticationResult, ConfidentialClientApplication } from '@azure/msal-node';
import { cacheTags, tokenCacheKey } from '../cache/key.js';
import { createMemo } from '../cache/memo.js';
import type { Acquire, TokenAcquisition } from '../cache/token-store.js';
import { ConfigurationError, isAgentIdError } from '../errors/agent-id-error.js';
import type { Attributes } from '@opentelemetry/api';
import { ATTR } from '../telemetry/attributes.js';
import { spanAttributes } from '../telemetry/telemetry.js';
import type { AccessToken } from '../token/access-token.js';
import { summarizeClaims } from '../token/claims.js';
import { decodeJwtClaims } from '../token/jwt.js';
import type { BlueprintRuntime } from '../blueprint/runtime.js';
import { type BrokerCall, PreparedRequest, registerAgentBroker, type BrokerRequest } from './broker.js';

const HIT = Object.freeze({ [ATTR.CACHE_OUTCOME]: 'hit' });

/** Options of one token request. */
export interface GetTokenOptions {
  /** Skip the cache (still coalesced with concurrent requests). */
  forceRefresh?: boolean;
  /** A claims request, e.g. from a CAE `insufficient_claims` challenge: skips the cache. */
  claims?: string;
  signal?: AbortSignal;
}

/**
 * One agent identity of a blueprint. Tokens come from the broker's cache, single-flight and
 * refresh-ahead; legs 1 and 2 go through MSAL Node.
 *
 * @example
 * ```ts
 * const agent = blueprint.agent(agentId);
 * const t = await agent.getToken(['https://graph.microsoft.com/.default']);
 * ```
 */
export interface Agent {
  readonly id: string;
  readonly blueprintId: string;
  readonly tenantId: string;
  /** An autonomous (app-only) token for one resource: `['<resource>/.default']`. */
  getToken(scopes: readonly string[], options?: GetTokenOptions): Promise<AccessToken>;
  /** T1: the blueprint's exchange token for this agent (leg 1). For sibling packages. */
  getExchangeToken(options?: GetTokenOptions): Promise<AccessToken>;
  /** T2: the agent's instance token for the exchange audience (agent-user flow). */
  getInstanceToken(options?: GetTokenOptions): Promise<AccessToken>;
  /** The MSAL client of this agent identity, its T1 as credential (for sibling packages). */
  readonly msal: ConfidentialClientApplication;
}

/** Marks a failure of leg 2 itself (as opposed to getting T1). */
class Leg2Failure {
  inner: unknown;
}

const GUIDISH = /^[0-9a-z][0-9a-z-]{2,63}$/i;

/**
 * Converts an MSAL result into what the token store caches. MSAL stamps `expiresOn`/`refreshOn`
 * with the real clock (`now`), from the answer's `expires_in`, so they are turned back into
 * relative seconds against the real clock; the store then applies them on its own (possibly
 * injected) clock. A token's own `exp` wins when it is earlier than `expires_in` says (PROTOCOL.md):
 * it is compared with `clockNow`, the store's clock (default `now`), and the earlier of the two is kept.
 *
 * @example
 * ```ts
 * const acquisition = toAcquisition(await msal.acquireTokenByClientCredential({ scopes, skipCache: true }), scopes, Date.now(), clock.now());
 * ```
 */
export function toAcquisition(r: AuthenticationResult | null, scopes: readonly string[], now: number = Date.now(), clockNow: number = now): TokenAcquisition {
  if (!r?.accessToken) throw new ConfigurationError('MSAL returned no access token');
  const claims = summarizeClaims(decodeJwtClaims(r.accessToken));
  const fromExpiresIn = r.expiresOn ? (r.expiresOn.getTime() - now) / 1000 : undefined;
  const fromExp = claims.exp !== undefined ? claims.exp - clockNow / 1000 : undefined;
  const expiresIn = fromExpiresIn === undefined ? (fromExp ?? -now / 1000) : fromExp === undefined ? fromExpiresIn : Math.min(fromExpiresIn, fromExp);
  return {
    token: r.accessToken,
    expiresInSec: Math.floor(expiresIn),
    ...(r.refreshOn ? { refreshInSec: Math.max(0, Math.floor((r.refreshOn.getTime() - now) / 1000)) } : {}),
    meta: { scopes: [...scopes], ...(claims.oid ? { subject: claims.oid } : {}), ...(claims.azp ? { actor: claims.azp } : {}), ...(claims.tid ? { tenantId: claims.tid } : {}), claims },
  };
}

function checkScopes(scopes: readonly string[]): void {
  if (!Array.isArray(scopes) || scopes.length !== 1 || typeof scopes[0] !== 'string' || !/\/\.default$/i.test(scopes[0])) {
    throw new ConfigurationError(`getToken: an autonomous agent token takes exactly one scope of the form '<resource>/.default', got ${JSON.stringify(scopes)}`);
  }
}

/** Creates the agent handle; called by `blueprint.agent(id)`. */
export function createAgent(rt: BlueprintRuntime, id: string): Agent {
  if (typeof id !== 'string' || !GUIDISH.test(id)) throw new ConfigurationError(`agent: agentIdentityId must be the agent identity's client id, got '${String(id)}'`);
  const { tenantId, clientId: blueprintId } = rt;
  const exchangeScopes = Object.freeze([`${rt.exchangeAudience}/.default`]);
  const tags = Object.freeze([cacheTags.agent(id), cacheTags.blueprint(blueprintId), cacheTags.tenant(tenantId)]);
  const span = (flow: string) => ({ [ATTR.BLUEPRINT_ID]: blueprintId, [ATTR.AGENT_ID]: id, [ATTR.GEN_AI_AGENT_ID]: id, [ATTR.TENANT_ID]: tenantId, [ATTR.FLOW]: flow });
  // Proves that a PreparedRequest came from this agent's prepare().
  const owner = {};

  const buildKey = (req: Readonly<BrokerRequest>, claims: string | undefined): string =>
    tokenCacheKey({
      tenantId,
      clientId: req.clientId ?? id,
      flow: req.flow,
      scopes: req.scopes,
      ...(req.subject ? { subject: req.subject } : {}),
      ...(req.assertionHash ? { assertionHash: req.assertionHash } : {}),
      ...(claims ? { claims } : {}),
      extra: { ...(req.extra ?? {}), fmi: id },
    });
  // Building a key validates and normalises every part (about 1 µs); plain requests look it up
  // by their raw parts instead, in a memo bounded like the token cache (a smaller one would miss
  // on every hit once the cache outgrows it).
  const keys = createMemo<string, string>({ maxEntries: rt.store.maxEntries, maxBytes: rt.store.maxBytes, sizeOf: (raw, key) => raw.length + key.length + 64 });
  const cacheKeyOf = (req: BrokerRequest, claims: string | undefined): string => {
    if (claims || req.extra || req.subject?.includes('\u0000') || !Array.isArray(req.scopes) || req.scopes.some((x) => typeof x !== 'string' || x.includes('\u0000'))) return buildKey(req, claims);
    const raw = `${req.flow}\u0000${req.clientId ?? ''}\u0000${req.subject ?? ''}\u0000${req.assertionHash ?? ''}\u0000${req.scopes.join('\u0000')}`;
    let key = keys.get(raw);
    if (key === undefined) keys.set(raw, (key = buildKey(req, undefined)));
    return key;
  };
  // Prepared requests that share their attributes or tags objects (one user's requests to
  // several tools) share the merged ones too.
  const mergedAttributes = new WeakMap<object, { flow: string; attributes: Readonly<Attributes> }>();
  const mergedTags = new WeakMap<readonly string[], readonly string[]>();
  const prepare = <D = undefined>(req: BrokerRequest, extra?: { label?: string; data?: D }): PreparedRequest<D> => {
    if (req === null || typeof req !== 'object' || !Array.isArray(req.scopes)) throw new TypeError('prepare: request must be a BrokerRequest with scopes');
    // Kept: what the key is made of (claims make another key) and the links; attributes and tags
    // live merged in the prepared request.
    // (One literal, so that every prepared request shares one hidden class.)
    const frozen: Readonly<BrokerRequest> = Object.freeze({
      flow: req.flow,
      scopes: Object.isFrozen(req.scopes) ? req.scopes : Object.freeze([...req.scopes]),
      clientId: req.clientId,
      subject: req.subject,
      assertionHash: req.assertionHash,
      extra: req.extra,
      links: req.links,
    });
    const key = buildKey(frozen, undefined);
    let allTags = tags;
    if (req.tags?.length) {
      allTags = mergedTags.get(req.tags) ?? Object.freeze([...tags, ...req.tags]);
      mergedTags.set(req.tags, allTags);
    }
    const known = req.attributes ? mergedAttributes.get(req.attributes) : undefined;
    const attributes = known?.flow === req.flow ? known.attributes : spanAttributes({ ...span(req.flow), ...(req.attributes ?? {}) });
    if (req.attributes && known?.attributes !== attributes) mergedAttributes.set(req.attributes, { flow: req.flow, attributes });
    return new PreparedRequest<D>(owner, frozen, key, attributes, allTags, extra?.label, extra?.data as D);
  };

  function brokerGet(req: BrokerRequest | PreparedRequest<unknown>, acquire: Acquire, o: GetTokenOptions = {}, call?: BrokerCall): Promise<AccessToken> {
    const claims = o.claims;
    const force = !!(o.forceRefresh || claims);
    const prepared = req instanceof PreparedRequest ? req : undefined;
    if (prepared !== undefined && !PreparedRequest.by(owner, prepared)) return Promise.reject(new TypeError('broker.get: the request was prepared by another agent'));
    const plain = prepared === undefined ? (req as BrokerRequest) : undefined;
    const name = plain !== undefined ? `agentid.${plain.flow}` : (prepared as PreparedRequest<unknown>).spanName;
    const attributesOf = () => (plain !== undefined ? spanAttributes({ ...span(plain.flow), ...(plain.attributes ?? {}) }) : (prepared as PreparedRequest<unknown>).attributes);
    const requestLinks = call?.links ?? (plain !== undefined ? plain.links : (prepared as PreparedRequest<unknown>).links);
    const links = requestLinks?.length ? { links: [...requestLinks] } : undefined;
    // A fresh hit: one L1 lookup, one clock read, a span recorded at once (no context switch).
    if (!force) {
      try {
        const token = rt.store.getFresh(plain !== undefined ? cacheKeyOf(plain, undefined) : (prepared as PreparedRequest<unknown>));
        if (token !== undefined) {
          rt.telemetry.recordSpan(name, call?.attributes ? { ...attributesOf(), ...spanAttributes(call.attributes) } : attributesOf(), HIT, links);
          return token;
        }
      } catch {
        // A bad part of the request: the span below records the error.
      }
    }
    return rt.telemetry.withSpan(
      name,
      { ...attributesOf(), ...(call?.attributes ?? {}) },
      async (s) => {
        // A prepared request is its own cache slot, unless claims make another key.
        const key = plain !== undefined ? cacheKeyOf(plain, claims) : claims ? buildKey((prepared as PreparedRequest<unknown>).request, claims) : (prepared as PreparedRequest<unknown>);
        const allTags = plain !== undefined ? (plain.tags ? [...tags, ...plain.tags] : tags) : (prepared as PreparedRequest<unknown>).tags;
        const r = await rt.store.get(key, acquire, { forceRefresh: force, ...(o.signal ? { signal: o.signal } : {}), tags: allTags });
        s.setAttribute(ATTR.CACHE_OUTCOME, r.outcome);
        return r.token;
      },
      links,
    );
  }

  // The agent's own flows repeat a handful of requests: prepared once (autonomous: per resource).
  const exchange = prepare({ flow: 'exchange', clientId: blueprintId, scopes: exchangeScopes });
  const instance = prepare({ flow: 'instance', clientId: id, scopes: exchangeScopes });
  const autonomous = createMemo<string, PreparedRequest<undefined>>({ maxEntries: rt.store.maxEntries });

  const getExchangeToken = (o: GetTokenOptions = {}) =>
    brokerGet(
      exchange,
      (signal) =>
        rt.network.run({ signal }, async () => {
          const r = await rt.blueprintApp.acquireTokenByClientCredential({ scopes: [...exchangeScopes], fmiPath: id, skipCache: true });
          rt.blueprintApp.clearCache();
          return toAcquisition(r, exchangeScopes, Date.now(), rt.clock.now());
        }),
      o,
    );

  const msal = rt.agentApp(id, async () => (await getExchangeToken()).token);

  // Leg 2 with T1 from our cache; a T1 the server rejects is dropped and fetched once more.
  const leg2 = (prepared: PreparedRequest<undefined>, o: GetTokenOptions) => {
    const { scopes } = prepared.request;
    return brokerGet(
      prepared,
      async (signal) => {
        // run() turns MSAL's failures into our typed errors, so the retry decision sits outside it.
        // Only a leg-2 rejection of a cached T1 is retried, with a fresh T1; leg-1 failures are not.
        const attempt = async (force: boolean) => {
          const t1 = await getExchangeToken({ forceRefresh: force, signal });
          return rt.network
            .run({ signal }, async () => {
              const r = await msal.acquireTokenByClientCredential({ scopes: [...scopes], skipCache: true, clientAssertion: t1.token, ...(o.claims ? { claims: o.claims } : {}) });
              msal.clearCache();
              return toAcquisition(r, scopes, Date.now(), rt.clock.now());
            })
            .catch((e: unknown) => {
              throw Object.assign(new Leg2Failure(), { inner: e });
            });
        };
        try {
          return await attempt(false);
        } catch (e) {
          if (!(e instanceof Leg2Failure)) throw e;
          const inner = e.inner;
          if (!isAgentIdError(inner) || !['AGENTID_INVALID_CLIENT', 'AGENTID_ASSERTION_EXPIRED'].includes(inner.code)) throw inner;
          try {
            return await attempt(true);
          } catch (e2) {
            throw e2 instanceof Leg2Failure ? e2.inner : e2;
          }
        }
      },
      o,
    );
  };

  const agent: Agent = Object.freeze({
    id,
    blueprintId,
    tenantId,
    msal,
    getExchangeToken,
    getInstanceToken: (o: GetTokenOptions = {}) => leg2(instance, o),
    getToken(scopes: readonly string[], o: GetTokenOptions = {}) {
      // A scope found in the memo passed checkScopes when it was prepared.
      const scope: unknown = Array.isArray(scopes) && scopes.length === 1 ? scopes[0] : undefined;
      let prepared = typeof scope === 'string' ? autonomous.get(scope) : undefined;
      if (prepared === undefined) {
        try {
          checkScopes(scopes);
          autonomous.set(scope as string, (prepared = prepare({ flow: 'autonomous', clientId: id, scopes })));
        } catch (e) {
          return Promise.reject(e);
        }
      }
      return leg2(prepared, o);
    },
    toString: () => `Agent(${id}, blueprint=${blueprintId})`,
  });
  registerAgentBroker(agent, Object.freeze({ agent, runtime: rt, get: brokerGet, prepare, owns: (p: PreparedRequest<unknown>) => PreparedRequest.by(owner, p) }));
  return agent;
}

export type { AccessToken };
