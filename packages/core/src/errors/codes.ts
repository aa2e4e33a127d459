/**
 * The one table of error codes (fastify's `createError` style): per code, the class that carries
 * it, the HTTP status and OAuth-style `error` a server of ours (middleware, sidecar) answers with,
 * whether retrying can help, whether the token service refused for good (`refused`: the sidecar
 * answers 401, as Microsoft's does), and a one-line description. The union type is derived from
 * it, so a code cannot exist without its row; tests check the classes, that every code used in
 * the sources is here, and that the README lists every row with its status.
 */
const LIST = [
  {
    code: 'AGENTID_INVALID_OPTIONS',
    retryable: false,
    class: 'ConfigurationError',
    status: 500,
    httpError: 'server_error',
    description: 'Options or configuration are invalid (wrong type, missing, or contradictory).',
  },
  {
    code: 'AGENTID_NETWORK',
    retryable: true,
    class: 'NetworkError',
    status: 503,
    httpError: 'temporarily_unavailable',
    description: 'The request never got an HTTP answer (DNS, connection refused or reset).',
  },
  {
    code: 'AGENTID_TIMEOUT',
    retryable: true,
    class: 'TimeoutError',
    status: 503,
    httpError: 'temporarily_unavailable',
    description: 'An attempt took longer than the configured timeout.',
  },
  {
    code: 'AGENTID_ABORTED',
    retryable: false,
    class: 'AbortError',
    status: 502,
    httpError: 'bad_gateway',
    description: "The caller's AbortSignal fired before the operation finished.",
  },
  {
    code: 'AGENTID_THROTTLED',
    retryable: true,
    class: 'ThrottledError',
    status: 503,
    httpError: 'temporarily_unavailable',
    description: 'The token service answered 429; retry after `retryAfterMs`.',
  },
  {
    code: 'AGENTID_SERVER_ERROR',
    retryable: true,
    class: 'ServiceError',
    status: 503,
    httpError: 'temporarily_unavailable',
    description: 'The token service answered 5xx (unavailable or failing); retry later.',
  },
  {
    code: 'AGENTID_INVALID_GRANT',
    retryable: false,
    class: 'OAuthError',
    status: 502,
    httpError: 'bad_gateway',
    refused: true,
    description: 'The grant or assertion was rejected (bad, expired or revoked); never retried.',
  },
  {
    code: 'AGENTID_ASSERTION_EXPIRED',
    retryable: false,
    class: 'OAuthError',
    status: 502,
    httpError: 'bad_gateway',
    refused: true,
    description: 'A client or user assertion is outside its validity window (AADSTS700024, AADSTS500133).',
  },
  {
    code: 'AGENTID_INVALID_CLIENT',
    retryable: false,
    class: 'OAuthError',
    status: 502,
    httpError: 'bad_gateway',
    refused: true,
    description: "The client's credential was rejected (unknown, wrong secret, bad signature).",
  },
  {
    code: 'AGENTID_INVALID_SCOPE',
    retryable: false,
    class: 'OAuthError',
    status: 502,
    httpError: 'bad_gateway',
    refused: true,
    description: 'The requested scope or resource is invalid (AADSTS70011).',
  },
  {
    code: 'AGENTID_INVALID_REQUEST',
    retryable: false,
    class: 'OAuthError',
    status: 502,
    httpError: 'bad_gateway',
    refused: true,
    description:
      'The token request itself is malformed (for example secret and assertion together, AADSTS9002324).',
  },
  {
    code: 'AGENTID_INTERACTION_REQUIRED',
    retryable: false,
    class: 'OAuthError',
    status: 403,
    httpError: 'forbidden',
    refused: true,
    description: 'The user must interact (MFA, sign-in); an agent cannot, so the caller must.',
  },
  {
    code: 'AGENTID_CONSENT_REQUIRED',
    retryable: false,
    class: 'OAuthError',
    status: 403,
    httpError: 'forbidden',
    refused: true,
    description: 'Consent for the requested permissions is missing (AADSTS65001).',
  },
  {
    code: 'AGENTID_MISSING_FMI_PATH',
    retryable: false,
    class: 'OAuthError',
    status: 502,
    httpError: 'bad_gateway',
    refused: true,
    description: 'The blueprint exchange request had no (or an empty) fmi_path (AADSTS82008).',
  },
  {
    code: 'AGENTID_NO_CLIENT_CREDENTIAL',
    retryable: false,
    class: 'OAuthError',
    status: 502,
    httpError: 'bad_gateway',
    refused: true,
    description: 'The request carried no client credential (AADSTS7000216).',
  },
  {
    code: 'AGENTID_FIC_NOT_MATCHED',
    retryable: false,
    class: 'OAuthError',
    status: 502,
    httpError: 'bad_gateway',
    refused: true,
    description:
      "The federated assertion matched none of the blueprint's federated credentials (AADSTS7002137).",
  },
  {
    code: 'AGENTID_WRONG_TENANT',
    retryable: false,
    class: 'OAuthError',
    status: 502,
    httpError: 'bad_gateway',
    refused: true,
    description:
      "Leg 1 was sent to a tenant that has no blueprint principal or not this agent identity (AADSTS700211): add the blueprint to the tenant (admin consent), or use the agent identity's own tenant.",
  },
  {
    code: 'AGENTID_TENANT_NOT_ALLOWED',
    retryable: false,
    class: 'AuthorizationError',
    status: 403,
    httpError: 'forbidden',
    description:
      "A tenant outside the blueprint's `allowedTenants` was asked for (an agent, an app token, a sidecar override).",
  },
  {
    code: 'AGENTID_AGENT_DISABLED',
    retryable: false,
    class: 'OAuthError',
    status: 403,
    httpError: 'forbidden',
    refused: true,
    description: 'The application, blueprint or agent identity is disabled (AADSTS7000112).',
  },
  {
    code: 'AGENTID_CONDITIONAL_ACCESS',
    retryable: false,
    class: 'ConditionalAccessError',
    status: 403,
    httpError: 'access_denied',
    refused: true,
    description:
      'Blocked by Conditional Access (AADSTS53003, the 53000-53999 family): terminal, never retried, not "interaction required".',
  },
  {
    code: 'AGENTID_CLAIMS_CHALLENGE',
    retryable: false,
    class: 'ConditionalAccessError',
    status: 401,
    httpError: 'insufficient_claims',
    refused: true,
    description:
      "Conditional Access asks the user for more (MFA, a compliant device): the claims challenge goes back to the user's client.",
  },
  {
    code: 'AGENTID_NOT_FOUND',
    retryable: false,
    class: 'OAuthError',
    status: 502,
    httpError: 'bad_gateway',
    refused: true,
    description:
      'A user, application or agent identity does not exist in the tenant (AADSTS50034, AADSTS700016).',
  },
  {
    code: 'AGENTID_TOKEN_ENDPOINT',
    retryable: false,
    class: 'OAuthError',
    status: 502,
    httpError: 'bad_gateway',
    refused: true,
    description: 'Any other OAuth error answered by the token endpoint.',
  },
  {
    code: 'AGENTID_SESSION_EXPIRED',
    retryable: false,
    class: 'OAuthError',
    status: 502,
    httpError: 'bad_gateway',
    refused: true,
    description:
      "An agent's session for a user reached its maximum length, or Entra expired its refresh token (AADSTS700082): the user must start a new one.",
  },
  {
    code: 'AGENTID_SESSION_REVOKED',
    retryable: false,
    class: 'OAuthError',
    status: 502,
    httpError: 'bad_gateway',
    refused: true,
    description:
      "An agent's session for a user was ended (invalidated here, or its refresh token revoked or refused by Entra, AADSTS50173/70000): the user must start a new one.",
  },
  {
    code: 'AGENTID_TOKEN_LIFETIME',
    retryable: false,
    class: 'TokenPolicyError',
    status: 502,
    httpError: 'bad_gateway',
    description: 'An issued token lives too briefly for the lifetime policy to hand it out.',
  },
  {
    code: 'AGENTID_MALFORMED_RESPONSE',
    retryable: false,
    class: 'MalformedResponseError',
    status: 502,
    httpError: 'bad_gateway',
    description: 'A response body was not the JSON that was expected.',
  },
  {
    code: 'AGENTID_INVALID_TOKEN',
    retryable: false,
    class: 'InvalidTokenError',
    status: 502,
    httpError: 'bad_gateway',
    description: 'A string given as a JWT could not be decoded.',
  },
  {
    code: 'AGENTID_CREDENTIAL',
    retryable: false,
    class: 'CredentialError',
    status: 502,
    httpError: 'bad_gateway',
    description: 'A local credential (certificate, key, federated token file) could not be loaded or used.',
  },
  {
    code: 'AGENTID_UNEXPECTED',
    retryable: false,
    class: 'UnexpectedError',
    status: 502,
    httpError: 'bad_gateway',
    description: 'An unexpected failure inside a dependency (such as MSAL) or this package.',
  },
  {
    code: 'AGENTID_SHARED_CACHE_UNAVAILABLE',
    retryable: true,
    class: 'L2UnavailableError',
    status: 503,
    httpError: 'temporarily_unavailable',
    description:
      'The shared (L2) cache could not be reached where that must not pass silently (an invalidation the other replicas did not get, `ready()`); retry it.',
  },
  // Inbound token validation (@agentid/obo, middleware, sidecar).
  {
    code: 'AGENTID_UNAUTHENTICATED',
    retryable: false,
    class: 'TokenValidationError',
    status: 401,
    httpError: 'invalid_request',
    description: 'No bearer token was presented, or the Authorization header is malformed.',
  },
  {
    code: 'AGENTID_TOKEN_MALFORMED',
    retryable: false,
    class: 'TokenValidationError',
    status: 401,
    httpError: 'invalid_token',
    description: 'The presented token is not a well-formed JWS (garbage, truncated, oversized, bad header).',
  },
  {
    code: 'AGENTID_TOKEN_ALGORITHM',
    retryable: false,
    class: 'TokenValidationError',
    status: 401,
    httpError: 'invalid_token',
    description: "The token's `alg` is not allowed (`none`, HMAC, or outside the RS256/PS256 families).",
  },
  {
    code: 'AGENTID_TOKEN_SIGNATURE',
    retryable: false,
    class: 'TokenValidationError',
    status: 401,
    httpError: 'invalid_token',
    description: 'The signature does not verify, or no key of the issuer matches its `kid`.',
  },
  {
    code: 'AGENTID_TOKEN_EXPIRED',
    retryable: false,
    class: 'TokenValidationError',
    status: 401,
    httpError: 'invalid_token',
    description: 'The presented token has expired (beyond the allowed clock skew).',
  },
  {
    code: 'AGENTID_TOKEN_NOT_YET_VALID',
    retryable: false,
    class: 'TokenValidationError',
    status: 401,
    httpError: 'invalid_token',
    description: 'The presented token is not valid yet (`nbf` or `iat` in the future beyond the skew).',
  },
  {
    code: 'AGENTID_TOKEN_TOO_LONG_LIVED',
    retryable: false,
    class: 'TokenValidationError',
    status: 401,
    httpError: 'invalid_token',
    description: 'The presented token lives longer than the maximum accepted lifetime.',
  },
  {
    code: 'AGENTID_TOKEN_ISSUER',
    retryable: false,
    class: 'TokenValidationError',
    status: 401,
    httpError: 'invalid_token',
    description: 'The issuer is not the expected one for the token tenant (v1 or v2 form).',
  },
  {
    code: 'AGENTID_TOKEN_AUDIENCE',
    retryable: false,
    class: 'TokenValidationError',
    status: 401,
    httpError: 'invalid_token',
    description: "The token's audience is not this blueprint (app id URI or client id).",
  },
  {
    code: 'AGENTID_TOKEN_TENANT',
    retryable: false,
    class: 'TokenValidationError',
    status: 401,
    httpError: 'invalid_token',
    description: "The token's tenant (`tid`) is not allowed.",
  },
  {
    code: 'AGENTID_TOKEN_CLAIMS',
    retryable: false,
    class: 'TokenValidationError',
    status: 401,
    httpError: 'invalid_token',
    description: 'A required claim is missing or has the wrong type.',
  },
  {
    code: 'AGENTID_INSUFFICIENT_SCOPE',
    retryable: false,
    class: 'TokenValidationError',
    status: 403,
    httpError: 'insufficient_scope',
    description: 'The token lacks the required scope or app role.',
  },
  {
    code: 'AGENTID_JWKS',
    retryable: true,
    class: 'TokenValidationError',
    status: 503,
    httpError: 'temporarily_unavailable',
    description: "The issuer's signing keys (JWKS) could not be fetched.",
  },
  // Multi-hop delegation (@agentid/obo).
  {
    code: 'AGENTID_DELEGATION_INVALID',
    retryable: false,
    class: 'DelegationError',
    status: 401,
    httpError: 'invalid_token',
    description: 'The delegation chain is missing, tampered, or does not match the token it came with.',
  },
  {
    code: 'AGENTID_DELEGATION_MISSING',
    retryable: false,
    class: 'DelegationError',
    status: 401,
    httpError: 'invalid_token',
    description:
      "A token made by an agent came without its delegation chain, and the service requires one (delegation require: 'agent-tokens').",
  },
  {
    code: 'AGENTID_HOP_LIMIT',
    retryable: false,
    class: 'DelegationError',
    status: 403,
    httpError: 'forbidden',
    description: 'The delegation chain would exceed the maximum number of hops.',
  },
  {
    code: 'AGENTID_DELEGATION_CYCLE',
    retryable: false,
    class: 'DelegationError',
    status: 403,
    httpError: 'forbidden',
    description: 'An agent appears twice in the delegation chain (a cycle).',
  },
  // Agent users and provisioning (@agentid/agent-user).
  {
    code: 'AGENTID_AGENT_USER_EXISTS',
    retryable: false,
    class: 'ProvisioningError',
    status: 502,
    httpError: 'bad_gateway',
    description: 'The agent identity already has its one agent user.',
  },
  {
    code: 'AGENTID_AGENT_USER_NOT_LINKED',
    retryable: false,
    class: 'ProvisioningError',
    status: 502,
    httpError: 'bad_gateway',
    refused: true,
    description: 'The agent user is not linked to this agent identity (or is not an agent user).',
  },
  {
    code: 'AGENTID_GRAPH',
    retryable: false,
    class: 'ProvisioningError',
    status: 502,
    httpError: 'bad_gateway',
    description: 'A Microsoft Graph call failed (status, Graph error code in `error`).',
  },
  {
    code: 'AGENTID_BLUEPRINT_PRINCIPAL_MISSING',
    retryable: false,
    class: 'ProvisioningError',
    status: 502,
    httpError: 'bad_gateway',
    description:
      'The blueprint has no service principal in the tenant yet (Graph `AgentIdentity_AgentBlueprintPrincipalDoesNotExist`): create it first.',
  },
  {
    code: 'AGENTID_BLUEPRINT_MISMATCH',
    retryable: false,
    class: 'ProvisioningError',
    status: 502,
    httpError: 'bad_gateway',
    description:
      'An agent identity was created by the wrong caller: another blueprint, or an agent identity (Graph `Error_AgentBlueprintCannotCreateAssociatedIdentity`, `Error_AgentIdentitySelfCreateRequired`, `Error_AgentIdentitiesCreatingAgentIdentitiesNotAllowed`).',
  },
  {
    code: 'AGENTID_AGENT_CREDENTIALS_NOT_SUPPORTED',
    retryable: false,
    class: 'ProvisioningError',
    status: 502,
    httpError: 'bad_gateway',
    description:
      'An agent identity cannot hold credentials: add them to its blueprint (Graph `AgentIdentity_CredentialsNotSupported`, `PropertyNotCompatibleWithAgentIdentity`).',
  },
  {
    code: 'AGENTID_AGENT_QUOTA',
    retryable: false,
    class: 'ProvisioningError',
    status: 502,
    httpError: 'bad_gateway',
    description:
      'A directory limit was reached, soft-deleted objects included: purge deleted items (Graph `AgentIdentity_LimitExceeded`, `AgentBlueprint_LimitExceeded`, `Agent_Directory_QuotaExceeded`).',
  },
  // Authorization of tools and routes (middleware, sidecar).
  {
    code: 'AGENTID_TOOL_UNKNOWN',
    retryable: false,
    class: 'AuthorizationError',
    status: 404,
    httpError: 'unknown_tool',
    description: 'No tool of that name is registered.',
  },
  {
    code: 'AGENTID_FORBIDDEN',
    retryable: false,
    class: 'AuthorizationError',
    status: 403,
    httpError: 'forbidden',
    description: 'The caller or agent is not allowed this tool, route or parameter (fail closed).',
  },
  // MCP clients (@agentid/mcp).
  {
    code: 'AGENTID_MCP_RESOURCE_MISMATCH',
    retryable: false,
    class: 'AuthorizationError',
    status: 502,
    httpError: 'bad_gateway',
    description:
      "An MCP server's protected-resource metadata is missing or names another resource than the server URL: no token is sent to it.",
  },
  {
    code: 'AGENTID_MCP_STEP_UP_FAILED',
    retryable: false,
    class: 'AuthorizationError',
    status: 403,
    httpError: 'insufficient_scope',
    description:
      'An MCP server refused a request again after its one step-up (a new token for the scope it named), or named a scope of another resource.',
  },
  // What a server of ours answers when the failure is not an agentid error.
  {
    code: 'AGENTID_BAD_REQUEST',
    retryable: false,
    class: 'AgentIdError',
    status: 400,
    httpError: 'invalid_request',
    description:
      'The HTTP request to a server of ours is malformed (body unparsable, too large, wrong content type).',
  },
  {
    code: 'AGENTID_INTERNAL',
    retryable: false,
    class: 'AgentIdError',
    status: 500,
    httpError: 'server_error',
    description:
      'A failure that is not an agentid error reached a server of ours (details are logged, never sent).',
  },
  {
    code: 'AGENTID_DOWNSTREAM',
    retryable: false,
    class: 'DownstreamError',
    status: 502,
    httpError: 'bad_gateway',
    description: 'A downstream API call failed (status in `status`).',
  },
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
  /** The class of the errors with this code (`AgentIdError` for codes only servers answer with). */
  readonly class: string;
  /** The HTTP status a server of ours answers with (middleware; the sidecar answers 401 where `refused`). */
  readonly status: number;
  /** The OAuth-style `error` of that answer's body (`invalid_token`, `forbidden`, `temporarily_unavailable`, ...). */
  readonly httpError: string;
  /** The token service refused for good (asking again unchanged will not help). */
  readonly refused?: boolean;
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
export const ERROR_CODES: readonly ErrorCodeInfo[] = Object.freeze(
  LIST.map((row) => Object.freeze({ ...row })),
);

const BY_CODE: ReadonlyMap<string, ErrorCodeInfo> = new Map(ERROR_CODES.map((row) => [row.code, row]));

/**
 * The table row of a code.
 *
 * @example
 * ```ts
 * errorCodeInfo('AGENTID_THROTTLED').status; // 503
 * ```
 */
export function errorCodeInfo(code: AgentIdErrorCode): ErrorCodeInfo {
  return BY_CODE.get(code) as ErrorCodeInfo;
}

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
