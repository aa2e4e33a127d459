import { describe, expect, it } from 'vitest';
import {
  AbortError,
  AgentIdError,
  ConfigurationError,
  CredentialError,
  findAgentIdError,
  InvalidTokenError,
  isAgentIdError,
  MalformedResponseError,
  NetworkError,
  OAuthError,
  ServiceError,
  ThrottledError,
  TimeoutError,
  TokenPolicyError,
  UnexpectedError,
} from './agent-id-error.js';
import { ERROR_CODES, isAgentIdErrorCode, isRetryableCode } from './codes.js';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

describe('ERROR_CODES', () => {
  it('lists unique AGENTID_ codes, each with a one-line description', () => {
    const codes = ERROR_CODES.map((c) => c.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const { code, description } of ERROR_CODES) {
      expect(code).toMatch(/^AGENTID_[A-Z_]+$/);
      expect(description.length).toBeGreaterThan(10);
      expect(description).not.toContain('\n');
    }
  });

  it('contains every code the brief names', () => {
    for (const code of [
      'AGENTID_INVALID_OPTIONS',
      'AGENTID_NETWORK',
      'AGENTID_TIMEOUT',
      'AGENTID_ABORTED',
      'AGENTID_THROTTLED',
      'AGENTID_SERVER_ERROR',
      'AGENTID_INVALID_GRANT',
      'AGENTID_INVALID_CLIENT',
      'AGENTID_INVALID_SCOPE',
      'AGENTID_INTERACTION_REQUIRED',
      'AGENTID_CONSENT_REQUIRED',
      'AGENTID_MISSING_FMI_PATH',
      'AGENTID_NO_CLIENT_CREDENTIAL',
      'AGENTID_FIC_NOT_MATCHED',
      'AGENTID_WRONG_TENANT',
      'AGENTID_TOKEN_LIFETIME',
      'AGENTID_MALFORMED_RESPONSE',
      'AGENTID_CREDENTIAL',
      'AGENTID_TOKEN_ENDPOINT',
      'AGENTID_AGENT_DISABLED',
      'AGENTID_NOT_FOUND',
    ]) {
      expect(isAgentIdErrorCode(code), code).toBe(true);
    }
    expect(isAgentIdErrorCode('NOPE')).toBe(false);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(ERROR_CODES)).toBe(true);
    expect(Object.isFrozen(ERROR_CODES[0])).toBe(true);
  });

  it('marks only transient failures retryable', () => {
    const retryable = ERROR_CODES.filter((c) => c.retryable)
      .map((c) => c.code)
      .sort();
    expect(retryable).toEqual([
      'AGENTID_JWKS',
      'AGENTID_NETWORK',
      'AGENTID_SERVER_ERROR',
      'AGENTID_SHARED_CACHE_UNAVAILABLE',
      'AGENTID_THROTTLED',
      'AGENTID_TIMEOUT',
    ]);
    expect(isRetryableCode('AGENTID_INVALID_GRANT')).toBe(false);
  });
});

