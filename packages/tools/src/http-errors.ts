import { isAgentIdError } from '@agentid/core';

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
  readonly body: { readonly error: string; readonly code: string; readonly message: string };
}

const quote = (s: string): string => s.replace(/["\\]/g, '').slice(0, 200);

/**
 * Maps any error to its {@link ErrorResponse}: 401 + `WWW-Authenticate` for refused tokens (RFC
 * 6750), 403 for scopes, tools, delegation limits and consent, 404 for unknown tools, 400 for bad
 * bodies, 503 (+ `Retry-After`) for retryable upstream failures, 502 for other upstream failures,
 * 500 without details for anything else.
 *
 * @example
 * ```ts
 * app.use((err, req, res, next) => { const r = toErrorResponse(err); res.status(r.status).set(r.headers).json(r.body); });
 * ```
 */
export function toErrorResponse(error: unknown, realm = 'agentid'): ErrorResponse {
  const make = (status: number, err: string, code: string, message: string, headers: Record<string, string> = {}): ErrorResponse =>
    Object.freeze({ status, headers: Object.freeze(headers), body: Object.freeze({ error: err, code, message }) });
  if (isAgentIdError(error)) {
    const msg = error.message;
    const bearer = (params: string) => ({ 'www-authenticate': `Bearer realm="${quote(realm)}"${params}` });
    switch (error.code) {
      case 'AGENTID_UNAUTHENTICATED':
        return make(401, 'invalid_request', error.code, msg, bearer(msg.startsWith('No Authorization') ? '' : `, error="invalid_request", error_description="${quote(msg)}"`));
      case 'AGENTID_INSUFFICIENT_SCOPE':
        return make(403, 'insufficient_scope', error.code, msg, bearer(`, error="insufficient_scope", error_description="${quote(msg)}"`));
      case 'AGENTID_JWKS':
        return make(503, 'temporarily_unavailable', error.code, msg, { 'retry-after': '5' });
      case 'AGENTID_TOOL_UNKNOWN':
        return make(404, 'unknown_tool', error.code, msg);
      case 'AGENTID_FORBIDDEN':
        return make(403, 'forbidden', error.code, msg);
      case 'AGENTID_DELEGATION_INVALID':
        return make(401, 'invalid_token', error.code, msg, bearer(`, error="invalid_token", error_description="${quote(msg)}"`));
      case 'AGENTID_HOP_LIMIT':
      case 'AGENTID_DELEGATION_CYCLE':
      case 'AGENTID_CONSENT_REQUIRED':
      case 'AGENTID_INTERACTION_REQUIRED':
      case 'AGENTID_AGENT_DISABLED':
        return make(403, 'forbidden', error.code, msg);
      case 'AGENTID_INVALID_OPTIONS':
        return make(500, 'server_error', error.code, 'The agent is misconfigured');
      case 'AGENTID_DOWNSTREAM':
        return make(502, 'bad_gateway', error.code, msg);
      default:
        if (error.code.startsWith('AGENTID_TOKEN_')) {
          if (error.code === 'AGENTID_TOKEN_ENDPOINT' || error.code === 'AGENTID_TOKEN_LIFETIME') return make(502, 'bad_gateway', error.code, msg);
          return make(401, 'invalid_token', error.code, msg, bearer(`, error="invalid_token", error_description="${quote(msg)}"`));
        }
        if (error.retryable) {
          const after: Record<string, string> = error.retryAfterMs !== undefined ? { 'retry-after': String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) } : {};
          return make(503, 'temporarily_unavailable', error.code, msg, after);
        }
        return make(502, 'bad_gateway', error.code, msg);
    }
  }
  // Body parsers (Express's body-parser, Fastify's content-type parsers) mark caller mistakes with a 4xx status.
  const status = (error as { status?: unknown; statusCode?: unknown } | null)?.statusCode ?? (error as { status?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const what = status === 413 ? 'The request body is too large' : status === 415 ? 'The content type is not supported' : 'The request body could not be parsed';
    return make(status, 'invalid_request', 'AGENTID_BAD_REQUEST', what);
  }
  return make(500, 'server_error', 'AGENTID_INTERNAL', 'Internal error');
}
