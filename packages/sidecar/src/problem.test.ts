// How token failures map to problem details: permanent token failures are 401 (the caller must act),
// outages 503 with the Retry-After of the token endpoint (moved here from test/security-sidecar).
import { ConditionalAccessError, ERROR_CODES, OAuthError } from '@agentid/core';
import { errorFromTokenResponse, isRetryableCode, type OAuthErrorCode } from '@agentid/core/broker';
import { describe, expect, it } from 'vitest';
import { problemFromError } from './problem.js';

describe('problemFromError: token failures are not outages', () => {
  it('the mapping, for every token-endpoint code and a Conditional Access block (AADSTS53003)', () => {
    const oauthCodes = ERROR_CODES.map((c) => c.code).filter(
      (c) =>
        c !== 'AGENTID_TOKEN_LIFETIME' &&
        /^AGENTID_(INVALID_(GRANT|CLIENT|SCOPE|REQUEST)|ASSERTION_EXPIRED|INTERACTION_REQUIRED|CONSENT_REQUIRED|MISSING_FMI_PATH|NO_CLIENT_CREDENTIAL|FIC_NOT_MATCHED|WRONG_TENANT|AGENT_DISABLED|NOT_FOUND|TOKEN_ENDPOINT)$/.test(
          c,
        ),
    );
    expect(oauthCodes.length).toBe(14);
    for (const code of oauthCodes)
      expect(
        problemFromError(new OAuthError(code as OAuthErrorCode, 'refused', { status: 400 })).problem.status,
        code,
      ).toBe(401);
    const blocked = errorFromTokenResponse({
      status: 400,
      body: {
        error: 'interaction_required',
        suberror: 'message_only',
        error_codes: [53003],
        error_description: 'AADSTS53003: Access has been blocked by Conditional Access policies.',
      },
    });
    // A block is a 403 naming the policy outcome (not a 401 "sign in again": nobody can lift it so).
    expect(problemFromError(blocked).problem).toMatchObject({
      status: 403,
      title: 'Forbidden',
      code: 'AGENTID_CONDITIONAL_ACCESS',
      detail: expect.stringContaining('Blocked by Conditional Access'),
    });
    const named = new ConditionalAccessError('AGENTID_CONDITIONAL_ACCESS', 'Agent a1 (...): Blocked', {
      agentId: 'a1',
      flow: 'obo',
      resource: 'api://tools',
    });
    expect(problemFromError(named).problem).toMatchObject({
      status: 403,
      agentId: 'a1',
      flow: 'obo',
      resource: 'api://tools',
    });
    // A challenge the user can satisfy: 401 with the claims for the caller's client.
    const claims = '{"access_token":{"capolids":{"essential":true,"values":["p"]}}}';
    const challenge = problemFromError(
      errorFromTokenResponse({
        status: 400,
        body: {
          error: 'interaction_required',
          error_codes: [50076],
          claims,
          error_description: 'AADSTS50076: MFA.',
        },
      }),
    );
    expect(challenge.problem).toMatchObject({ status: 401, code: 'AGENTID_CLAIMS_CHALLENGE' });
    expect(challenge.headers['www-authenticate']).toContain(
      `claims="${Buffer.from(claims).toString('base64')}"`,
    );
    for (const status of [500, 503, 429]) {
      const outage = errorFromTokenResponse({
        status,
        body: { error: 'temporarily_unavailable' },
        headers: { 'retry-after': '7' },
      });
      expect(isRetryableCode(outage.code)).toBe(true);
      const p = problemFromError(outage);
      expect(p.problem.status, String(status)).toBe(503);
      expect(p.headers['retry-after']).toBe('7');
    }
  });
});