describe('AgentIdError family', () => {
  const cases: Array<[AgentIdError, string, string]> = [
    [new NetworkError('n'), 'NetworkError', 'AGENTID_NETWORK'],
    [new TimeoutError('t'), 'TimeoutError', 'AGENTID_TIMEOUT'],
    [new AbortError(), 'AbortError', 'AGENTID_ABORTED'],
    [new ThrottledError('x'), 'ThrottledError', 'AGENTID_THROTTLED'],
    [new ServiceError('x'), 'ServiceError', 'AGENTID_SERVER_ERROR'],
    [new ConfigurationError('x'), 'ConfigurationError', 'AGENTID_INVALID_OPTIONS'],
    [new TokenPolicyError('x'), 'TokenPolicyError', 'AGENTID_TOKEN_LIFETIME'],
    [new CredentialError('x'), 'CredentialError', 'AGENTID_CREDENTIAL'],
    [new MalformedResponseError('x'), 'MalformedResponseError', 'AGENTID_MALFORMED_RESPONSE'],
    [new InvalidTokenError('x'), 'InvalidTokenError', 'AGENTID_INVALID_TOKEN'],
    [new UnexpectedError('x'), 'UnexpectedError', 'AGENTID_UNEXPECTED'],
    [new OAuthError('AGENTID_INVALID_GRANT', 'x'), 'OAuthError', 'AGENTID_INVALID_GRANT'],
  ];
  it.each(cases)('%s has its name, code and retryability', (error, name, code) => {
    expect(error).toBeInstanceOf(AgentIdError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(isRetryableCode(error.code));
    expect(isAgentIdError(error)).toBe(true);
    expect(isAgentIdError(error, error.code)).toBe(true);
  });

  it('always keeps the cause', () => {
    const cause = new Error('root');
    expect(new NetworkError('x', { cause }).cause).toBe(cause);
    expect(new AgentIdError('AGENTID_UNEXPECTED', 'x', { cause: 'str' }).cause).toBe('str');
    expect('cause' in new NetworkError('x')).toBe(false);
  });

  it('redacts the message and the error description', () => {
    const e = new OAuthError('AGENTID_INVALID_GRANT', `bad assertion=${JWT}`, {
      errorDescription: `AADSTS50013: Assertion failed. token ${JWT} Trace ID: t1 Correlation ID: c1`,
    });
    expect(e.message).not.toContain('eyJ');
    expect(e.errorDescription).not.toContain('eyJ');
    expect(e.errorDescription).toContain('Trace ID: t1 Correlation ID: c1');
  });

  it('carries HTTP details and serializes them safely', () => {
    const e = new ThrottledError('slow down', {
      status: 429,
      error: 'throttled',
      aadsts: 50196,
      errorCodes: [50196],
      correlationId: 'c',
      traceId: 't',
      retryAfterMs: 1000,
      cause: new Error('secret cause'),
    });
    const json = JSON.parse(JSON.stringify(e)) as Record<string, unknown>;
    expect(json).toEqual({
      name: 'ThrottledError',
      code: 'AGENTID_THROTTLED',
      message: 'slow down',
      retryable: true,
      status: 429,
      error: 'throttled',
      aadsts: 50196,
      errorCodes: [50196],
      correlationId: 'c',
      traceId: 't',
      retryAfterMs: 1000,
    });
    expect(Object.keys(new NetworkError('x'))).not.toContain('status');
  });

  it('isAgentIdError narrows by code', () => {
    expect(isAgentIdError(new TimeoutError('x'), 'AGENTID_NETWORK')).toBe(false);
    expect(isAgentIdError(new Error('x'))).toBe(false);
  });

  it('findAgentIdError walks the cause chain, bounded', () => {
    const typed = new NetworkError('n');
    expect(findAgentIdError(new Error('outer', { cause: new Error('mid', { cause: typed }) }))).toBe(typed);
    expect(findAgentIdError(new Error('plain'))).toBeUndefined();
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(findAgentIdError(a)).toBeUndefined();
    expect(findAgentIdError(undefined)).toBeUndefined();
  });
});

describe('the one table of codes', () => {
  it('the README lists every row with its class and HTTP status, and no code that is not in the table', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const row of ERROR_CODES) {
      const line = readme.split('\n').find((l) => l.startsWith(`| \`${row.code}\` |`));
      expect(line, row.code).toBeDefined();
      expect(line, row.code).toContain(`| \`${row.class}\` | ${row.status}`);
    }
    // The errors section only (other tables list environment variables such as AGENTID_EMULATOR).
    const errors = readme.slice(readme.indexOf('\n## Errors'));
    const listed = [
      ...errors.slice(0, errors.indexOf('\n## ', 4) >>> 0).matchAll(/^\| `(AGENTID_[A-Z_]+)` \|/gm),
    ].map((m) => m[1]);
    for (const code of listed) expect(isAgentIdErrorCode(code), code).toBe(true);
  });

  it('every AGENTID_ code used in any package source is in the table', async () => {
    const { readdirSync, readFileSync, statSync } = await import('node:fs');
    const { join } = await import('node:path');
    const packages = new URL('../../../', import.meta.url).pathname;
    const used = new Set<string>();
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.ts') && !name.endsWith('.test.ts'))
          for (const m of readFileSync(path, 'utf8').matchAll(/'(AGENTID_[A-Z][A-Z_]*[A-Z])'/g))
            used.add(m[1]!);
      }
    };
    for (const pkg of readdirSync(packages))
      if (statSync(join(packages, pkg, 'src'), { throwIfNoEntry: false })?.isDirectory())
        walk(join(packages, pkg, 'src'));
    expect(used.size).toBeGreaterThan(30);
    // Not codes: environment variables and the like that share the prefix.
    const unregistered = [...used].filter(
      (c) =>
        !isAgentIdErrorCode(c) &&
        !/^AGENTID_(EMULATOR|TEST_|CA_|LOG|MANAGED_IDENTITY_CLIENT_ID$|AUTHORITY_HOST$)/.test(c),
    );
    expect(unregistered).toEqual([]);
  });

  it("each row's class is the class that carries the code; every row has an HTTP status and error", () => {
    const classes: Record<string, new (...args: never[]) => AgentIdError> = {
      AgentIdError,
      ConfigurationError,
      OAuthError,
      NetworkError,
      TimeoutError,
      AbortError,
      ThrottledError,
      ServiceError,
      TokenPolicyError,
      CredentialError,
      MalformedResponseError,
      InvalidTokenError,
      UnexpectedError,
    };
    for (const row of ERROR_CODES) {
      expect(row.status, row.code).toBeGreaterThanOrEqual(400);
      expect(row.httpError, row.code).toMatch(/^[a-z_]+$/);
      const Class = classes[row.class];
      if (Class === undefined) continue; // multi-code classes of other modules: below
      const made =
        row.class === 'AgentIdError' || Class.length >= 2
          ? new (Class as unknown as new (c: string, m: string) => AgentIdError)(row.code, 'x')
          : new (Class as unknown as new (m: string) => AgentIdError)('x');
      if (row.class !== 'AgentIdError' && Class.length < 2) expect(made.code, row.class).toBe(row.code);
      expect(made.name, row.code).toBe(row.class);
    }
  });
});
