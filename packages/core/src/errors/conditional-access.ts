import { AgentIdError, type AgentIdErrorOptions, isAgentIdError, OAuthError } from './agent-id-error.js';
import type { AgentIdErrorCode } from './codes.js';

/**
 * Codes of {@link ConditionalAccessError}: a block (terminal) or a challenge the user can satisfy.
 *
 * @example
 * ```ts
 * const c: ConditionalAccessErrorCode = 'AGENTID_CONDITIONAL_ACCESS';
 * ```
 */
export type ConditionalAccessErrorCode = Extract<
  AgentIdErrorCode,
  'AGENTID_CONDITIONAL_ACCESS' | 'AGENTID_CLAIMS_CHALLENGE'
>;

/**
 * Details of a {@link ConditionalAccessError}: the request the policy answered (never a token).
 *
 * @example
 * ```ts
 * const o: ConditionalAccessErrorOptions = { agentId, flow: 'obo', resource: 'api://tools', claims: '{"access_token":{}}' };
 * ```
 */
export interface ConditionalAccessErrorOptions extends AgentIdErrorOptions {
  /** The client the policy answered: the agent identity (or the blueprint, for its own app tokens). */
  agentId?: string;
  /** The flow of the request: `autonomous`, `obo`, `agent-user`, ... */
  flow?: string;
  /** The resource the token was for (`api://tools`, `https://graph.microsoft.com`). */
  resource?: string;
  /** The claims request (JSON text) the user's client must satisfy: `AGENTID_CLAIMS_CHALLENGE` only. */
  claims?: string;
}

/**
 * Conditional Access answered a token request. `AGENTID_CONDITIONAL_ACCESS`: a policy blocks it
 * (AADSTS53003, the 53000-53999 family): terminal, never retried, and not "interaction required"
 * (nobody can sign in to lift a block; an administrator must change the policy).
 * `AGENTID_CLAIMS_CHALLENGE`: a policy asks the user for more (MFA, a compliant device) and Entra
 * sent the claims to ask for: an on-behalf-of agent passes it back to the user's client (401
 * `insufficient_claims`, which the middleware sends). `agentId`, `flow` and `resource` name the
 * request (set by the broker); `claims` is the claims request, never token material.
 *
 * @example
 * ```ts
 * try { await agent.getToken(['api://tools/.default']); }
 * catch (e) { if (e instanceof ConditionalAccessError && e.code === 'AGENTID_CONDITIONAL_ACCESS') alert(e.agentId, e.resource); }
 * ```
 */
export class ConditionalAccessError extends AgentIdError {
  declare readonly code: ConditionalAccessErrorCode;
  declare readonly agentId?: string;
  declare readonly flow?: string;
  declare readonly resource?: string;
  declare readonly claims?: string;

  constructor(
    code: ConditionalAccessErrorCode,
    message: string,
    options: ConditionalAccessErrorOptions = {},
  ) {
    super(code, message, options);
    if (options.agentId !== undefined) this.agentId = options.agentId;
    if (options.flow !== undefined) this.flow = options.flow;
    if (options.resource !== undefined) this.resource = options.resource;
    if (options.claims !== undefined) this.claims = options.claims;
  }

  override toJSON(): Record<string, unknown> {
    const out = super.toJSON();
    for (const k of ['agentId', 'flow', 'resource', 'claims'] as const)
      if (this[k] !== undefined) out[k] = this[k];
    return out;
  }
}

const OIDC = new Set(['openid', 'profile', 'offline_access', 'email']);

/**
 * The resource a list of scopes is for: the first scope that is not an OIDC one, without its
 * last path segment (`api://tools/Mail.Read` → `api://tools`).
 *
 * @example
 * ```ts
 * resourceOfScopes(['https://graph.microsoft.com/.default']); // 'https://graph.microsoft.com'
 * ```
 */
export function resourceOfScopes(scopes: readonly string[]): string | undefined {
  const scope = scopes.find((s) => typeof s === 'string' && !OIDC.has(s));
  if (scope === undefined) return undefined;
  const cut = scope.lastIndexOf('/');
  return cut > 0 ? scope.slice(0, cut) : scope;
}

/**
 * The request a refusal answered: who asked, in which flow, for which scopes.
 *
 * @example
 * ```ts
 * const r: RefusedRequest = { clientId: agentId, flow: 'autonomous', scopes: ['api://tools/.default'] };
 * ```
 */
export interface RefusedRequest {
  readonly clientId: string;
  readonly flow: string;
  readonly scopes: readonly string[];
}

const optionsOf = (e: AgentIdError): AgentIdErrorOptions => {
  const o: AgentIdErrorOptions = {};
  for (const k of [
    'status',
    'error',
    'errorDescription',
    'suberror',
    'aadsts',
    'errorCodes',
    'correlationId',
    'traceId',
  ] as const)
    if (e[k] !== undefined) (o as Record<string, unknown>)[k] = e[k];
  // The original (with its own cause, the MSAL error or HTTP answer) stays reachable.
  o.cause = e;
  return o;
};

/**
 * A refusal by policy, told with the request it answered: a Conditional Access block or
 * challenge, or a disabled agent. Their error is rebuilt naming the agent, the flow and the
 * resource (the token endpoint's answer names none of them); any other error is returned as it
 * is. Used by the broker on every failed acquisition.
 *
 * @example
 * ```ts
 * throw describeRefusal(error, { clientId: agentId, flow: 'obo', scopes });
 * ```
 */
export function describeRefusal(error: unknown, request: RefusedRequest): unknown {
  if (!isAgentIdError(error)) return error;
  const resource = resourceOfScopes(request.scopes);
  const on = `Agent ${request.clientId} (flow ${request.flow}${resource !== undefined ? `, resource ${resource}` : ''}): `;
  if (error instanceof ConditionalAccessError && error.agentId === undefined) {
    return new ConditionalAccessError(error.code, `${on}${error.message}`, {
      ...optionsOf(error),
      agentId: request.clientId,
      flow: request.flow,
      ...(resource !== undefined ? { resource } : {}),
      ...(error.claims !== undefined ? { claims: error.claims } : {}),
    });
  }
  if (error.code === 'AGENTID_AGENT_DISABLED' && !error.message.startsWith('Agent '))
    return new OAuthError('AGENTID_AGENT_DISABLED', `${on}${error.message}`, optionsOf(error));
  return error;
}

/**
 * Whether Entra refused a request by policy: a Conditional Access block or a disabled agent. The
 * broker then drops the token cached for that request (see `broker.ts`), so the refusal is never
 * hidden behind it.
 *
 * @example
 * ```ts
 * if (isPolicyRefusal(e)) await store.invalidate({ key });
 * ```
 */
export function isPolicyRefusal(error: unknown): boolean {
  return (
    isAgentIdError(error, 'AGENTID_CONDITIONAL_ACCESS') || isAgentIdError(error, 'AGENTID_AGENT_DISABLED')
  );
}
