import {
  type AccessToken,
  type Agent,
  type AgentTokenCredential,
  decodeJwtClaims,
  type GetTokenOptions,
  isAgentIdError,
  OAuthError,
  TokenValidationError,
} from '@agentid/core';
import {
  ATTR,
  type AgentBroker,
  type BlueprintServices,
  brokerOf,
  type BrokerCall,
  type BrokerRequest,
  cacheTags,
  createMemo,
  createTokenCredential,
  type Exchange,
  type SendContext,
  type TokenAcquisition,
  hashAssertion,
  type Memo,
  type PreparedRequest,
  type SpanAttributes,
} from '@agentid/core/broker';
import type { DelegationContext } from '../delegation/context.js';
import { chainAttributes, type ChainAttributes } from '../delegation/audit.js';
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
  /** The validated user (from `validator.validate`): its oid/tid key the cache. Without it, the assertion's claims do. */
  principal?: Principal;
  /** The chain of actors, recorded in the span and the audit event ({@link ChainAttributes}). */
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
  /** The whole chain, flat ({@link ChainAttributes}); absent when the exchange had no delegation. */
  readonly chain?: ChainAttributes;
  readonly outcome: 'allowed' | 'failed';
  readonly errorCode?: string;
}

/** What one user assertion gives every exchange of it: its user and its hash (and, shared by its prepared requests, their parts). */
interface AssertionFacts {
  readonly oid: string;
  readonly tid: string;
  readonly hash: string;
  readonly subject: string;
  readonly tags: readonly string[];
  readonly attributes: SpanAttributes;
  /** The other requests prepared for this assertion (other agents or scopes; oldest dropped first). */
  more: Array<PreparedRequest<AssertionFacts>> | undefined;
}

/** Requests prepared per assertion: the agents and tools one user's session reaches. */
const MAX_PREPARED_PER_ASSERTION = 16;
/** The bytes a memo entry is charged beyond its assertion: facts, prepared request, key, attributes. */
const FACTS_OVERHEAD_BYTES = 1024;

// Decoding and hashing a user assertion and building its cache key cost microseconds; a service
// sees the same assertion on every request of a session, so they are kept per assertion, per
// blueprint, in a memo as large as that blueprint's token cache (a smaller one would miss on
// every hit once the cache outgrows it). Its value is the first request prepared for the
// assertion (the facts are its data): a hit of one agent and one set of scopes, the common case,
// reads the memo and that one object. Keyed by the exact assertion string: a lookup, never
// logged, and bounded by entries and bytes.
const memos = new WeakMap<BlueprintServices, Memo<string, PreparedRequest<AssertionFacts>>>();

const memoOf = (services: BlueprintServices): Memo<string, PreparedRequest<AssertionFacts>> => {
  let memo = memos.get(services);
  if (memo === undefined) {
    memo = createMemo({
      maxEntries: services.cache.maxEntries,
      maxBytes: services.cache.maxBytes,
      sizeOf: (assertion) => assertion.length + FACTS_OVERHEAD_BYTES,
    });
    memos.set(services, memo);
  }
  return memo;
};

const sameUser = (f: AssertionFacts, principal: Principal): boolean =>
  f.oid === principal.oid && f.tid === principal.tid;

const factsFor = (oid: string, tid: string, hash: string): AssertionFacts => ({
  oid,
  tid,
  hash,
  subject: `${oid}@${tid}`,
  tags: Object.freeze([cacheTags.user(oid)]),
  attributes: Object.freeze({ [ATTR.OBO_USER_ID]: oid, [ATTR.ENDUSER_ID]: oid, [ATTR.OBO_USER_TENANT]: tid }),
  more: undefined,
});

/** The user the assertion's own claims name (what the memo keeps); throws when it names none. */
const claimsFactsOf = (assertion: string): AssertionFacts => {
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwtClaims(assertion) as Record<string, unknown>;
  } catch (e) {
    throw new TokenValidationError('AGENTID_TOKEN_MALFORMED', "The user's assertion is not a JWT", {
      cause: e,
    });
  }
  if (typeof claims.oid !== 'string' || typeof claims.tid !== 'string')
    throw new TokenValidationError('AGENTID_TOKEN_CLAIMS', "The user's assertion has no oid/tid claims");
  return factsFor(claims.oid, claims.tid, hashAssertion(assertion));
};

/**
 * The user an assertion is exchanged for: the validated principal's, else the one its claims
 * name (throws `AGENTID_TOKEN_MALFORMED` / `AGENTID_TOKEN_CLAIMS` when they name none).
 */
