import {
  type AccessToken,
  type Agent,
  type AgentTokenCredential,
  agentBroker,
  createTokenCredential,
  ATTR,
  cacheTags,
  decodeJwtClaims,
  type GetTokenOptions,
  hashAssertion,
  isAgentIdError,
  OAuthError,
  toAcquisition,
  withFreshAssertions,
  TokenValidationError,
} from '@agentid/core';
import { LRUCache } from 'lru-cache';
import { formatChain, type DelegationContext } from '../delegation/context.js';
import { MAX_TOKEN_LENGTH } from '../validate/header.js';
import type { Principal } from '../validate/principal.js';
import { linkFromTraceparent } from '../util/trace.js';

/**
 * Options of {@link onBehalfOf}.
 *
 * @example
 * ```ts
 * const options: OnBehalfOfOptions = { principal, delegation: ctx, signal: req.signal };
 * ```
 */
export interface OnBehalfOfOptions extends GetTokenOptions {
  /** The validated user (from `validator.validate`): its oid/tid key the cache. Without it the assertion's claims are read. */
  principal?: Principal;
  /** The chain of actors, recorded in the span (`agentid.actor.chain`). */
  delegation?: DelegationContext;
  /** Receives one audit event per exchange (served from cache or not), success or failure. */
  audit?: (event: OboAuditEvent) => void;
}

/**
 * One audit record of an on-behalf-of exchange: who acted for whom, for what. Never a token.
 *
 * @example
 * ```ts
 * onBehalfOf(agent, assertion, scopes, { audit: (e) => log.info('obo', e) });
 * ```
 */
export interface OboAuditEvent {
  readonly type: 'obo';
  readonly agentId: string;
  readonly blueprintId: string;
  readonly userId: string;
  readonly tenantId: string;
  readonly scopes: readonly string[];
  readonly actors: readonly string[];
  readonly outcome: 'allowed' | 'failed';
  readonly errorCode?: string;
}

interface AssertionFacts {
  oid: string;
  tid: string;
  hash: string;
}

// Decoding and hashing a user assertion costs microseconds; a service sees the same assertion on
// every request of a session, so the facts are kept per assertion (bounded by count and bytes).
const facts = new LRUCache<string, AssertionFacts>({ max: 10_000, maxSize: 32 * 1024 * 1024, sizeCalculation: (_v, k) => k.length + 200 });

const factsOf = (assertion: string, principal: Principal | undefined): AssertionFacts => {
  const known = facts.get(assertion);
  if (known && (!principal || (known.oid === principal.oid && known.tid === principal.tid))) return known;
  let user: { oid: string; tid: string };
  if (principal) user = { oid: principal.oid, tid: principal.tid };
  else {
    let claims: Record<string, unknown>;
    try {
      claims = decodeJwtClaims(assertion) as Record<string, unknown>;
    } catch (e) {
      throw new TokenValidationError('AGENTID_TOKEN_MALFORMED', "The user's assertion is not a JWT", { cause: e });
    }
    if (typeof claims.oid !== 'string' || typeof claims.tid !== 'string') throw new TokenValidationError('AGENTID_TOKEN_CLAIMS', "The user's assertion has no oid/tid claims");
    user = { oid: claims.oid, tid: claims.tid };
  }
  const f = { ...user, hash: hashAssertion(assertion) };
  facts.set(assertion, f);
  return f;
};

/**
 * Agent on-behalf-of: exchanges the user's token (addressed to the agent's blueprint) for a token
 * to `scopes`, as the agent identity, with T1 as its client assertion. Cached per agent, user
 * (oid + tid), assertion hash, scopes and claims, single-flight; a token is only ever returned
 * for the user it was issued for. `interaction_required` and `invalid_grant` are surfaced, never
 * retried; a rejected T1 is replaced once.
 *
 * @example
 * ```ts
 * const principal = await validator.validate(userToken);
 * const token = await onBehalfOf(blueprint.agent(agentId), userToken, ['api://tools/Mail.Send'], { principal });
 * ```
 */
