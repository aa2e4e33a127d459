import { ConditionalAccessError, isAgentIdError } from '@agentid/core';
import { errorCodeInfo } from '@agentid/core/broker';

/**
 * An HTTP answer for a failure: status, headers (e.g. `WWW-Authenticate`) and a JSON body with
 * no token material. Express and Fastify send exactly this.
 *
 * @example
 * ```ts
 * const r = toErrorResponse(err, 'agentid');
 * res.status(r.status).set(r.headers).json(r.body);
 * ```
 */
export interface ErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: {
    readonly error: string;
    readonly code: string;
    readonly message: string;
    /** Conditional Access answers: who was refused, in which flow, for which resource. */
    readonly agentId?: string;
    readonly flow?: string;
    readonly resource?: string;
  };
}

const quote = (s: string): string => s.replace(/["\\]/g, '').slice(0, 200);

/** The request a Conditional Access answer refused, for the body (ids, never a token). */
function policyOf(error: unknown): { agentId?: string; flow?: string; resource?: string } {
  if (!(error instanceof ConditionalAccessError)) return {};
  return {
    ...(error.agentId !== undefined ? { agentId: error.agentId } : {}),
    ...(error.flow !== undefined ? { flow: error.flow } : {}),
    ...(error.resource !== undefined ? { resource: error.resource } : {}),
  };
}

/**
 * Maps any error to its {@link ErrorResponse}: 401 + `WWW-Authenticate` for refused tokens (RFC
 * 6750), 403 for scopes, tools, delegation limits and consent, 404 for unknown tools, 400 for bad
 * bodies, 503 (+ `Retry-After`) for retryable upstream failures, 502 for other upstream failures,
 * 500 without details for anything else. Conditional Access: a block is a 403 (`access_denied`,
 * `AGENTID_CONDITIONAL_ACCESS`) naming the agent, flow and resource; a challenge the user can
 * satisfy is a 401 with `WWW-Authenticate: Bearer error="insufficient_claims", claims="<base64>"`
 * (Microsoft's claims-challenge format), which the user's client answers by signing in again
 * with those claims.
 *
 * @example
 * ```ts
 * app.use((err, req, res, next) => { const r = toErrorResponse(err); res.status(r.status).set(r.headers).json(r.body); });
 * ```
 */
export function toErrorResponse(error: unknown, realm = 'agentid'): ErrorResponse {
  const make = (
    status: number,
    err: string,
    code: string,
    message: string,
    headers: Record<string, string> = {},
  ): ErrorResponse =>
    Object.freeze({
      status,
      headers: Object.freeze(headers),
      body: Object.freeze({ error: err, code, message, ...policyOf(error) }),
    });
  if (isAgentIdError(error)) {
    // Status and `error` come from the one table of codes (@agentid/core's ERROR_CODES).
    const row = errorCodeInfo(error.code);
    const msg = error.code === 'AGENTID_INVALID_OPTIONS' ? 'The agent is misconfigured' : error.message;
    const bearer = (params: string) => ({ 'www-authenticate': `Bearer realm="${quote(realm)}"${params}` });
    const described = `, error="${row.httpError}", error_description="${quote(msg)}"`;
    let headers: Record<string, string> = {};
    if (error instanceof ConditionalAccessError && error.claims !== undefined)
      headers = bearer(`${described}, claims="${Buffer.from(error.claims).toString('base64')}"`);
    else if (row.status === 401)
      headers = bearer(
        error.code === 'AGENTID_UNAUTHENTICATED' && msg.startsWith('No Authorization') ? '' : described,
      );
    else if (row.httpError === 'insufficient_scope') headers = bearer(described);
    else if (row.status === 503 && error.code === 'AGENTID_JWKS') headers = { 'retry-after': '5' };
    else if (row.status === 503 && error.retryAfterMs !== undefined)
      headers = { 'retry-after': String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) };
    return make(row.status, row.httpError, error.code, msg, headers);
  }
  // Body parsers (Express's body-parser, Fastify's content-type parsers) mark caller mistakes with a 4xx status.
  const status =
    (error as { status?: unknown; statusCode?: unknown } | null)?.statusCode ??
    (error as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const what =
      status === 413
        ? 'The request body is too large'
        : status === 415
          ? 'The content type is not supported'
          : 'The request body could not be parsed';
    return make(status, 'invalid_request', 'AGENTID_BAD_REQUEST', what);
  }
  return make(500, 'server_error', 'AGENTID_INTERNAL', 'Internal error');
}
