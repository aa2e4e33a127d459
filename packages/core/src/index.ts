/**
 * @agentid/core: the blueprint credential holder and agent token broker for Microsoft Entra Agent ID.
 *
 * What an application needs: a blueprint and its agents, the credentials, an Azure SDK
 * `TokenCredential`, the errors, and the shapes of a shared (L2) cache, a logger and a clock.
 * Packages that add flows to an agent use `@agentid/core/broker`.
 * @packageDocumentation
 */
export {
  createBlueprint,
  type AgentOptions,
  type AppTokenOptions,
  type Blueprint,
  type BlueprintOptions,
  type InvalidateTarget,
} from './blueprint/create-blueprint.js';
export {
  blueprintFromEnvironment,
  type BlueprintFromEnvironmentOptions,
} from './blueprint/from-environment.js';
export type { AllowedTenants } from './blueprint/tenants.js';
export type { Agent, GetTokenOptions } from './agent/agent.js';
export type { AccessToken } from './token/access-token.js';
export {
  certificateCredential,
  federatedCredential,
  managedIdentityCredential,
  secretCredential,
  workloadIdentityCredential,
  type AzureTokenCredential,
  type BlueprintCredential,
  type CertificateCredentialOptions,
  type FederatedTokenRequest,
  type ManagedIdentityCredentialOptions,
  type WorkloadIdentityCredentialOptions,
} from './credentials/index.js';
export {
  agentTokenCredential,
  type AgentTokenCredential,
  type AzureGetTokenOptions,
} from './azure/token-credential.js';
export {
  AgentIdError,
  AuthorizationError,
  ConfigurationError,
  DelegationError,
  DownstreamError,
  isAgentIdError,
  L2UnavailableError,
  OAuthError,
  ProvisioningError,
  TokenValidationError,
} from './errors/agent-id-error.js';
export { ERROR_CODES, type AgentIdErrorCode } from './errors/codes.js';
export {
  ConditionalAccessError,
  type ConditionalAccessErrorCode,
  type ConditionalAccessErrorOptions,
} from './errors/conditional-access.js';
export type { L2Cache, L2Entry, L2Lock } from './cache/l2.js';
export type { Logger } from './telemetry/logger.js';
export type { Clock } from './util/clock.js';
export { decodeJwtClaims } from './token/jwt.js';
