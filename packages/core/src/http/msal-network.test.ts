import { ConfidentialClientApplication, type Configuration } from '@azure/msal-node';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AbortError,
  CredentialError,
  MalformedResponseError,
  NetworkError,
  OAuthError,
  ServiceError,
  ThrottledError,
} from '../errors/agent-id-error.js';
import { createFakeFetch, type FakeFetch, type FakeReply } from '@agentid/test-support/fake-fetch';
import { createHttpClient, type HttpClientOptions } from './client.js';
import { type MsalNetworkOptions, toMsalNetworkModule } from './msal-network.js';

const HOST = 'login.example.test';
const TENANT = '11111111-1111-1111-1111-111111111111';
const AUTHORITY = `https://${HOST}/${TENANT}`;
const TOKEN_URL = `${AUTHORITY}/oauth2/v2.0/token`;
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const ACCESS_TOKEN = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ oid: 'agent', tid: TENANT })}.c2ln`;
const OK: FakeReply = {
  status: 200,
  body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: ACCESS_TOKEN },
};
const aadsts = (status: number, error: string, code: number, text: string): FakeReply => ({
  status,
  body: {
    error,
    error_description: `AADSTS${code}: ${text} Trace ID: trace-1 Correlation ID: corr-1 Timestamp: 2026-11-23 10:00:00Z`,
    error_codes: [code],
    trace_id: 'trace-1',
    correlation_id: 'corr-1',
  },
});

let fake: FakeFetch;
afterEach(() => expect(fake.pending()).toBe(0));

function setup(
  replies: Array<FakeReply>,
  http: Partial<HttpClientOptions> = {},
  options: MsalNetworkOptions = {},
) {
  fake = createFakeFetch(replies);
  const sleeps: number[] = [];
  const client = createHttpClient({
    fetch: fake.fetch,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...http,
  });
  const network = toMsalNetworkModule(client, options);
  return { network, sleeps };
}

function msal(network: ReturnType<typeof toMsalNetworkModule>, auth: Partial<Configuration['auth']> = {}) {
  return new ConfidentialClientApplication({
    auth: {
      clientId: 'blueprint-app-id',
      authority: AUTHORITY,
      clientSecret: 'dev-secret-value',
      knownAuthorities: [HOST],
      // Metadata up front: MSAL makes no discovery calls, only token requests.
      authorityMetadata: JSON.stringify({
        token_endpoint: TOKEN_URL,
        issuer: `${AUTHORITY}/v2.0`,
        authorization_endpoint: `${AUTHORITY}/oauth2/v2.0/authorize`,
        end_session_endpoint: `${AUTHORITY}/oauth2/v2.0/logout`,
        jwks_uri: `${AUTHORITY}/discovery/v2.0/keys`,
      }),
      cloudDiscoveryMetadata: JSON.stringify({
        tenant_discovery_endpoint: `${AUTHORITY}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: HOST, preferred_cache: HOST, aliases: [HOST] }],
      }),
      ...auth,
    } as Configuration['auth'],
    system: { networkClient: network, disableInternalRetries: true },
  });
}

const request = { scopes: ['api://AzureADTokenExchange/.default'], skipCache: true };

