import {
  AuthError,
  ClientAuthError,
  ClientConfigurationError,
  InteractionRequiredAuthError,
  ServerError,
} from '@azure/msal-node';
import { describe, expect, it } from 'vitest';
import { NetworkError, OAuthError } from './agent-id-error.js';
import { errorFromMsalError } from './from-msal.js';

describe('errorFromMsalError', () => {
  it('maps MSAL ServerError through the AADSTS table', () => {
    const msal = new ServerError(
      'invalid_client',
      'corr-1',
      'Error(s): 7000215 - Timestamp: 2026 - Description: AADSTS7000215: Invalid client secret provided. Trace ID: t Correlation ID: corr-1 Timestamp: 2026 - Correlation ID: corr-1 - Trace ID: t',
      undefined,
      '7000215',
      401,
    );
    const e = errorFromMsalError(msal);
    expect(e).toBeInstanceOf(OAuthError);
    expect(e.code).toBe('AGENTID_INVALID_CLIENT');
    expect(e.aadsts).toBe(7000215);
    expect(e.status).toBe(401);
    expect(e.correlationId).toBe('corr-1');
    expect(e.errorDescription).toMatch(/^AADSTS7000215: Invalid client secret provided\./);
    expect(e.cause).toBe(msal);
  });

  it('maps InteractionRequiredAuthError', () => {
    const msal = new InteractionRequiredAuthError(
      'interaction_required',
      'c',
      'AADSTS50076: MFA required.',
      '',
      '',
      't',
      '',
      '50076',
    );
    const e = errorFromMsalError(msal);
    expect(e.code).toBe('AGENTID_INTERACTION_REQUIRED');
    expect(e.retryable).toBe(false);
  });

  it("maps MSAL's throttle-cache rethrow (numeric errorCode) to its AADSTS", () => {
    const e = errorFromMsalError(new ServerError('65001', 'c', 'consent missing'));
    expect(e.code).toBe('AGENTID_CONSENT_REQUIRED');
    expect(e.error).toBeUndefined();
  });

  it('maps network, parsing and configuration errors', () => {
    expect(errorFromMsalError(new ClientAuthError('network_error', 'x'))).toBeInstanceOf(NetworkError);
    expect(errorFromMsalError(new ClientAuthError('token_parsing_error', 'c')).code).toBe(
      'AGENTID_MALFORMED_RESPONSE',
    );
    expect(errorFromMsalError(new ClientConfigurationError('invalid_authority_type', 'c')).code).toBe(
      'AGENTID_INVALID_OPTIONS',
    );
    expect(errorFromMsalError(new AuthError('weird', 'odd')).code).toBe('AGENTID_UNEXPECTED');
    expect(errorFromMsalError('string thrown').code).toBe('AGENTID_UNEXPECTED');
  });

  it('passes through an AgentIdError found in the cause chain', () => {
    const typed = new NetworkError('reset');
    expect(errorFromMsalError(new Error('wrapped', { cause: typed }))).toBe(typed);
  });
});
