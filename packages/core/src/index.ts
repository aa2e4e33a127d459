/**
 * @agentid/core: the blueprint credential holder and agent token broker for Microsoft Entra Agent ID.
 * @packageDocumentation
 */
export { createBlueprint, blueprintRuntime, type Blueprint, type BlueprintOptions, type InvalidateTarget } from './blueprint/create-blueprint.js';
export { exchangeAudienceFor, msalAuthority, PUBLIC_AUTHORITY_HOST } from './blueprint/authority.js';
export type { BlueprintRuntime } from './blueprint/runtime.js';
export { createAgent, toAcquisition, type Agent, type GetTokenOptions } from './agent/agent.js';
export { withFreshAssertions } from './agent/fresh-assertion.js';
export { agentBroker, PreparedRequest, type AgentBroker, type BrokerCall, type BrokerRequest } from './agent/broker.js';
export * from './credentials/index.js';
export { agentTokenCredential, createTokenCredential, type AgentTokenCredential, type AzureGetTokenOptions, type TokenSource } from './azure/token-credential.js';
export * from './internal.js';
