import { describe, expect, it } from 'vitest';
import { AADSTS_CODES } from './aadsts.js';
import { OAuthError, ServiceError, ThrottledError } from './agent-id-error.js';
import { errorFromTokenResponse } from './from-token-response.js';

const entra = (code: number, error: string, text: string, extra: Record<string, unknown> = {}) => ({
  error,
  error_description: `AADSTS${code}: ${text} Trace ID: 11111111-aaaa Correlation ID: 22222222-bbbb Timestamp: 2026-11-23 10:00:00Z`,
  error_codes: [code],
  timestamp: '2026-11-23 10:00:00Z',
  trace_id: '11111111-aaaa',
  correlation_id: '22222222-bbbb',
  ...extra,
});

describe('errorFromTokenResponse: AADSTS codes from PROTOCOL.md', () => {
  const cases: Array<[number, string, string, number]> = [
    [82008, 'invalid_request', 'AGENTID_MISSING_FMI_PATH', 400],
    [7000216, 'invalid_client', 'AGENTID_NO_CLIENT_CREDENTIAL', 401],
    [7002137, 'invalid_client', 'AGENTID_FIC_NOT_MATCHED', 401],
    [700211, 'invalid_grant', 'AGENTID_WRONG_TENANT', 400],
    [70011, 'invalid_scope', 'AGENTID_INVALID_SCOPE', 400],
    [50000, 'invalid_request', 'AGENTID_TOKEN_ENDPOINT', 400],
    [65001, 'invalid_grant', 'AGENTID_CONSENT_REQUIRED', 400],
    [9002324, 'invalid_request', 'AGENTID_INVALID_REQUEST', 400],
    [700024, 'invalid_client', 'AGENTID_ASSERTION_EXPIRED', 401],
    [500133, 'invalid_grant', 'AGENTID_ASSERTION_EXPIRED', 400],
    [50013, 'invalid_grant', 'AGENTID_INVALID_GRANT', 400],
    [7000215, 'invalid_client', 'AGENTID_INVALID_CLIENT', 401],
    [700027, 'invalid_client', 'AGENTID_INVALID_CLIENT', 401],
    [50034, 'invalid_grant', 'AGENTID_NOT_FOUND', 400],
    [7000112, 'unauthorized_client', 'AGENTID_AGENT_DISABLED', 400],
  ];
  it.each(cases)('AADSTS%i (%s) → %s', (aadsts, error, code, status) => {
    const e = errorFromTokenResponse({
      status,
      body: JSON.stringify(entra(aadsts, error, 'Server text.')),
      headers: {},
    });
    expect(e).toBeInstanceOf(OAuthError);
    expect(e.code).toBe(code);
    expect(e.retryable).toBe(false);
    expect(e.status).toBe(status);
    expect(e.error).toBe(error);
    expect(e.aadsts).toBe(aadsts);
    expect(e.errorCodes).toEqual([aadsts]);
    expect(e.traceId).toBe('11111111-aaaa');
    expect(e.correlationId).toBe('22222222-bbbb');
    expect(e.errorDescription).toContain('Trace ID: 11111111-aaaa Correlation ID: 22222222-bbbb');
    // A human explanation, plus the identifiers support needs.
    expect(e.message).toContain(AADSTS_CODES.get(aadsts)!.message);
    expect(e.message).toContain(`AADSTS${aadsts}`);
    expect(e.message).toContain('trace_id 11111111-aaaa');
  });

  it('every table entry has a distinct, non-empty message', () => {
    for (const [n, info] of AADSTS_CODES) {
      expect(info.message.length, String(n)).toBeGreaterThan(20);
    }
  });
});

