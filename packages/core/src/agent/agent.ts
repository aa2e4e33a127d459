import type { AuthenticationResult, ConfidentialClientApplication } from '@azure/msal-node';
import { cacheTags, tokenCacheKey } from '../cache/key.js';
import type { TokenAcquisition } from '../cache/token-store.js';
import { ConfigurationError, isAgentIdError } from '../errors/agent-id-error.js';
import { ATTR } from '../telemetry/attributes.js';
import type { AccessToken } from '../token/access-token.js';
import { summarizeClaims } from '../token/claims.js';
import { decodeJwtClaims } from '../token/jwt.js';
import type { BlueprintRuntime } from '../blueprint/runtime.js';
import { registerAgentBroker, type BrokerRequest } from './broker.js';

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
 * with the real clock, so they are turned back into relative seconds against the real clock;
 * the store then applies them on its own (possibly injected) clock.
 */
export function toAcquisition(r: AuthenticationResult | null, scopes: readonly string[], now: number = Date.now()): TokenAcquisition {
  if (!r?.accessToken) throw new ConfigurationError('MSAL returned no access token');
  const claims = summarizeClaims(decodeJwtClaims(r.accessToken));
  const expiresOn = r.expiresOn?.getTime() ?? (claims.exp ?? 0) * 1000;
  return {
    token: r.accessToken,
    expiresInSec: Math.floor((expiresOn - now) / 1000),
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
  const exchangeScopes = [`${rt.exchangeAudience}/.default`];
  const tags = [cacheTags.agent(id), cacheTags.blueprint(blueprintId), cacheTags.tenant(tenantId)];
  const span = (flow: string) => ({ [ATTR.BLUEPRINT_ID]: blueprintId, [ATTR.AGENT_ID]: id, [ATTR.GEN_AI_AGENT_ID]: id, [ATTR.TENANT_ID]: tenantId, [ATTR.FLOW]: flow });

  // Building a key validates and normalises every part (about 1 µs); the hot path looks it up by
  // the raw parts instead. Bounded: cleared when full.
  const keys = new Map<string, string>();
  const cacheKeyOf = (req: BrokerRequest, claims: string | undefined): string => {
    const build = () =>
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
    if (claims || req.extra || req.subject?.includes('\u0000') || !Array.isArray(req.scopes) || req.scopes.some((x) => typeof x !== 'string' || x.includes('\u0000'))) return build();
    const raw = `${req.flow}\u0000${req.clientId ?? ''}\u0000${req.subject ?? ''}\u0000${req.assertionHash ?? ''}\u0000${req.scopes.join('\u0000')}`;
    let key = keys.get(raw);
    if (key === undefined) {
      key = build();
      if (keys.size >= 10_000) keys.clear();
      keys.set(raw, key);
    }
    return key;
  };
  const brokerGet = (req: BrokerRequest, acquire: (signal: AbortSignal) => Promise<TokenAcquisition>, o: GetTokenOptions = {}) =>
    rt.telemetry.withSpan(`agentid.${req.flow}`, { ...span(req.flow), ...(req.attributes ?? {}) }, async (s) => {
      const key = cacheKeyOf(req, o.claims);
      const allTags = req.tags ? [...tags, ...req.tags] : tags;
      const r = await rt.store.get(key, acquire, { forceRefresh: !!(o.forceRefresh || o.claims), ...(o.signal ? { signal: o.signal } : {}), tags: allTags });
      s.setAttribute(ATTR.CACHE_OUTCOME, r.outcome);
      return r.token;
    }, req.links?.length ? { links: req.links } : undefined);
  const get = (flow: string, client: string, scopes: readonly string[], acquire: (signal: AbortSignal) => Promise<TokenAcquisition>, o: GetTokenOptions = {}) =>
    brokerGet({ flow, clientId: client, scopes }, acquire, o);

  const getExchangeToken = (o: GetTokenOptions = {}) =>
    get('exchange', blueprintId, exchangeScopes, (signal) =>
      rt.network.run({ signal }, async () => {
        const r = await rt.blueprintApp.acquireTokenByClientCredential({ scopes: exchangeScopes, fmiPath: id, skipCache: true });
        rt.blueprintApp.clearCache();
        return toAcquisition(r, exchangeScopes);
      }),
    o);

  const msal = rt.agentApp(id, async () => (await getExchangeToken()).token);

  // Leg 2 with T1 from our cache; a T1 the server rejects is dropped and fetched once more.
  const leg2 = (flow: string, scopes: readonly string[], o: GetTokenOptions) =>
    get(flow, id, scopes, async (signal) => {
      // run() turns MSAL's failures into our typed errors, so the retry decision sits outside it.
      // Only a leg-2 rejection of a cached T1 is retried, with a fresh T1; leg-1 failures are not.
      const attempt = async (force: boolean) => {
        const t1 = await getExchangeToken({ forceRefresh: force, signal });
        return rt.network.run({ signal }, async () => {
          const r = await msal.acquireTokenByClientCredential({ scopes: [...scopes], skipCache: true, clientAssertion: t1.token, ...(o.claims ? { claims: o.claims } : {}) });
          msal.clearCache();
          return toAcquisition(r, scopes);
        }).catch((e: unknown) => {
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
    }, o);

  const agent: Agent = Object.freeze({
    id,
    blueprintId,
    tenantId,
    msal,
    getExchangeToken,
    getInstanceToken: (o: GetTokenOptions = {}) => leg2('instance', exchangeScopes, o),
    async getToken(scopes: readonly string[], o: GetTokenOptions = {}) {
      checkScopes(scopes);
      return leg2('autonomous', scopes, o);
    },
    toString: () => `Agent(${id}, blueprint=${blueprintId})`,
  });
  registerAgentBroker(agent, Object.freeze({ agent, runtime: rt, get: brokerGet }));
  return agent;
}

export type { AccessToken };
