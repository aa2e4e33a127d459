import type { OAuthErrorCode } from './agent-id-error.js';

/**
 * How one AADSTS number is reported: the error code and a message that says what to do.
 *
 * @example
 * ```ts
 * const hint: AadstsInfo = AADSTS_CODES.get(82008)!;
 * ```
 */
export interface AadstsInfo {
  readonly code: OAuthErrorCode;
  readonly message: string;
}

// Messages follow PROTOCOL.md (which wins over Microsoft's generic wording where they differ,
// e.g. 700211 is reported there as "wrong tenant for leg 1").
const TABLE: ReadonlyArray<readonly [number, OAuthErrorCode, string]> = [
  [
    82008,
    'AGENTID_MISSING_FMI_PATH',
    "The blueprint token exchange needs fmi_path set to the agent identity's client id.",
  ],
  [
    7000216,
    'AGENTID_NO_CLIENT_CREDENTIAL',
    'The token request carried no client credential: send a client secret or a client assertion (certificate or federated token).',
  ],
  [
    7002137,
    'AGENTID_FIC_NOT_MATCHED',
    "The federated assertion matches none of the blueprint's federated identity credentials: check its issuer, subject and audience.",
  ],
  [
    700211,
    'AGENTID_WRONG_TENANT',
    "The blueprint token exchange (leg 1) was sent to a tenant where the blueprint has no principal or the agent identity does not exist: agent identities are single-tenant, so send it to the agent identity's own tenant; for a customer tenant, the blueprint must first be added there (an administrator grants admin consent, which creates the blueprint principal: POST /serviceprincipals/microsoft.graph.agentIdentityBlueprintPrincipal).",
  ],
  [
    70011,
    'AGENTID_INVALID_SCOPE',
    "The requested scope is not valid: app tokens need exactly one '<resource>/.default' scope.",
  ],
  [500011, 'AGENTID_INVALID_SCOPE', 'The resource in the scope has no service principal in this tenant.'],
  [
    50000,
    'AGENTID_TOKEN_ENDPOINT',
    'Entra could not issue the token; for an agent user, user_id must be an object id (send a UPN as username).',
  ],
  [
    65001,
    'AGENTID_CONSENT_REQUIRED',
    'Consent is missing for the requested permissions: an administrator or the user must grant them to the agent.',
  ],
  [
    9002324,
    'AGENTID_INVALID_REQUEST',
    'The request sent both a client secret and a client assertion: send exactly one client credential.',
  ],
  [
    700024,
    'AGENTID_ASSERTION_EXPIRED',
    "The client assertion is outside its validity window: check the host clock and the assertion's nbf/exp.",
  ],
  [
    500133,
    'AGENTID_ASSERTION_EXPIRED',
    "The user's assertion has expired or is not yet valid: get a fresh token from the user.",
  ],
  [
    50013,
    'AGENTID_INVALID_GRANT',
    "The assertion failed validation (signature, issuer or audience); for on-behalf-of, the user's token must be issued to the blueprint.",
  ],
  [
    7000215,
    'AGENTID_INVALID_CLIENT',
    'The client secret is wrong: check that the current secret value (not its id) is used.',
  ],
  [7000222, 'AGENTID_INVALID_CLIENT', 'The client secret has expired: create a new one.'],
  [
    700027,
    'AGENTID_INVALID_CLIENT',
    "The client assertion's signature could not be verified: the signing certificate is not registered on the blueprint.",
  ],
  [
    700016,
    'AGENTID_NOT_FOUND',
    'The application (client id) was not found in the tenant: check the client id and the tenant.',
  ],
  [50034, 'AGENTID_NOT_FOUND', 'The user account does not exist in the tenant.'],
  [90002, 'AGENTID_NOT_FOUND', 'The tenant was not found: check the tenant id or domain.'],
  [
    7000112,
    'AGENTID_AGENT_DISABLED',
    'The application is disabled (a disabled blueprint disables all of its agent identities): an owner must re-enable it.',
  ],
  [
    50076,
    'AGENTID_INTERACTION_REQUIRED',
    'Multi-factor authentication is required: the user must sign in again; an agent cannot satisfy it.',
  ],
  [
    50079,
    'AGENTID_INTERACTION_REQUIRED',
    'The user must enroll in multi-factor authentication; an agent cannot satisfy it.',
  ],
  [
    700082,
    'AGENTID_INVALID_GRANT',
    'The refresh token has expired due to inactivity: the user must sign in again.',
  ],
];

/**
 * The AADSTS numbers this package explains by name, with the code and message used for each.
 *
 * @example
 * ```ts
 * AADSTS_CODES.get(7002137)?.code; // 'AGENTID_FIC_NOT_MATCHED'
 * ```
 */
export const AADSTS_CODES: ReadonlyMap<number, AadstsInfo> = new Map(
  TABLE.map(([n, code, message]) => [n, Object.freeze({ code, message })] as const),
);