describe('errorFromTokenResponse: OAuth errors without a known AADSTS number', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ error: 'invalid_grant' }, 'AGENTID_INVALID_GRANT'],
    [{ error: 'interaction_required' }, 'AGENTID_INTERACTION_REQUIRED'],
    [{ error: 'invalid_grant', suberror: 'consent_required' }, 'AGENTID_CONSENT_REQUIRED'],
    [{ error: 'invalid_grant', suberror: 'basic_action' }, 'AGENTID_INTERACTION_REQUIRED'],
    [{ error: 'invalid_client' }, 'AGENTID_INVALID_CLIENT'],
    [{ error: 'unauthorized_client' }, 'AGENTID_INVALID_CLIENT'],
    [{ error: 'invalid_scope' }, 'AGENTID_INVALID_SCOPE'],
    [
      { error: 'invalid_request', error_description: 'AADSTS90014: The required field is missing.' },
      'AGENTID_INVALID_REQUEST',
    ],
    [{ error: 'something_new' }, 'AGENTID_TOKEN_ENDPOINT'],
  ];
  it.each(cases)('%j → %s, never retryable', (body, code) => {
    const e = errorFromTokenResponse({ status: 400, body });
    expect(e.code).toBe(code);
    expect(e.retryable).toBe(false);
  });

  it('reads the AADSTS number from the description when error_codes is missing', () => {
    const e = errorFromTokenResponse({
      status: 400,
      body: { error: 'invalid_request', error_description: 'AADSTS82008: fmi_path missing.' },
    });
    expect(e.aadsts).toBe(82008);
    expect(e.code).toBe('AGENTID_MISSING_FMI_PATH');
  });

  it('keeps the first line of unknown AADSTS text in the message', () => {
    const e = errorFromTokenResponse({
      status: 400,
      body: entra(90014, 'invalid_request', 'The request body must contain x.'),
    });
    expect(e.message).toContain('AADSTS90014: The request body must contain x.');
    expect(e.message).not.toContain('Timestamp');
  });

  it('never leaks token material from the description', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
    const e = errorFromTokenResponse({
      status: 400,
      body: { error: 'invalid_grant', error_description: `AADSTS50013: bad ${jwt}` },
    });
    expect(e.message).not.toContain(jwt);
    expect(e.errorDescription).not.toContain(jwt);
  });

  it('4xx without a JSON body is an endpoint error, not retryable', () => {
    const e = errorFromTokenResponse({ status: 404, body: '<html>nope</html>' });
    expect(e.code).toBe('AGENTID_TOKEN_ENDPOINT');
    expect(e.message).toContain('HTTP 404');
    expect(e.retryable).toBe(false);
  });

  it('takes trace and correlation ids from headers when the body has none', () => {
    const e = errorFromTokenResponse({
      status: 400,
      body: { error: 'invalid_grant' },
      headers: { 'x-ms-request-id': 'tr', 'Client-Request-Id': 'co' },
    });
    expect(e.traceId).toBe('tr');
    expect(e.correlationId).toBe('co');
  });

  it('keeps a given cause', () => {
    const cause = new Error('msal');
    expect(errorFromTokenResponse({ status: 400, body: {}, cause }).cause).toBe(cause);
  });
});

describe('errorFromTokenResponse: throttling and server errors', () => {
  const now = Date.parse('2026-11-23T10:00:00Z');
  it('429 → ThrottledError with Retry-After seconds', () => {
    const e = errorFromTokenResponse({ status: 429, body: '', headers: { 'Retry-After': '7' }, now });
    expect(e).toBeInstanceOf(ThrottledError);
    expect(e.code).toBe('AGENTID_THROTTLED');
    expect(e.retryable).toBe(true);
    expect(e.retryAfterMs).toBe(7000);
    expect(e.message).toContain('7000 ms');
  });
  it('503 → ServiceError with Retry-After as an HTTP-date', () => {
    const e = errorFromTokenResponse({
      status: 503,
      body: '<html>',
      headers: { 'retry-after': 'Mon, 23 Nov 2026 10:00:30 GMT' },
      now,
    });
    expect(e).toBeInstanceOf(ServiceError);
    expect(e.code).toBe('AGENTID_SERVER_ERROR');
    expect(e.retryable).toBe(true);
    expect(e.retryAfterMs).toBe(30_000);
  });
  it('500 with an AADSTS body is still a retryable server error that keeps the details', () => {
    const e = errorFromTokenResponse({
      status: 500,
      body: entra(50000, 'server_error', 'Internal error.'),
      now,
    });
    expect(e.code).toBe('AGENTID_SERVER_ERROR');
    expect(e.aadsts).toBe(50000);
    expect(e.retryAfterMs).toBeUndefined();
  });
  it('a 4xx is never retryable, whatever its body says', () => {
    expect(
      errorFromTokenResponse({ status: 400, body: { error: 'temporarily_unavailable' } }).retryable,
    ).toBe(false);
  });
});
