import {
  AuthorizationError,
  ConfigurationError,
  DelegationError,
  OAuthError,
  TokenValidationError,
} from '@agentid/core';
import { ThrottledError } from '@agentid/core/broker';
import { describe, expect, it } from 'vitest';
import { claimsFromChallenge, defineTools, parseBearerChallenge, toErrorResponse } from './index.js';

describe('defineTools', () => {
  it('resolves full scopes and refuses registries that break least privilege', () => {
    const t = defineTools({
      a: { resource: 'api://tools', scopes: ['Mail.Read', 'api://tools/Mail.Send'], mode: 'obo' },
      b: { resource: 'https://graph.microsoft.com/', roles: ['Mail.Send'], mode: 'autonomous' },
    });
    expect(t.get('a')!.requestScopes).toEqual(['api://tools/Mail.Read', 'api://tools/Mail.Send']);
    expect(t.get('b')!.requestScopes).toEqual(['https://graph.microsoft.com/.default']);
    const bad: Array<[string, unknown]> = [
      ['no scopes for obo', { x: { resource: 'api://t', mode: 'obo' } }],
      ['.default for obo', { x: { resource: 'api://t', mode: 'obo', scopes: ['.default'] } }],
      ['autonomous without roles', { x: { resource: 'api://t', mode: 'autonomous' } }],
      [
        'autonomous with scopes',
        { x: { resource: 'api://t', mode: 'autonomous', roles: ['r'], scopes: ['s'] } },
      ],
      ['agent-user without a user', { x: { resource: 'api://t', mode: 'agent-user', scopes: ['s'] } }],
      ['bad mode', { x: { resource: 'api://t', mode: 'root', scopes: ['s'] } }],
      ['bad name', { 'x y': { resource: 'api://t', mode: 'obo', scopes: ['s'] } }],
      ['empty', {}],
    ];
    for (const [name, reg] of bad) expect(() => defineTools(reg as never), name).toThrow(ConfigurationError);
  });
});

describe('challenges', () => {
  it('parses Bearer challenges and decodes CAE claims', () => {
    const claims = JSON.stringify({ access_token: { xms_cc: { values: ['cp1'] } } });
    const h = `Bearer realm="", authorization_uri="https://login/x", error="insufficient_claims", claims="${Buffer.from(claims).toString('base64')}"`;
    expect(parseBearerChallenge(h)).toMatchObject({ realm: '', error: 'insufficient_claims' });
    expect(claimsFromChallenge(h)).toBe(claims);
    expect(claimsFromChallenge('Bearer error="invalid_token"')).toBeUndefined();
    expect(
      claimsFromChallenge('Bearer error="insufficient_claims", claims="!!notbase64json"'),
    ).toBeUndefined();
    expect(parseBearerChallenge('Basic realm="x"')).toBeUndefined();
    expect(parseBearerChallenge(undefined)).toBeUndefined();
  });
});

describe('toErrorResponse', () => {
  it('maps every failure to a clean status, with WWW-Authenticate where RFC 6750 wants it', () => {
    const cases: Array<[unknown, number, string | undefined]> = [
      [
        new TokenValidationError(
          'AGENTID_UNAUTHENTICATED',
          'No Authorization header: a bearer token is required',
        ),
        401,
        'Bearer realm="r"',
      ],
      [
        new TokenValidationError('AGENTID_TOKEN_EXPIRED', 'The token has expired'),
        401,
        'Bearer realm="r", error="invalid_token", error_description="The token has expired"',
      ],
      [
        new TokenValidationError('AGENTID_INSUFFICIENT_SCOPE', 'none of access_agent'),
        403,
        'Bearer realm="r", error="insufficient_scope", error_description="none of access_agent"',
      ],
      [new AuthorizationError('AGENTID_TOOL_UNKNOWN', 'x'), 404, undefined],
      [new AuthorizationError('AGENTID_FORBIDDEN', 'x'), 403, undefined],
      [new DelegationError('AGENTID_HOP_LIMIT', 'x'), 403, undefined],
      [new OAuthError('AGENTID_INTERACTION_REQUIRED', 'mfa'), 403, undefined],
      [new ThrottledError('slow down', { retryAfterMs: 2500 }), 503, undefined],
      [new ConfigurationError('secret detail'), 500, undefined],
      [Object.assign(new SyntaxError('Unexpected token'), { status: 400 }), 400, undefined],
      [new Error('boom at /srv/app.js:10'), 500, undefined],
    ];
    for (const [e, status, wwwAuth] of cases) {
      const r = toErrorResponse(e, 'r');
      expect(r.status, String(e)).toBe(status);
      expect(r.headers['www-authenticate']).toBe(wwwAuth);
      expect(JSON.stringify(r.body)).not.toContain('secret detail');
      expect(JSON.stringify(r.body)).not.toContain('app.js');
    }
    expect(toErrorResponse(new ThrottledError('slow', { retryAfterMs: 2500 })).headers['retry-after']).toBe(
      '3',
    );
  });
});
