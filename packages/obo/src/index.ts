/**
 * @agentid/obo: validate inbound user (or upstream agent) tokens, exchange them on behalf of the
 * user as an agent identity, and carry the user and the chain of actors across agent hops.
 * @packageDocumentation
 */
export {
  createTokenValidator,
  validatorForBlueprint,
  type TokenValidator,
  type ValidateOptions,
} from './validate/validator.js';
export { DEFAULT_ALGORITHMS, type ValidatorOptions } from './validate/options.js';
export { FACETS, isAgentActed, type Principal } from './validate/principal.js';
export { authorizationHeaderOf, MAX_TOKEN_LENGTH, parseAuthorizationHeader } from './validate/header.js';
export {
  onBehalfOf,
  oboTokenCredential,
  type OboAuditEvent,
  type OnBehalfOfOptions,
} from './obo/on-behalf-of.js';
export {
  createOboSessions,
  DEFAULT_MAX_SESSION_MS,
  type OboSession,
  type OboSessions,
  type OboSessionsOptions,
  type OboSessionStartOptions,
  type OboSessionTarget,
} from './obo/session.js';
export {
  appendActor,
  DEFAULT_MAX_HOPS,
  formatChain,
  startDelegation,
  subjectTypeOf,
  type ActorInput,
  type ChainReference,
  type DelegationActor,
  type DelegationContext,
  type EntityType,
} from './delegation/context.js';
export {
  createDelegationCodec,
  DEFAULT_CHAIN_ISSUER,
  DELEGATION_HEADER,
  type ChainRequirement,
  type DelegationCodec,
  type DelegationCodecOptions,
  type DelegationDecodeOptions,
} from './delegation/codec.js';
export { BLUEPRINT_CLAIM, CHAIN_TYP } from './delegation/format.js';
export { chainJwksHandler, exportChainJwks, type ChainJwks, type DelegationKey } from './delegation/keys.js';
export { auditChain, chainAttributes, type ChainAttributes } from './delegation/audit.js';
export { currentTraceparent, linkFromTraceparent, traceHeaders } from './util/trace.js';
