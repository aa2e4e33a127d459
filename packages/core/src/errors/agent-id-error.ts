import { redact } from '../util/redact.js';
import { type AgentIdErrorCode, isRetryableCode } from './codes.js';

// A registered symbol, so that an error made by another copy of @agentid/core (two copies in one
// app are a common npm outcome) is still recognised: `instanceof` and `isAgentIdError` check it.
const BRAND = Symbol.for('@agentid/core.error');
const nativeInstanceOf = Function.prototype[Symbol.hasInstance];

/**
 * Details an {@link AgentIdError} may carry. HTTP fields are set when the failure came from an
 * HTTP answer.
 *
 * @example
 * ```ts
 * const opts: AgentIdErrorOptions = { status: 400, error: 'invalid_grant', aadsts: 50013 };
 * ```
 */
export interface AgentIdErrorOptions {
  /** The underlying error; always kept as `error.cause`. */
  cause?: unknown;
  /** HTTP status of the answer that failed. */
  status?: number;
  /** OAuth `error` value, such as `invalid_grant`. */
  error?: string;
  /** OAuth `error_description` (AADSTS text with trace and correlation ids), redacted. */
  errorDescription?: string;
  /** OAuth `suberror`, such as `consent_required`. */
  suberror?: string;
  /** The first AADSTS number, such as `7000216`. */
  aadsts?: number;
  /** All AADSTS numbers from `error_codes`. */
  errorCodes?: readonly number[];
  /** Entra `correlation_id` (or the `client-request-id` header). */
  correlationId?: string;
  /** Entra `trace_id` (or the `x-ms-request-id` header). */
  traceId?: string;
  /** How long the server asked us to wait before retrying, in ms. */
  retryAfterMs?: number;
}

/**
 * Base class of every error this package throws. `code` says what failed, `retryable` whether
 * trying again later can help. The message and `errorDescription` are redacted: no token,
 * assertion, secret or key material ever appears in them.
 *
 * @example
 * ```ts
 * try { await agent.getToken(['https://graph.microsoft.com/.default']); }
 * catch (e) { if (e instanceof AgentIdError && e.code === 'AGENTID_CONSENT_REQUIRED') grant(); }
 * ```
 */
export class AgentIdError extends Error {
  readonly code: AgentIdErrorCode;
  readonly retryable: boolean;
  // `declare`: with ES2022 class fields, plain optional fields would become own `undefined`s.
  declare readonly status?: number;
  declare readonly error?: string;
  declare readonly errorDescription?: string;
  declare readonly suberror?: string;
  declare readonly aadsts?: number;
  declare readonly errorCodes?: readonly number[];
  declare readonly correlationId?: string;
  declare readonly traceId?: string;
  declare readonly retryAfterMs?: number;

  constructor(code: AgentIdErrorCode, message: string, options: AgentIdErrorOptions = {}) {
    super(redact(message), options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    this.code = code;
    this.retryable = isRetryableCode(code);
    // Only defined fields become own properties, so logs and toJSON stay compact.
    if (options.status !== undefined) this.status = options.status;
    if (options.error !== undefined) this.error = options.error;
    if (options.errorDescription !== undefined) this.errorDescription = redact(options.errorDescription);
    if (options.suberror !== undefined) this.suberror = options.suberror;
    if (options.aadsts !== undefined) this.aadsts = options.aadsts;
    if (options.errorCodes !== undefined) this.errorCodes = Object.freeze([...options.errorCodes]);
    if (options.correlationId !== undefined) this.correlationId = options.correlationId;
    if (options.traceId !== undefined) this.traceId = options.traceId;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  /**
   * `instanceof` that also accepts an error of another copy of this package: one branded as
   * ours whose class chain has a class of the same name (`AgentIdError`, `OAuthError`, ...).
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (nativeInstanceOf.call(this, value)) return true;
    if (typeof value !== 'object' || value === null || (value as Record<symbol, unknown>)[BRAND] !== true)
      return false;
    for (
      let proto: unknown = Object.getPrototypeOf(value);
      proto !== null && proto !== undefined;
      proto = Object.getPrototypeOf(proto)
    ) {
      if ((proto as { constructor?: { name?: string } }).constructor?.name === this.name) return true;
    }
    return false;
  }

  /** A log-safe plain object (no cause, no stack). */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
    };
    for (const k of [
      'status',
      'error',
      'errorDescription',
      'suberror',
      'aadsts',
      'errorCodes',
      'correlationId',
      'traceId',
      'retryAfterMs',
    ] as const) {
      if (this[k] !== undefined) out[k] = this[k];
    }
    return out;
  }
}

Object.defineProperty(AgentIdError.prototype, BRAND, { value: true });

/**
 * Codes an {@link OAuthError} can have: the token endpoint said no, and asking again unchanged
 * will not help.
 *
 * @example
 * ```ts
 * const c: OAuthErrorCode = 'AGENTID_INVALID_CLIENT';
 * ```
 */
