import { randomUUID } from 'node:crypto';

/** A token-endpoint failure in Entra's shape: OAuth `error`, an AADSTS code and a description. */
export class OAuthFailure extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly aadsts: number,
    readonly description: string,
    readonly suberror?: string,
    /** A claims request the client can satisfy (Conditional Access: MFA), sent as `claims`. */
    readonly claims?: string,
  ) {
    super(`AADSTS${aadsts}: ${description}`);
    this.name = 'OAuthFailure';
  }
}

/** Shorthands for the failures the token endpoint answers with. */
export const fail = {
  request: (code: number, d: string) => new OAuthFailure(400, 'invalid_request', code, d),
  client: (code: number, d: string, status = 401) => new OAuthFailure(status, 'invalid_client', code, d),
  grant: (code: number, d: string, suberror?: string) =>
    new OAuthFailure(400, 'invalid_grant', code, d, suberror),
  scope: (code: number, d: string) => new OAuthFailure(400, 'invalid_scope', code, d),
  resource: (code: number, d: string) => new OAuthFailure(400, 'invalid_resource', code, d),
  unauthorized: (code: number, d: string) => new OAuthFailure(400, 'unauthorized_client', code, d),
};

/** The JSON body Entra sends with an error: the description carries trace and correlation ids. */
export function errorBody(f: OAuthFailure, now: Date, correlationId?: string): Record<string, unknown> {
  const traceId = randomUUID();
  const corr = correlationId && /^[0-9a-f-]{36}$/i.test(correlationId) ? correlationId : randomUUID();
  const ts = now
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  return {
    error: f.error,
    error_description: `AADSTS${f.aadsts}: ${f.description} Trace ID: ${traceId} Correlation ID: ${corr} Timestamp: ${ts}`,
    error_codes: [f.aadsts],
    timestamp: ts,
    trace_id: traceId,
    correlation_id: corr,
    error_uri: `https://login.microsoftonline.com/error?code=${f.aadsts}`,
    ...(f.suberror ? { suberror: f.suberror } : {}),
    ...(f.claims ? { claims: f.claims } : {}),
  };
}