describe('toMsalNetworkModule with MSAL Node', () => {
  it('carries a client-credential request and its answer', async () => {
    const { network } = setup([OK]);
    const result = await network.run({}, () => msal(network).acquireTokenByClientCredential(request));
    expect(result?.accessToken).toBe(ACCESS_TOKEN);
    expect(fake.calls[0]?.url.startsWith(TOKEN_URL)).toBe(true);
    expect(fake.calls[0]?.form.get('grant_type')).toBe('client_credentials');
    expect(fake.calls[0]?.form.get('client_id')).toBe('blueprint-app-id');
  });

  it('also works outside run() (no signal, MSAL errors unmapped)', async () => {
    const { network } = setup([OK]);
    const result = await msal(network).acquireTokenByClientCredential(request);
    expect(result?.accessToken).toBe(ACCESS_TOKEN);
  });

  it('retries a 429 honouring Retry-After, invisibly to MSAL', async () => {
    const { network, sleeps } = setup([
      { status: 429, headers: { 'retry-after': '1' }, body: { error: 'throttled' } },
      OK,
    ]);
    const result = await network.run({}, () => msal(network).acquireTokenByClientCredential(request));
    expect(result?.accessToken).toBe(ACCESS_TOKEN);
    expect(sleeps).toEqual([1000]);
  });

  it('retries 503 twice, then succeeds', async () => {
    const { network, sleeps } = setup([{ status: 503 }, { status: 503 }, OK]);
    const result = await network.run({}, () => msal(network).acquireTokenByClientCredential(request));
    expect(result?.accessToken).toBe(ACCESS_TOKEN);
    expect(sleeps).toHaveLength(2);
  });

  it('hands 400 bodies to MSAL and surfaces our typed error (invalid secret)', async () => {
    const { network, sleeps } = setup([
      aadsts(401, 'invalid_client', 7000215, 'Invalid client secret provided.'),
    ]);
    const error = await network
      .run({}, () => msal(network).acquireTokenByClientCredential(request))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({
      code: 'AGENTID_INVALID_CLIENT',
      aadsts: 7000215,
      status: 401,
      traceId: 'trace-1',
      retryable: false,
    });
    expect(sleeps).toEqual([]);
    expect((error as Error).message).not.toContain('dev-secret-value');
  });

  it('surfaces invalid_grant without retrying', async () => {
    const { network } = setup([
      aadsts(400, 'invalid_grant', 700024, 'Client assertion is not within its valid time range.'),
    ]);
    const error = await network
      .run({}, () => msal(network).acquireTokenByClientCredential(request))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'AGENTID_ASSERTION_EXPIRED', retryable: false });
  });

  it('after retries run out on 503, MSAL gets the last answer and the caller a retryable ServiceError', async () => {
    const { network } = setup(
      [
        { status: 503 },
        { status: 503, headers: { 'retry-after': '2' }, body: { error: 'temporarily_unavailable' } },
      ],
      { retries: 1 },
    );
    const error = await network
      .run({}, () => msal(network).acquireTokenByClientCredential(request))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ retryable: true, status: 503, retryAfterMs: 2000 });
  });

  it("exhaustedRetries: 'throw' keeps the answer from MSAL", async () => {
    const { network } = setup(
      [{ status: 429, body: { error: 'throttled' } }],
      { retries: 0 },
      { exhaustedRetries: 'throw' },
    );
    const error = await network
      .run({}, () => msal(network).acquireTokenByClientCredential(request))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThrottledError);
  });

  it('a malformed 200 body becomes AGENTID_MALFORMED_RESPONSE, not a crash', async () => {
    const { network } = setup([{ status: 200, body: '<html>proxy login</html>' }]);
    const error = await network
      .run({}, () => msal(network).acquireTokenByClientCredential(request))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(error).toMatchObject({ code: 'AGENTID_MALFORMED_RESPONSE', status: 200 });
  });

  it('a network failure comes out as NetworkError, although MSAL swallows the original', async () => {
    const { network } = setup([{ error: new TypeError('fetch failed') }], { retries: 0 });
    const error = await network
      .run({}, () => msal(network).acquireTokenByClientCredential(request))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
  });

  it('run({ signal }) lets a caller abort an MSAL call', async () => {
    const { network } = setup([{ hang: true }], { timeoutMs: 60_000 });
    const ac = new AbortController();
    const pending = network.run({ signal: ac.signal }, () =>
      msal(network).acquireTokenByClientCredential(request),
    );
    setTimeout(() => ac.abort(), 5);
    await expect(pending).rejects.toBeInstanceOf(AbortError);
  });

  it('passes through our errors thrown by MSAL callbacks (client assertion)', async () => {
    const { network } = setup([]);
    const failing = new CredentialError('cannot read the federated token file');
    const app = msal(network, {
      clientSecret: undefined,
      clientAssertion: async () => {
        throw failing;
      },
    } as Partial<Configuration['auth']>);
    await expect(network.run({}, () => app.acquireTokenByClientCredential(request))).rejects.toBe(failing);
  });

  it('maps MSAL errors that never reached the network', async () => {
    const { network } = setup([]);
    const error = await network
      .run({}, () => msal(network).acquireTokenByClientCredential({ scopes: [] as string[] }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ConfigurationError', code: 'AGENTID_INVALID_OPTIONS' });
    expect((error as Error).message).toContain('empty_input_scopes_error');
    expect(fake.calls).toHaveLength(0);
  });

  it('gives every run its signal: after earlier runs ended, and around a nested run', async () => {
    const { network } = setup([OK, OK, { hang: true }, OK, { hang: true }], {
      timeoutMs: 60_000,
      retries: 0,
    });
    const app = msal(network);
    await network.run({}, () => app.acquireTokenByClientCredential(request));
    await network.run({}, () => app.acquireTokenByClientCredential(request));
    // No run is in flight here; the next one still carries its signal.
    const late = new AbortController();
    const pending = network.run({ signal: late.signal }, () => app.acquireTokenByClientCredential(request));
    setTimeout(() => late.abort(), 5);
    await expect(pending).rejects.toBeInstanceOf(AbortError);
    // A run that starts and ends inside another leaves the outer one its signal.
    const outer = new AbortController();
    const nested = network.run({ signal: outer.signal }, async () => {
      await network.run({}, () => app.acquireTokenByClientCredential(request));
      return app.acquireTokenByClientCredential(request);
    });
    setTimeout(() => outer.abort(), 5);
    await expect(nested).rejects.toBeInstanceOf(AbortError);
  });

  it('keeps failures of concurrent runs apart', async () => {
    const { network } = setup([aadsts(400, 'invalid_scope', 70011, 'Bad scope.'), OK]);
    const app = msal(network);
    const [bad, good] = await Promise.allSettled([
      network.run({}, () => app.acquireTokenByClientCredential(request)),
      network.run({}, () =>
        app.acquireTokenByClientCredential({ ...request, scopes: ['api://other/.default'] }),
      ),
    ]);
    expect(bad.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason).toMatchObject({ code: 'AGENTID_INVALID_SCOPE' });
    expect(good.status).toBe('fulfilled');
  });
});