export const userOfAssertion = (
  assertion: string,
  principal: Principal | undefined,
): { readonly oid: string; readonly tid: string } =>
  principal !== undefined ? { oid: principal.oid, tid: principal.tid } : claimsFactsOf(assertion);

/**
 * Throws `TypeError` unless `scopes` is a non-empty array of non-blank strings (naming `where`);
 * true when none contains NUL (then they can be joined into a memo label).
 */
export function assertScopes(where: string, scopes: readonly string[]): boolean {
  let memoizable = true;
  if (!Array.isArray(scopes) || scopes.length === 0)
    throw new TypeError(`${where}: scopes must be a non-empty array of scope strings`);
  for (const s of scopes) {
    if (typeof s !== 'string' || s.trim() === '')
      throw new TypeError(`${where}: scopes must be a non-empty array of scope strings`);
    if (s.includes('\u0000')) memoizable = false;
  }
  return memoizable;
}

/** A request not kept in the memo, with its user. */
type PlainRequest = BrokerRequest & { readonly facts: AssertionFacts };
const requestOf = (f: AssertionFacts, scopes: readonly string[]): PlainRequest => ({
  flow: 'obo',
  scopes,
  subject: f.subject,
  assertionHash: f.hash,
  tags: f.tags,
  attributes: f.attributes,
  facts: f,
});

type Request = PlainRequest | PreparedRequest<AssertionFacts>;

/**
 * The request of one exchange. The memo keeps, per assertion, the user its claims name and the
 * requests prepared for it (`label`: the scopes joined by NUL, which no scope contains). A
 * validated principal names the user: when it is the one the claims name, the memo serves;
 * otherwise the principal's user is keyed for this call only (the memo keeps what the
 * assertion says, so calls without a principal are not led by one).
 */
const requestFor = (
  memo: Memo<string, PreparedRequest<AssertionFacts>>,
  assertion: string,
  principal: Principal | undefined,
  broker: AgentBroker,
  scopes: readonly string[],
  label: string | undefined,
): Request => {
  const first = memo.get(assertion);
  // The hot path: the memo's first request is this one (reads that one object, unless a principal is given).
  if (
    first !== undefined &&
    first.label === label &&
    broker.owns(first) &&
    (principal === undefined || sameUser(first.data, principal))
  )
    return first;
  let f = first?.data;
  if (f === undefined) {
    try {
      f = claimsFactsOf(assertion);
    } catch (e) {
      // Without a principal, an assertion that names no user cannot be exchanged.
      if (principal === undefined) throw e;
    }
  }
  if (principal !== undefined && (f === undefined || !sameUser(f, principal)))
    return requestOf(factsFor(principal.oid, principal.tid, f?.hash ?? hashAssertion(assertion)), scopes);
  const facts = f as AssertionFacts;
  if (label === undefined) return requestOf(facts, scopes);
  if (first !== undefined) {
    for (const p of facts.more ?? []) if (p.label === label && broker.owns(p)) return p;
  }
  const prepared = broker.prepare(requestOf(facts, scopes), { label, data: facts });
  if (first === undefined) memo.set(assertion, prepared);
  else {
    const more = (facts.more ??= []);
    if (more.length >= MAX_PREPARED_PER_ASSERTION - 1) more.shift();
    more.push(prepared);
  }
  return prepared;
};

const userOf = (request: Request): AssertionFacts => ('facts' in request ? request.facts : request.data);

/**
 * The on-behalf-of request of one call. MSAL's OBO request takes no client assertion of its own:
 * the agent's client sends the T1 the broker got for this request (leg-1 failures are thrown
 * before `send`, never retried here). A class, not a literal of closures: a warm hit, which never
 * calls it, then allocates one small object.
 */
class OboExchange implements Exchange {
  constructor(
    private readonly assertion: string,
    private readonly scopes: readonly string[],
    private readonly request: Request,
  ) {}

  send({ msal, claims }: SendContext) {
    return msal.acquireTokenOnBehalfOf({
      oboAssertion: this.assertion,
      scopes: [...this.scopes],
      skipCache: true,
      ...(claims ? { claims } : {}),
    });
  }

