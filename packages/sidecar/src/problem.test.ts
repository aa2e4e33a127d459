// How token failures map to problem details: permanent token failures are 401 (the caller must act),
// outages 503 with the Retry-After of the token endpoint (moved here from test/security-sidecar).
import { ERROR_CODES, OAuthError } from '@agentid/core';
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
    expect(problemFromError(blocked).problem.status).toBe(401);
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
