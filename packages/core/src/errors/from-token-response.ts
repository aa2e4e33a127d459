import { getHeader, parseRetryAfter } from '../util/retry-after.js';
import { AADSTS_CODES } from './aadsts.js';
import {
  type AgentIdError,
  type AgentIdErrorOptions,
  type OAuthErrorCode,
  OAuthError,
  ServiceError,
  ThrottledError,
} from './agent-id-error.js';
import { ConditionalAccessError } from './conditional-access.js';

/**
 * An HTTP answer from a token endpoint. `body` may be the raw text or already-parsed JSON.
 *
 * @example
 * ```ts
 * const res: TokenErrorResponse = { status: 400, body: '{"error":"invalid_grant"}', headers: {} };
 * ```
 */
export interface TokenErrorResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string | undefined> | Headers;
  /** Epoch ms used to turn an HTTP-date Retry-After into a delay; defaults to `Date.now()`. */
  now?: number;
  /** Kept as the error's `cause` (for example the MSAL error that carried this answer). */
  cause?: unknown;
}

interface EntraErrorBody {
  error?: unknown;
  error_description?: unknown;
  error_codes?: unknown;
  suberror?: unknown;
  claims?: unknown;
  trace_id?: unknown;
  correlation_id?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function parseBody(body: unknown): EntraErrorBody | undefined {
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      return parsed !== null && typeof parsed === 'object' ? (parsed as EntraErrorBody) : undefined;
    } catch {
      return undefined;
    }
  }
  return body !== null && typeof body === 'object' ? (body as EntraErrorBody) : undefined;
}

function errorCodesOf(body: EntraErrorBody | undefined, description: string | undefined): number[] {
  const codes = Array.isArray(body?.error_codes)
    ? body.error_codes.map(Number).filter((n) => Number.isInteger(n) && n > 0)
    : [];
  if (codes.length === 0 && description !== undefined) {
    const m = /^AADSTS(\d+)/.exec(description);
    if (m?.[1] !== undefined) codes.push(Number(m[1]));
  }
  return codes;
}

// The first sentence block of an AADSTS description, without the trace/correlation trailer
// (which is kept separately in `errorDescription`, `traceId` and `correlationId`).
function summaryOf(description: string | undefined): string | undefined {
  if (description === undefined) return undefined;
  const first = description.split(/\r?\n|\s+Trace ID:/)[0]?.trim();
  return first === '' ? undefined : first;
}

const SUBERROR_CODES: Readonly<Record<string, OAuthErrorCode>> = {
  consent_required: 'AGENTID_CONSENT_REQUIRED',
  basic_action: 'AGENTID_INTERACTION_REQUIRED',
  additional_action: 'AGENTID_INTERACTION_REQUIRED',
  message_only: 'AGENTID_INTERACTION_REQUIRED',
  user_password_expired: 'AGENTID_INTERACTION_REQUIRED',
  bad_token: 'AGENTID_INVALID_GRANT',
};

const ERROR_CODES_BY_OAUTH: Readonly<Record<string, OAuthErrorCode>> = {
  invalid_grant: 'AGENTID_INVALID_GRANT',
  interaction_required: 'AGENTID_INTERACTION_REQUIRED',
  login_required: 'AGENTID_INTERACTION_REQUIRED',
  consent_required: 'AGENTID_CONSENT_REQUIRED',
  invalid_client: 'AGENTID_INVALID_CLIENT',
  unauthorized_client: 'AGENTID_INVALID_CLIENT',
  invalid_scope: 'AGENTID_INVALID_SCOPE',
  invalid_resource: 'AGENTID_INVALID_SCOPE',
  invalid_request: 'AGENTID_INVALID_REQUEST',
  unsupported_grant_type: 'AGENTID_INVALID_REQUEST',
};

const GENERIC_MESSAGES: Readonly<Record<OAuthErrorCode, string>> = {
  AGENTID_INVALID_GRANT: 'The grant or assertion was rejected.',
  AGENTID_ASSERTION_EXPIRED: 'An assertion is outside its validity window.',
  AGENTID_INVALID_CLIENT: "The client's credential was rejected.",
  AGENTID_INVALID_SCOPE: 'The requested scope is not valid.',
  AGENTID_INVALID_REQUEST: 'The token request is malformed.',
  AGENTID_INTERACTION_REQUIRED:
    'The user must interact (sign in, MFA); an agent cannot, so surface this to the user.',
  AGENTID_CONSENT_REQUIRED: 'Consent is missing for the requested permissions.',
  AGENTID_MISSING_FMI_PATH: 'The blueprint token exchange needs fmi_path.',
  AGENTID_NO_CLIENT_CREDENTIAL: 'The token request carried no client credential.',
  AGENTID_FIC_NOT_MATCHED: 'The federated assertion matches no federated identity credential.',
  AGENTID_WRONG_TENANT: 'The request was sent to the wrong tenant.',
  AGENTID_AGENT_DISABLED: 'The application is disabled.',
  AGENTID_NOT_FOUND: 'The object was not found in the tenant.',
  AGENTID_TOKEN_ENDPOINT: 'The token endpoint refused the request.',
  AGENTID_SESSION_EXPIRED: "The agent's session for the user is over.",
  AGENTID_SESSION_REVOKED: "The agent's session for the user was revoked.",
};