export type OAuthErrorCode = Extract<
  AgentIdErrorCode,
  | 'AGENTID_INVALID_GRANT'
  | 'AGENTID_ASSERTION_EXPIRED'
  | 'AGENTID_INVALID_CLIENT'
  | 'AGENTID_INVALID_SCOPE'
  | 'AGENTID_INVALID_REQUEST'
  | 'AGENTID_INTERACTION_REQUIRED'
  | 'AGENTID_CONSENT_REQUIRED'
  | 'AGENTID_MISSING_FMI_PATH'
  | 'AGENTID_NO_CLIENT_CREDENTIAL'
  | 'AGENTID_FIC_NOT_MATCHED'
  | 'AGENTID_WRONG_TENANT'
  | 'AGENTID_AGENT_DISABLED'
  | 'AGENTID_NOT_FOUND'
  | 'AGENTID_TOKEN_ENDPOINT'
  | 'AGENTID_SESSION_EXPIRED'
  | 'AGENTID_SESSION_REVOKED'
>;

/**
 * The token endpoint answered with an OAuth error (4xx). Never retryable.
 *
 * @example
 * ```ts
 * throw new OAuthError('AGENTID_INVALID_GRANT', 'The assertion has expired.', { status: 400, error: 'invalid_grant' });
 * ```
 */
export class OAuthError extends AgentIdError {
  declare readonly code: OAuthErrorCode;
  constructor(code: OAuthErrorCode, message: string, options: AgentIdErrorOptions = {}) {
    super(code, message, options);
  }
}

/**
 * No HTTP answer: DNS failure, connection refused or reset. Retryable.
 *
 * @example
 * ```ts
 * throw new NetworkError('Connection reset', { cause: err });
 * ```
 */
export class NetworkError extends AgentIdError {
  declare readonly code: 'AGENTID_NETWORK';
  constructor(message: string, options: AgentIdErrorOptions = {}) {
    super('AGENTID_NETWORK', message, options);
  }
}

/**
 * An attempt exceeded its timeout. Retryable.
 *
 * @example
 * ```ts
 * throw new TimeoutError('Token request timed out after 10000 ms');
 * ```
 */
export class TimeoutError extends AgentIdError {
  declare readonly code: 'AGENTID_TIMEOUT';
  constructor(message: string, options: AgentIdErrorOptions = {}) {
    super('AGENTID_TIMEOUT', message, options);
  }
}

/**
 * The caller's AbortSignal fired. `cause` is the signal's reason. Never retried.
 *
 * @example
 * ```ts
 * throw new AbortError('Aborted by the caller', { cause: signal.reason });
 * ```
 */
export class AbortError extends AgentIdError {
  declare readonly code: 'AGENTID_ABORTED';
  constructor(message = 'The operation was aborted', options: AgentIdErrorOptions = {}) {
    super('AGENTID_ABORTED', message, options);
  }
}

/**
 * HTTP 429. `retryAfterMs` says when to try again, when the server said so.
 *
 * @example
 * ```ts
 * if (e instanceof ThrottledError) await sleep(e.retryAfterMs ?? 1000);
 * ```
 */
export class ThrottledError extends AgentIdError {
  declare readonly code: 'AGENTID_THROTTLED';
  constructor(message: string, options: AgentIdErrorOptions = {}) {
    super('AGENTID_THROTTLED', message, options);
  }
}

/**
 * HTTP 5xx from the token service. Retryable.
 *
 * @example
 * ```ts
 * throw new ServiceError('Token service unavailable (HTTP 503)', { status: 503 });
 * ```
 */
export class ServiceError extends AgentIdError {
  declare readonly code: 'AGENTID_SERVER_ERROR';
  constructor(message: string, options: AgentIdErrorOptions = {}) {
    super('AGENTID_SERVER_ERROR', message, options);
  }
}

/**
 * Options or configuration that cannot work (found after construction-time validation).
 *
 * @example
 * ```ts
 * throw new ConfigurationError('authority must use https');
 * ```
 */
export class ConfigurationError extends AgentIdError {
  declare readonly code: 'AGENTID_INVALID_OPTIONS';
  constructor(message: string, options: AgentIdErrorOptions = {}) {
    super('AGENTID_INVALID_OPTIONS', message, options);
  }
}

/**
 * An issued token is too short-lived for the lifetime policy.
 *
 * @example
 * ```ts
 * throw new TokenPolicyError('Token lives 120 s; policy needs more than 360 s');
 * ```
 */
export class TokenPolicyError extends AgentIdError {
  declare readonly code: 'AGENTID_TOKEN_LIFETIME';
  constructor(message: string, options: AgentIdErrorOptions = {}) {
    super('AGENTID_TOKEN_LIFETIME', message, options);
  }
}

