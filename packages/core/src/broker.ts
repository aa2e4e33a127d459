/**
 * `@agentid/core/broker`: the contract of the packages that build on a blueprint and its agents
 * (`@agentid/obo`, `@agentid/agent-user`, `@agentid/tools`, `@agentid/sidecar`, and yours). An
 * agent's {@link AgentBroker} (from {@link brokerOf}) is the one acquisition path every token
 * request takes; {@link servicesOf} gives a blueprint's HTTP client, fetch, telemetry and clock.
 * @packageDocumentation
 */
export { brokerOf, servicesOf } from './broker/access.js';
export type {
  AgentBroker,
  BlueprintServices,
  BrokerCall,
  BrokerRequest,
  Exchange,
  PreparedRequest,
  SendContext,
} from './broker/types.js';
export type { TokenAcquisition } from './cache/token-store.js';
export type { AccessTokenMeta } from './token/access-token.js';
export { createMemo, type Memo, type MemoOptions } from './cache/memo.js';
export { cacheTags, hashAssertion } from './cache/key.js';
export { createMemoryL2, type MemoryL2Options } from './cache/l2.js';
export { FACETS, parseFacets, type ClaimsSummary } from './token/claims.js';
export type { JwtClaims } from './token/jwt.js';
export { ATTR } from './telemetry/attributes.js';
export type { SpanAttributes, Telemetry } from './telemetry/telemetry.js';
export { createRedactingLogger, type LogFields } from './telemetry/logger.js';
export {
  METRIC,
  type AgentIdMetrics,
  type CacheLookupResult,
  type FlowLookups,
} from './telemetry/metrics.js';
export { PACKAGE_VERSION, TRACER_NAME } from './telemetry/version.js';
export type { HttpClient, HttpRequest, HttpResponse } from './http/client.js';
export { createTokenCredential, type TokenSource } from './azure/token-credential.js';
export { PUBLIC_AUTHORITY_HOST } from './blueprint/authority.js';
export { createManualClock, systemClock, type ManualClock } from './util/clock.js';
export {
  AbortError,
  CredentialError,
  findAgentIdError,
  InvalidTokenError,
  MalformedResponseError,
  NetworkError,
  ServiceError,
  ThrottledError,
  TimeoutError,
  TokenPolicyError,
  UnexpectedError,
  type AgentIdErrorOptions,
  type AuthorizationErrorCode,
  type DelegationErrorCode,
  type OAuthErrorCode,
  type ProvisioningErrorCode,
  type TokenValidationErrorCode,
} from './errors/agent-id-error.js';
export { errorCodeInfo, isAgentIdErrorCode, isRetryableCode, type ErrorCodeInfo } from './errors/codes.js';
export { errorFromTokenResponse, type TokenErrorResponse } from './errors/from-token-response.js';