describe('toMsalNetworkModule as an INetworkModule', () => {
  it('returns error bodies parsed, not thrown, with lower-case headers', async () => {
    const { network } = setup([
      { status: 400, headers: { 'X-Ms-Request-Id': 'r' }, body: { error: 'invalid_grant' } },
    ]);
    const res = await network.sendPostRequestAsync<{ error: string }>(TOKEN_URL, {
      body: 'a=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res).toEqual({
      status: 400,
      headers: expect.objectContaining({ 'x-ms-request-id': 'r' }),
      body: { error: 'invalid_grant' },
    });
    expect(fake.calls[0]?.body).toBe('a=b');
  });

  it('GET uses MSAL’s timeout argument', async () => {
    const { network } = setup([{ hang: true }], { timeoutMs: 60_000, retries: 0 });
    const error = await network
      .sendGetRequestAsync(`${AUTHORITY}/v2.0/.well-known/openid-configuration`, {}, 15)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'AGENTID_TIMEOUT' });
    expect(fake.calls[0]?.method).toBe('GET');
  });

  it.each([
    ['not JSON', '{"access_token": "abc'],
    ['a JSON array', '[1,2]'],
    ['JSON null', 'null'],
    ['empty', ''],
  ])('a 200 body that is %s throws MalformedResponseError without quoting it', async (_, body) => {
    const { network } = setup([{ status: 200, body }]);
    const error = await network.sendPostRequestAsync(TOKEN_URL, { body: '' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect((error as Error).message).not.toContain('abc');
    expect((error as Error).cause).toBeUndefined();
  });

  it('a non-JSON 503 becomes a retryable ServiceError', async () => {
    const { network } = setup([{ status: 503, body: '<html>bad gateway</html>' }], { retries: 0 });
    const error = await network.sendPostRequestAsync(TOKEN_URL, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
  });

  it('validates its options', () => {
    fake = createFakeFetch();
    expect(() => toMsalNetworkModule({} as never)).toThrow(/HttpClient/);
    expect(() => toMsalNetworkModule(createHttpClient(), { exhaustedRetries: 'x' as never })).toThrow(
      /exhaustedRetries/,
    );
  });
});