// The Conditional Access family (53000-53999), and the MFA answers a user can satisfy.
const isConditionalAccess = (n: number): boolean => n >= 53000 && n <= 53999;
const USER_CAN_SATISFY: ReadonlySet<number> = new Set([50076, 50079, 50158]);
const BLOCKED = 53003;

/**
 * A Conditional Access answer, or `undefined`. With a `claims` value (a claims request the
 * user's client can satisfy: MFA, a compliant device) it is a challenge to pass back to the user;
 * without one, or with 53003 (a block never lifts by signing in), a terminal block. Both are
 * reported by name, never as "interaction required" (which Entra's `interaction_required` and
 * `suberror=message_only` of a block would otherwise say).
 */
function conditionalAccessOf(
  codes: readonly number[],
  claims: string | undefined,
  detail: string,
  options: AgentIdErrorOptions,
): ConditionalAccessError | undefined {
  const ca = codes.some(isConditionalAccess);
  if (claims !== undefined && !codes.includes(BLOCKED) && (ca || codes.some((n) => USER_CAN_SATISFY.has(n))))
    return new ConditionalAccessError(
      'AGENTID_CLAIMS_CHALLENGE',
      `Conditional Access asks the user for more (MFA or a compliant device): pass the claims challenge back to the user's client.${detail}${suffix(options)}`,
      { ...options, claims },
    );
  if (!ca) return undefined;
  return new ConditionalAccessError(
    'AGENTID_CONDITIONAL_ACCESS',
    `Blocked by Conditional Access: a policy denies this token; nobody can sign in to lift it, an administrator must change the policy.${detail}${suffix(options)}`,
    options,
  );
}

function suffix(parts: AgentIdErrorOptions): string {
  const bits = [
    parts.aadsts !== undefined ? `AADSTS${parts.aadsts}` : undefined,
    parts.error,
    parts.suberror !== undefined ? `suberror ${parts.suberror}` : undefined,
    `HTTP ${parts.status}`,
    parts.traceId !== undefined ? `trace_id ${parts.traceId}` : undefined,
    parts.correlationId !== undefined ? `correlation_id ${parts.correlationId}` : undefined,
  ].filter((b) => b !== undefined);
  return ` [${bits.join(', ')}]`;
}

/**
 * Maps an error answer from an Entra token endpoint to a typed {@link AgentIdError}:
 * 429 → {@link ThrottledError}, 5xx → {@link ServiceError} (both
 * retryable, with `retryAfterMs` from `Retry-After`), known AADSTS numbers → their own code and
 * an actionable message, other OAuth errors → {@link OAuthError} (never retryable).
 *
 * @example
 * ```ts
 * const err = errorFromTokenResponse({ status: 400, body: { error: 'invalid_client',
 *   error_description: 'AADSTS7000215: Invalid client secret provided.', error_codes: [7000215] } });
 * err.code; // 'AGENTID_INVALID_CLIENT'
 * ```
 */
export function errorFromTokenResponse(response: TokenErrorResponse): AgentIdError {
  const { status } = response;
  const body = parseBody(response.body);
  const description = str(body?.error_description);
  const codes = errorCodesOf(body, description);
  const options: AgentIdErrorOptions = { status };
  if (response.cause !== undefined) options.cause = response.cause;
  const error = str(body?.error);
  const suberror = str(body?.suberror);
  const traceId = str(body?.trace_id) ?? getHeader(response.headers, 'x-ms-request-id');
  const correlationId = str(body?.correlation_id) ?? getHeader(response.headers, 'client-request-id');
  if (error !== undefined) options.error = error;
  if (description !== undefined) options.errorDescription = description;
  if (suberror !== undefined) options.suberror = suberror;
  if (codes[0] !== undefined) options.aadsts = codes[0];
  if (codes.length > 0) options.errorCodes = codes;
  if (traceId !== undefined) options.traceId = traceId;
  if (correlationId !== undefined) options.correlationId = correlationId;
  const server = summaryOf(description);
  const detail = server !== undefined ? ` ${server}` : '';

  // Retryability follows the status only: a 4xx (other than 429) is never retryable.
  if (status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(
      getHeader(response.headers, 'retry-after'),
      response.now ?? Date.now(),
    );
    if (retryAfterMs !== undefined) options.retryAfterMs = retryAfterMs;
    const wait = retryAfterMs !== undefined ? ` Retry after ${retryAfterMs} ms.` : '';
    return status === 429
      ? new ThrottledError(
          `The token service is throttling requests.${wait}${detail}${suffix(options)}`,
          options,
        )
      : new ServiceError(
          `The token service failed or is unavailable.${wait}${detail}${suffix(options)}`,
          options,
        );
  }

  const policy = conditionalAccessOf(codes, str(body?.claims), detail, options);
  if (policy !== undefined) return policy;

  const known = options.aadsts !== undefined ? AADSTS_CODES.get(options.aadsts) : undefined;
  if (known !== undefined) return new OAuthError(known.code, `${known.message}${suffix(options)}`, options);

  const code =
    (suberror !== undefined ? SUBERROR_CODES[suberror] : undefined) ??
    (error !== undefined ? ERROR_CODES_BY_OAUTH[error] : undefined) ??
    'AGENTID_TOKEN_ENDPOINT';
  const base =
    body === undefined
      ? `The token endpoint answered HTTP ${status} without an OAuth error body.`
      : GENERIC_MESSAGES[code];
  return new OAuthError(code, `${base}${detail}${suffix(options)}`, options);
}
