/**
 * Span attribute names used by this project. Values are ids and outcomes, never token material.
 * `gen_ai.*` follow the OpenTelemetry GenAI semantic conventions where they fit.
 *
 * @example
 * ```ts
 * span.setAttribute(ATTR.CACHE_OUTCOME, 'hit');
 * ```
 */
export const ATTR = Object.freeze({
  BLUEPRINT_ID: 'agentid.blueprint.id',
  AGENT_ID: 'agentid.agent.id',
  TENANT_ID: 'agentid.tenant.id',
  FLOW: 'agentid.flow',
  CACHE_OUTCOME: 'agentid.cache.outcome',
  HTTP_ATTEMPTS: 'agentid.http.attempts',
  OBO_USER_ID: 'agentid.obo.user.id',
  OBO_USER_TENANT: 'agentid.obo.user.tenant',
  ACTOR_CHAIN: 'agentid.actor.chain',
  ERROR_CODE: 'agentid.error.code',
  /** Metrics: `success` or `error` of a token request. */
  TOKEN_OUTCOME: 'agentid.token.outcome',
  /** Metrics: `hit`, `stale`, `miss`, `coalesced` or `l2_hit` of a token lookup. */
  CACHE_RESULT: 'agentid.cache.result',
  /** Metrics: why a request was sent again. */
  RETRY_REASON: 'agentid.retry.reason',
  /** Metrics: the L2 circuit breaker's state (`closed`, `open`, `half_open`). */
  BREAKER_STATE: 'agentid.breaker.state',
  GEN_AI_AGENT_ID: 'gen_ai.agent.id',
  GEN_AI_TOOL_NAME: 'gen_ai.tool.name',
  // OpenTelemetry HTTP client conventions.
  HTTP_METHOD: 'http.request.method',
  HTTP_STATUS: 'http.response.status_code',
  HTTP_RESEND_COUNT: 'http.request.resend_count',
  URL_FULL: 'url.full',
  SERVER_ADDRESS: 'server.address',
  SERVER_PORT: 'server.port',
  /** The user a request is made for (their object id), as the semantic conventions name it. */
  ENDUSER_ID: 'enduser.id',
  ERROR_TYPE: 'error.type',
});

/**
 * Any one of the {@link ATTR} names.
 *
 * @example
 * ```ts
 * const name: AttributeName = ATTR.FLOW;
 * ```
 */
export type AttributeName = (typeof ATTR)[keyof typeof ATTR];