export async function onBehalfOf(agent: Agent, userAssertion: string, scopes: readonly string[], options: OnBehalfOfOptions = {}): Promise<AccessToken> {
  if (typeof userAssertion !== 'string' || userAssertion === '' || userAssertion.length > MAX_TOKEN_LENGTH) {
    throw new TokenValidationError('AGENTID_UNAUTHENTICATED', "onBehalfOf: the user's assertion must be a non-empty token");
  }
  if (!Array.isArray(scopes) || scopes.length === 0 || scopes.some((s) => typeof s !== 'string' || s.trim() === '')) {
    throw new TypeError('onBehalfOf: scopes must be a non-empty array of scope strings');
  }
  const broker = agentBroker(agent);
  const { oid, tid, hash } = factsOf(userAssertion, options.principal);
  const { principal: _p, delegation, ...getOptions } = options;
  const attributes = {
    [ATTR.OBO_USER_ID]: oid,
    [ATTR.OBO_USER_TENANT]: tid,
    ...(delegation ? { [ATTR.ACTOR_CHAIN]: formatChain(delegation), 'agentid.delegation.hops': delegation.hops } : {}),
  };
  const links = linkFromTraceparent(delegation?.traceparent);
  const request = { flow: 'obo', scopes, subject: `${oid}@${tid}`, assertionHash: hash, tags: [cacheTags.user(oid)], attributes, ...(links.length ? { links } : {}) };

  const audit = (outcome: 'allowed' | 'failed', errorCode?: string) =>
    options.audit?.(Object.freeze({ type: 'obo' as const, agentId: agent.id, blueprintId: agent.blueprintId, userId: oid, tenantId: tid, scopes: [...scopes], actors: [...(delegation?.actors ?? [])], outcome, ...(errorCode ? { errorCode } : {}) }));
  const { audit: _a, ...rest } = getOptions;
  const token = await broker.get(
    request,
    async (signal) => {
      // The agent's MSAL client reads T1 from our cache: refreshing it replaces a rejected one.
      const acquisition = await withFreshAssertions(agent, broker.runtime, signal, async (fresh) => {
        if (fresh) await agent.getExchangeToken({ forceRefresh: true, signal });
        return async () => toAcquisition(await agent.msal.acquireTokenOnBehalfOf({ oboAssertion: userAssertion, scopes: [...scopes], skipCache: true, ...(options.claims ? { claims: options.claims } : {}) }), scopes);
      });
      if (acquisition.meta.subject?.toLowerCase() !== oid.toLowerCase()) {
        throw new OAuthError('AGENTID_TOKEN_ENDPOINT', 'The on-behalf-of token names another subject than the user; it was discarded');
      }
      return acquisition;
    },
    rest,
  ).catch((e: unknown) => {
    audit('failed', isAgentIdError(e) ? e.code : 'AGENTID_UNEXPECTED');
    throw e;
  });
  audit('allowed');
  return token;
}

/**
 * An Azure SDK `TokenCredential` for an agent acting on behalf of the user whose token is
 * `userAssertion`: every `getToken(scopes)` is an {@link onBehalfOf} exchange from the cache.
 * Create one per inbound request (the assertion is that request's token).
 *
 * @example
 * ```ts
 * const credential = oboTokenCredential(blueprint.agent(agentId), bearer, { principal: user });
 * const client = new SecretClient(vaultUrl, credential);
 * ```
 */
export function oboTokenCredential(agent: Agent, userAssertion: string, options: Omit<OnBehalfOfOptions, 'forceRefresh' | 'claims' | 'signal'> = {}): AgentTokenCredential {
  return createTokenCredential((scopes, o) => onBehalfOf(agent, userAssertion, scopes, { ...options, ...o }), { tenantId: agent.tenantId });
}
