import { describe, expect, it } from 'vitest';
import { OAuthError } from './agent-id-error.js';
import { ConditionalAccessError, describeRefusal, resourceOfScopes } from './conditional-access.js';
import { errorFromMsalError } from './from-msal.js';
import { errorFromTokenResponse } from './from-token-response.js';

const CLAIMS = '{"access_token":{"capolids":{"essential":true,"values":["p1"]}}}';
const answer = (error: string, codes: number[], extra: Record<string, unknown> = {}) => ({
  status: 400,
  body: JSON.stringify({
    error,
    error_description: `AADSTS${codes[0]}: Server text. Trace ID: t1 Correlation ID: c1 Timestamp: 2026-11-23 10:00:00Z`,
    error_codes: codes,
    ...extra,
  }),
});

describe('Conditional Access answers of the token endpoint', () => {
  it('a block (interaction_required, 53003, message_only) is AGENTID_CONDITIONAL_ACCESS, not "interaction required"', () => {
    const e = errorFromTokenResponse(answer('interaction_required', [53003], { suberror: 'message_only' }));
    expect(e).toBeInstanceOf(ConditionalAccessError);
    expect(e.code).toBe('AGENTID_CONDITIONAL_ACCESS');
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/^Blocked by Conditional Access/);
    // The text (before the [AADSTS…, error, …] identifiers) never says "interaction required".
    expect(e.message.split(' [')[0]).not.toMatch(/interaction|sign in again/i);
    expect(e).toMatchObject({ aadsts: 53003, suberror: 'message_only', status: 400 });
  });

  it.each([53000, 53001, 53002, 53004, 53011])(
    'AADSTS%i without claims is a block too (the 53xxx family)',
    (n) => {
      expect(errorFromTokenResponse(answer('invalid_grant', [n])).code).toBe('AGENTID_CONDITIONAL_ACCESS');
    },
  );

  it.each([
    ['interaction_required', 50076],
    ['invalid_grant', 50079],
    ['interaction_required', 50158],
    ['invalid_grant', 53000],
  ])('%s %i with a claims value is a challenge the user can satisfy, carrying the claims', (error, n) => {
    const e = errorFromTokenResponse(answer(error, [n], { claims: CLAIMS, suberror: 'basic_action' }));
    expect(e).toBeInstanceOf(ConditionalAccessError);
    expect(e.code).toBe('AGENTID_CLAIMS_CHALLENGE');
    expect((e as ConditionalAccessError).claims).toBe(CLAIMS);
  });

  it('53003 stays a block even with claims; MFA without claims stays AGENTID_INTERACTION_REQUIRED', () => {
    expect(errorFromTokenResponse(answer('interaction_required', [53003], { claims: CLAIMS })).code).toBe(
      'AGENTID_CONDITIONAL_ACCESS',
    );
    expect(errorFromTokenResponse(answer('interaction_required', [50076])).code).toBe(
      'AGENTID_INTERACTION_REQUIRED',
    );
  });

  it("MSAL's own error (InteractionRequiredAuthError with claims) maps the same way", () => {
    const msal = Object.assign(new Error('x'), {
      name: 'InteractionRequiredAuthError',
      errorCode: 'interaction_required',
      errorMessage: 'Description: AADSTS50076: MFA. - Correlation ID: c',
      errorNo: '50076',
      claims: CLAIMS,
    });
    expect(errorFromMsalError(msal)).toMatchObject({ code: 'AGENTID_CLAIMS_CHALLENGE', claims: CLAIMS });
  });
});

describe('describeRefusal', () => {
  const block = () => errorFromTokenResponse(answer('interaction_required', [53003]));
  it('names the agent, the flow and the resource, keeps the original as cause, and only once', () => {
    const e = describeRefusal(block(), {
      clientId: 'a1',
      flow: 'obo',
      scopes: ['openid', 'api://tools/Mail.Read'],
    });
    expect(e).toBeInstanceOf(ConditionalAccessError);
    expect(e).toMatchObject({ agentId: 'a1', flow: 'obo', resource: 'api://tools', aadsts: 53003 });
    expect((e as Error).message).toMatch(
      /^Agent a1 \(flow obo, resource api:\/\/tools\): Blocked by Conditional Access/,
    );
    expect((e as ConditionalAccessError).toJSON()).toMatchObject({ agentId: 'a1', resource: 'api://tools' });
    expect(describeRefusal(e, { clientId: 'b', flow: 'x', scopes: [] })).toBe(e);
  });

  it('a disabled agent is named too; other errors pass as they are', () => {
    const off = errorFromTokenResponse(answer('unauthorized_client', [7000112]));
    const e = describeRefusal(off, { clientId: 'a1', flow: 'autonomous', scopes: ['api://tools/.default'] });
    expect(e).toBeInstanceOf(OAuthError);
    expect((e as Error).message).toMatch(
      /^Agent a1 \(flow autonomous, resource api:\/\/tools\): The application is disabled/,
    );
    const other = errorFromTokenResponse(answer('invalid_grant', [50013]));
    expect(describeRefusal(other, { clientId: 'a1', flow: 'obo', scopes: [] })).toBe(other);
  });

  it('resourceOfScopes', () => {
    expect(resourceOfScopes(['https://graph.microsoft.com/.default'])).toBe('https://graph.microsoft.com');
    expect(resourceOfScopes(['offline_access', 'api://x/y/Read'])).toBe('api://x/y');
    expect(resourceOfScopes(['openid'])).toBeUndefined();
  });
});
