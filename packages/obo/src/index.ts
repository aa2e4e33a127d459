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
  appendActor,
  DEFAULT_MAX_HOPS,
  formatChain,
  startDelegation,
  type DelegationContext,
} from './delegation/context.js';
export {
  createDelegationCodec,
  DELEGATION_HEADER,
  type DelegationCodec,
  type DelegationCodecOptions,
  type DelegationDecodeOptions,
  type DelegationKey,
} from './delegation/codec.js';
export { currentTraceparent, linkFromTraceparent, traceHeaders } from './util/trace.js';
