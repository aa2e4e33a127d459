/**
 * The registry of error codes. The union type is derived from this one list so that a code
 * cannot exist without a description (a docs test checks the README against it).
 */
const LIST = [
  { code: 'AGENTID_INVALID_OPTIONS', retryable: false, description: 'Options or configuration are invalid (wrong type, missing, or contradictory).' },
  { code: 'AGENTID_NETWORK', retryable: true, description: 'The request never got an HTTP answer (DNS, connection refused or reset).' },
  { code: 'AGENTID_TIMEOUT', retryable: true, description: 'An attempt took longer than the configured timeout.' },
  { code: 'AGENTID_ABORTED', retryable: false, description: "The caller's AbortSignal fired before the operation finished." },
  { code: 'AGENTID_THROTTLED', retryable: true, description: 'The token service answered 429; retry after `retryAfterMs`.' },
  { code: 'AGENTID_SERVER_ERROR', retryable: true, description: 'The token service answered 5xx (unavailable or failing); retry later.' },
  { code: 'AGENTID_INVALID_GRANT', retryable: false, description: 'The grant or assertion was rejected (bad, expired or revoked); never retried.' },
  { code: 'AGENTID_ASSERTION_EXPIRED', retryable: false, description: 'A client or user assertion is outside its validity window (AADSTS700024, AADSTS500133).' },
  { code: 'AGENTID_INVALID_CLIENT', retryable: false, description: "The client's credential was rejected (unknown, wrong secret, bad signature)." },
  { code: 'AGENTID_INVALID_SCOPE', retryable: false, description: 'The requested scope or resource is invalid (AADSTS70011).' },
  { code: 'AGENTID_INVALID_REQUEST', retryable: false, description: 'The token request itself is malformed (for example secret and assertion together, AADSTS9002324).' },
  { code: 'AGENTID_INTERACTION_REQUIRED', retryable: false, description: 'The user must interact (MFA, sign-in); an agent cannot, so the caller must.' },
  { code: 'AGENTID_CONSENT_REQUIRED', retryable: false, description: 'Consent for the requested permissions is missing (AADSTS65001).' },
  { code: 'AGENTID_MISSING_FMI_PATH', retryable: false, description: 'The blueprint exchange request had no (or an empty) fmi_path (AADSTS82008).' },
  { code: 'AGENTID_NO_CLIENT_CREDENTIAL', retryable: false, description: 'The request carried no client credential (AADSTS7000216).' },
  { code: 'AGENTID_FIC_NOT_MATCHED', retryable: false, description: "The federated assertion matched none of the blueprint's federated credentials (AADSTS7002137)." },
  { code: 'AGENTID_WRONG_TENANT', retryable: false, description: 'The blueprint exchange was sent to the wrong tenant (AADSTS700211).' },
  { code: 'AGENTID_AGENT_DISABLED', retryable: false, description: 'The application, blueprint or agent identity is disabled (AADSTS7000112).' },
  { code: 'AGENTID_NOT_FOUND', retryable: false, description: 'A user, application or agent identity does not exist in the tenant (AADSTS50034, AADSTS700016).' },
  { code: 'AGENTID_TOKEN_ENDPOINT', retryable: false, description: 'Any other OAuth error answered by the token endpoint.' },
  { code: 'AGENTID_TOKEN_LIFETIME', retryable: false, description: 'An issued token lives too briefly for the lifetime policy to hand it out.' },
  { code: 'AGENTID_MALFORMED_RESPONSE', retryable: false, description: 'A response body was not the JSON that was expected.' },
  { code: 'AGENTID_INVALID_TOKEN', retryable: false, description: 'A string given as a JWT could not be decoded.' },
  { code: 'AGENTID_CREDENTIAL', retryable: false, description: 'A local credential (certificate, key, federated token file) could not be loaded or used.' },
  { code: 'AGENTID_UNEXPECTED', retryable: false, description: 'An unexpected failure inside a dependency (such as MSAL) or this package.' },
] as const;

/**
 * Every error code this package throws, a literal union.
 *
 * @example
 * ```ts
 * const code: AgentIdErrorCode = 'AGENTID_INVALID_GRANT';
 * ```
 */
export type AgentIdErrorCode = (typeof LIST)[number]['code'];

/**
 * One row of the error registry.
 *
 * @example
 * ```ts
 * const info: ErrorCodeInfo = ERROR_CODES[0]!;
 * ```
 */
export interface ErrorCodeInfo {
  readonly code: AgentIdErrorCode;
  /** One line, suitable for a README table. */
  readonly description: string;
  /** Whether errors with this code are worth retrying (later, or after `retryAfterMs`). */
  readonly retryable: boolean;
}

/**
 * All error codes with a one-line description and whether they are retryable.
 *
 * @example
 * ```ts
 * for (const { code, description } of ERROR_CODES) console.log(`| ${code} | ${description} |`);
 * ```
 */
export const ERROR_CODES: readonly ErrorCodeInfo[] = Object.freeze(LIST.map((row) => Object.freeze({ ...row })));

const RETRYABLE: ReadonlySet<string> = new Set(LIST.filter((r) => r.retryable).map((r) => r.code));
const KNOWN: ReadonlySet<string> = new Set(LIST.map((r) => r.code));

/**
 * Whether errors with this code are retryable. Retryability is a property of the code, not of
 * the call site, so `invalid_grant` and friends can never be marked retryable by mistake.
 *
 * @example
 * ```ts
 * isRetryableCode('AGENTID_THROTTLED'); // true
 * ```
 */
export function isRetryableCode(code: AgentIdErrorCode): boolean {
  return RETRYABLE.has(code);
}

/**
 * Type guard for strings that are registered error codes.
 *
 * @example
 * ```ts
 * isAgentIdErrorCode('AGENTID_TIMEOUT'); // true
 * ```
 */
export function isAgentIdErrorCode(value: unknown): value is AgentIdErrorCode {
  return typeof value === 'string' && KNOWN.has(value);
}