/**
 * A local credential (certificate, key, federated token file) failed to load or sign.
 *
 * @example
 * ```ts
 * throw new CredentialError('Cannot read the federated token file', { cause: err });
 * ```
 */
export class CredentialError extends AgentIdError {
  declare readonly code: 'AGENTID_CREDENTIAL';
  constructor(message: string, options: AgentIdErrorOptions = {}) {
    super('AGENTID_CREDENTIAL', message, options);
  }
}

/**
 * A response body was not the JSON that was expected.
 *
 * @example
 * ```ts
 * throw new MalformedResponseError('Token response is not JSON', { status: 200 });
 * ```
 */
export class MalformedResponseError extends AgentIdError {
  declare readonly code: 'AGENTID_MALFORMED_RESPONSE';
  constructor(message: string, options: AgentIdErrorOptions = {}) {
    super('AGENTID_MALFORMED_RESPONSE', message, options);
  }
}

/**
 * A string given as a JWT could not be decoded.
 *
 * @example
 * ```ts
 * throw new InvalidTokenError('Not a JWT: expected three segments');
 * ```
 */
export class InvalidTokenError extends AgentIdError {
  declare readonly code: 'AGENTID_INVALID_TOKEN';
  constructor(message: string, options: AgentIdErrorOptions = {}) {
    super('AGENTID_INVALID_TOKEN', message, options);
  }
}

/**
 * A failure nobody planned for (a dependency threw something unknown). `cause` has it.
 *
 * @example
 * ```ts
 * throw new UnexpectedError('MSAL failed', { cause: err });
 * ```
 */
export class UnexpectedError extends AgentIdError {
  declare readonly code: 'AGENTID_UNEXPECTED';
  constructor(message: string, options: AgentIdErrorOptions = {}) {
    super('AGENTID_UNEXPECTED', message, options);
  }
}

/**
 * The shared (L2) cache could not be reached for an operation that must not pass silently: an
 * invalidation that the other replicas did not get (this replica then refuses the shared entries
 * it covers until it has told the L2, which it retries at its next L2 reads), or an L2's `ready()`
 * that did not connect in time.
 *
 * @example
 * ```ts
 * try { await blueprint.invalidate({ agent }); } catch (e) { if (isAgentIdError(e, 'AGENTID_SHARED_CACHE_UNAVAILABLE')) retryLater(); }
 * ```
 */
export class L2UnavailableError extends AgentIdError {
  declare readonly code: 'AGENTID_SHARED_CACHE_UNAVAILABLE';
  constructor(message: string, options: AgentIdErrorOptions = {}) {
    super('AGENTID_SHARED_CACHE_UNAVAILABLE', message, options);
  }
}

/**
 * Codes of {@link TokenValidationError}: an inbound token was refused.
 *
 * @example
 * ```ts
 * const c: TokenValidationErrorCode = 'AGENTID_TOKEN_EXPIRED';
 * ```
 */
export type TokenValidationErrorCode = Extract<
  AgentIdErrorCode,
  | 'AGENTID_UNAUTHENTICATED'
  | 'AGENTID_TOKEN_MALFORMED'
  | 'AGENTID_TOKEN_ALGORITHM'
  | 'AGENTID_TOKEN_SIGNATURE'
  | 'AGENTID_TOKEN_EXPIRED'
  | 'AGENTID_TOKEN_NOT_YET_VALID'
  | 'AGENTID_TOKEN_TOO_LONG_LIVED'
  | 'AGENTID_TOKEN_ISSUER'
  | 'AGENTID_TOKEN_AUDIENCE'
  | 'AGENTID_TOKEN_TENANT'
  | 'AGENTID_TOKEN_CLAIMS'
  | 'AGENTID_INSUFFICIENT_SCOPE'
  | 'AGENTID_JWKS'
>;

/**
 * An inbound (user or upstream agent) token was refused. Answer 401 (403 for
 * `AGENTID_INSUFFICIENT_SCOPE`); the message never contains the token.
 *
 * @example
 * ```ts
 * throw new TokenValidationError('AGENTID_TOKEN_AUDIENCE', 'Token audience is not this blueprint');
 * ```
 */
export class TokenValidationError extends AgentIdError {
  declare readonly code: TokenValidationErrorCode;
  constructor(code: TokenValidationErrorCode, message: string, options: AgentIdErrorOptions = {}) {
    super(code, message, options);
  }
}

/**
 * Codes of {@link DelegationError}.
 *
 * @example
 * ```ts
 * const c: DelegationErrorCode = 'AGENTID_HOP_LIMIT';
 * ```
 */
export type DelegationErrorCode = Extract<
  AgentIdErrorCode,
  | 'AGENTID_DELEGATION_INVALID'
  | 'AGENTID_DELEGATION_MISSING'
  | 'AGENTID_HOP_LIMIT'
  | 'AGENTID_DELEGATION_CYCLE'