  verify(issued: TokenAcquisition): void {
    if (issued.meta.subject?.toLowerCase() !== userOf(this.request).oid.toLowerCase()) {
      throw new OAuthError(
        'AGENTID_TOKEN_ENDPOINT',
        'The on-behalf-of token names another subject than the user; it was discarded',
      );
    }
  }
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Agent identities are single-tenant: a user of one tenant is served by the agent identity of
 * that tenant (`blueprint.agent(id, { tenantId: principal.tid })`). Another tenant's agent would
 * send a request Entra refuses; it is refused here, before T1. (A home tenant configured as a
 * domain cannot be compared with a `tid`: Entra decides.)
 */
function checkTenant(agent: Agent, tid: string): void {
  if (
    tid === agent.tenantId ||
    !GUID.test(agent.tenantId) ||
    tid.toLowerCase() === agent.tenantId.toLowerCase()
  )
    return;
  throw new OAuthError(
    'AGENTID_WRONG_TENANT',
    `onBehalfOf: the user is of tenant ${tid}, agent ${agent.id} of tenant ${agent.tenantId}; agent identities are single-tenant: use the agent identity of the user's tenant, blueprint.agent(id, { tenantId: principal.tid })`,
  );
}

/**
 * Agent on-behalf-of: exchanges the user's token (addressed to the agent's blueprint) for a token
 * to `scopes`, as the agent identity, with T1 as its client assertion. Cached per agent, user
 * (oid + tid), assertion hash, scopes and claims, single-flight; a token is only ever returned
 * for the user it was issued for. `interaction_required` and `invalid_grant` are surfaced, never
 * retried; a rejected T1 is replaced once. The agent must be of the user's tenant (`tid`; agent
 * identities are single-tenant): for users of a customer tenant, take
 * `blueprint.agent(id, { tenantId: principal.tid })`; another tenant's agent is refused with
 * `AGENTID_WRONG_TENANT` before any request.
 *
 * @example
 * ```ts
 * const principal = await validator.validate(userToken);
 * const token = await onBehalfOf(blueprint.agent(agentId), userToken, ['api://tools/Mail.Send'], { principal });
 * ```
 */
export function onBehalfOf(
  agent: Agent,
  userAssertion: string,
  scopes: readonly string[],
  options: OnBehalfOfOptions = {},
): Promise<AccessToken> {
  try {
    return exchange(agent, userAssertion, scopes, options);
  } catch (e) {
    return Promise.reject(e);
  }
}

function exchange(
  agent: Agent,
  userAssertion: string,
  scopes: readonly string[],
  options: OnBehalfOfOptions,
): Promise<AccessToken> {
  if (typeof userAssertion !== 'string' || userAssertion === '' || userAssertion.length > MAX_TOKEN_LENGTH) {
    throw new TokenValidationError(
      'AGENTID_UNAUTHENTICATED',
      "onBehalfOf: the user's assertion must be a non-empty token",
    );
  }
  const memoizable = assertScopes('onBehalfOf', scopes);
  const broker = brokerOf(agent);
  const { principal, delegation, audit } = options;
  const label = memoizable
    ? scopes.length === 1
      ? (scopes[0] as string)
      : scopes.join('\u0000')
    : undefined;
  const request = requestFor(memoOf(broker.services), userAssertion, principal, broker, scopes, label);
  // The user, read only when needed (a miss, an audit): on a hit the request is enough.
  const user = (): AssertionFacts => userOf(request);
  checkTenant(agent, user().tid);
  let call: BrokerCall | undefined;
  if (delegation) {
    const links = linkFromTraceparent(delegation.traceparent);
    call = {
      attributes: chainAttributes(delegation),
      ...(links.length ? { links } : {}),
    };
  }

  // One object per call (a warm hit allocates nothing else here): its methods run only on a miss.
  const exchange = new OboExchange(userAssertion, scopes, request);
  // The broker reads only forceRefresh, claims and signal: principal, delegation and audit are ours.
  const token = broker.acquire(request, exchange, options, call);
  if (audit === undefined) return token;
  const event = (outcome: 'allowed' | 'failed', errorCode?: string) => {
    const { oid, tid } = user();
    audit(
      Object.freeze({
        type: 'obo' as const,
        agentId: agent.id,
        blueprintId: agent.blueprintId,
        userId: oid,
        tenantId: tid,
        scopes: [...scopes],
        actors: [...(delegation?.actors ?? [])],
        ...(delegation ? { chain: chainAttributes(delegation) } : {}),
        outcome,
        ...(errorCode ? { errorCode } : {}),
      }),
    );
  };
  return token.then(
    (t) => {
      event('allowed');
      return t;
    },
    (e: unknown) => {
      event('failed', isAgentIdError(e) ? e.code : 'AGENTID_UNEXPECTED');
      throw e;
    },
  );
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
export function oboTokenCredential(
  agent: Agent,
  userAssertion: string,
  options: Omit<OnBehalfOfOptions, 'forceRefresh' | 'claims' | 'signal'> = {},
): AgentTokenCredential {
  return createTokenCredential(
    (scopes, getOptions) => onBehalfOf(agent, userAssertion, scopes, { ...options, ...getOptions }),
    { tenantId: agent.tenantId },
  );
}