>;

/**
 * A multi-hop delegation chain was refused: tampered, inconsistent, too long, or cyclic.
 *
 * @example
 * ```ts
 * throw new DelegationError('AGENTID_DELEGATION_CYCLE', 'Agent a1 appears twice in the chain');
 * ```
 */
export class DelegationError extends AgentIdError {
  declare readonly code: DelegationErrorCode;
  constructor(code: DelegationErrorCode, message: string, options: AgentIdErrorOptions = {}) {
    super(code, message, options);
  }
}

/**
 * Codes of {@link ProvisioningError}.
 *
 * @example
 * ```ts
 * const c: ProvisioningErrorCode = 'AGENTID_AGENT_USER_EXISTS';
 * ```
 */
export type ProvisioningErrorCode = Extract<
  AgentIdErrorCode,
  | 'AGENTID_AGENT_USER_EXISTS'
  | 'AGENTID_AGENT_USER_NOT_LINKED'
  | 'AGENTID_GRAPH'
  | 'AGENTID_BLUEPRINT_PRINCIPAL_MISSING'
  | 'AGENTID_BLUEPRINT_MISMATCH'
  | 'AGENTID_AGENT_CREDENTIALS_NOT_SUPPORTED'
  | 'AGENTID_AGENT_QUOTA'
>;

/**
 * A directory (Microsoft Graph) operation or an agent-user rule failed. `status` and `error`
 * carry Graph's HTTP status and error code when Graph answered.
 *
 * @example
 * ```ts
 * throw new ProvisioningError('AGENTID_AGENT_USER_EXISTS', 'Agent a2 already has an agent user', { status: 400 });
 * ```
 */
export class ProvisioningError extends AgentIdError {
  declare readonly code: ProvisioningErrorCode;
  /** Graph's own error code (`error.code` of its answer), such as `AgentIdentity_LimitExceeded`: the same value as `error`. */
  declare readonly graphCode?: string;
  constructor(code: ProvisioningErrorCode, message: string, options: AgentIdErrorOptions = {}) {
    super(code, message, options);
    if (options.error !== undefined) this.graphCode = options.error;
  }
}

/**
 * Codes of {@link AuthorizationError}.
 *
 * @example
 * ```ts
 * const c: AuthorizationErrorCode = 'AGENTID_FORBIDDEN';
 * ```
 */
export type AuthorizationErrorCode = Extract<
  AgentIdErrorCode,
  | 'AGENTID_TOOL_UNKNOWN'
  | 'AGENTID_FORBIDDEN'
  | 'AGENTID_TENANT_NOT_ALLOWED'
  | 'AGENTID_MCP_RESOURCE_MISMATCH'
  | 'AGENTID_MCP_STEP_UP_FAILED'
>;

/**
 * A tool, route or parameter the caller may not use (answer 403; 404 for an unknown tool).
 *
 * @example
 * ```ts
 * throw new AuthorizationError('AGENTID_FORBIDDEN', "Agent a2 may not use tool 'delete_mailbox'");
 * ```
 */
export class AuthorizationError extends AgentIdError {
  declare readonly code: AuthorizationErrorCode;
  constructor(code: AuthorizationErrorCode, message: string, options: AgentIdErrorOptions = {}) {
    super(code, message, options);
  }
}

/**
 * A downstream API answered with a failure. `status` is its HTTP status.
 *
 * @example
 * ```ts
 * throw new DownstreamError('Tools API answered 502', { status: 502 });
 * ```
 */
export class DownstreamError extends AgentIdError {
  declare readonly code: 'AGENTID_DOWNSTREAM';
  constructor(message: string, options: AgentIdErrorOptions = {}) {
    super('AGENTID_DOWNSTREAM', message, options);
  }
}

/**
 * Type guard for {@link AgentIdError}, optionally for one code.
 *
 * @example
 * ```ts
 * if (isAgentIdError(e, 'AGENTID_THROTTLED')) retryLater(e.retryAfterMs);
 * ```
 */
export function isAgentIdError<C extends AgentIdErrorCode>(
  value: unknown,
  code?: C,
): value is AgentIdError & { readonly code: C } {
  return value instanceof AgentIdError && (code === undefined || value.code === code);
}

/**
 * The first {@link AgentIdError} in `error`'s cause chain (itself included), if any. Useful
 * when a dependency (MSAL) wraps an error thrown by one of our callbacks.
 *
 * @example
 * ```ts
 * const typed = findAgentIdError(msalError) ?? new UnexpectedError('MSAL failed', { cause: msalError });
 * ```
 */
export function findAgentIdError(error: unknown): AgentIdError | undefined {
  let current = error;
  // Bounded: cause chains can be cyclic.
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    if (current instanceof AgentIdError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
