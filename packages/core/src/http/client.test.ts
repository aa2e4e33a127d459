import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  AbortError,
  NetworkError,
  ServiceError,
  ThrottledError,
  TimeoutError,
} from '../errors/agent-id-error.js';
import { ATTR } from '../telemetry/attributes.js';
import { createFakeFetch, type FakeFetch } from '@agentid/test-support/fake-fetch';
import { createTestTracing } from '@agentid/test-support/otel';
import { createManualClock } from '../util/clock.js';
import { createHttpClient, type HttpAttempt, type HttpClientOptions } from './client.js';

const URL_ = 'https://login.example.test/tenant/oauth2/v2.0/token';
const tracing = createTestTracing();
let fake: FakeFetch;

afterEach(() => {
  // Every scripted answer must have been consumed: nothing pending, nothing unexpected.
  expect(fake.pending()).toBe(0);
  tracing.reset();
});
afterAll(() => tracing.close());

function setup(replies: Parameters<typeof createFakeFetch>[0], options: Partial<HttpClientOptions> = {}) {
  fake = createFakeFetch(replies);
  const sleeps: number[] = [];
  const attempts: HttpAttempt[] = [];
  const client = createHttpClient({
    fetch: fake.fetch,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    onAttempt: (a) => attempts.push(a),
    tracer: tracing.provider.getTracer('test'),
    ...options,
  });
  return { client, sleeps, attempts };
}

const post = { url: URL_, method: 'POST', body: 'grant_type=client_credentials&client_secret=s3cr3t' };

describe('createHttpClient: options', () => {
  it('validates up front with TypeErrors naming the option', () => {
    fake = createFakeFetch();
    expect(() => createHttpClient({ fetch: 1 as never })).toThrow(/fetch must be a function/);
    expect(() => createHttpClient({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => createHttpClient({ retries: -1 })).toThrow(/retries/);
    expect(() => createHttpClient({ retries: 1.5 })).toThrow(/retries/);
    expect(() => createHttpClient({ minRetryDelayMs: 100, maxRetryDelayMs: 50 })).toThrow(/maxRetryDelayMs/);
    expect(() => createHttpClient({ maxRetryAfterMs: -1 })).toThrow(/maxRetryAfterMs/);
    expect(() => createHttpClient({ sleep: 'x' as never })).toThrow(/sleep/);
  });

  it('rejects bad requests', async () => {
    const { client } = setup([]);
    await expect(client.request({ url: 'relative/path' })).rejects.toThrow(/absolute URL/);
    await expect(client.request(undefined as never)).rejects.toThrow(TypeError);
    await expect(client.request({ url: URL_, timeoutMs: 0 })).rejects.toThrow(/request.timeoutMs/);
  });
});

describe('createHttpClient: requests', () => {
  it('sends the request and returns status, lower-cased headers and body', async () => {
    const { client, attempts } = setup([
      { status: 200, headers: { 'X-Ms-Request-Id': 'r1' }, body: { ok: true } },
    ]);
    const res = await client.request({
      ...post,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res).toEqual({
      status: 200,
      headers: expect.objectContaining({ 'x-ms-request-id': 'r1' }),
      body: '{"ok":true}',
      attempts: 1,
    });
    expect(fake.calls[0]).toMatchObject({ url: URL_, method: 'POST', body: post.body });
    expect(fake.calls[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(attempts).toEqual([
      expect.objectContaining({ attempt: 1, status: 200, method: 'POST', url: URL_ }),
    ]);
  });

  it('retries 429 after Retry-After seconds, then succeeds', async () => {
    const { client, sleeps, attempts } = setup([
      { status: 429, headers: { 'retry-after': '1' }, body: { error: 'throttled' } },
      { status: 200, body: { ok: true } },
    ]);
    const res = await client.request(post);
    expect(res.status).toBe(200);
    expect(res.attempts).toBe(2);
    expect(sleeps).toEqual([1000]);
    expect(attempts.map((a) => [a.attempt, a.status, a.retryInMs])).toEqual([
      [1, 429, 1000],
      [2, 200, undefined],
    ]);
  });

  it('honours Retry-After as an HTTP-date', async () => {
    const clock = createManualClock(Date.parse('2026-11-23T10:00:00Z'));
    const { client, sleeps } = setup(
      [
        { status: 503, headers: { 'retry-after': 'Mon, 23 Nov 2026 10:00:02 GMT' } },
        { status: 200, body: {} },
      ],
      { clock },
    );
    await client.request(post);
    expect(sleeps).toEqual([2000]);
  });

  it('retries 5xx with exponential backoff and jitter', async () => {
    const { client, sleeps } = setup([{ status: 503 }, { status: 502 }, { status: 200, body: {} }], {
      minRetryDelayMs: 200,
      random: () => 0,
    });
    const res = await client.request(post);
    expect(res.status).toBe(200);
    expect(res.attempts).toBe(3);
    // min × 2^n, scaled into [0.5, 1) by the jitter (random() = 0 → half).
    expect(sleeps).toEqual([100, 200]);
  });

  it('caps the backoff at maxRetryDelayMs', async () => {
    const { client, sleeps } = setup(
      [{ status: 500 }, { status: 500 }, { status: 500 }, { status: 200, body: {} }],
      {
        minRetryDelayMs: 1000,
        maxRetryDelayMs: 1500,
        random: () => 0.999999,
      },
    );
    await client.request(post);
    expect(sleeps).toEqual([1000, 1500, 1500]);
  });

  it('returns the last answer when retries run out on 429/5xx', async () => {
    const { client, sleeps } = setup(
      [{ status: 503 }, { status: 503 }, { status: 503, body: { error: 'temporarily_unavailable' } }],
      { retries: 2 },
    );
    const res = await client.request(post);
    expect(res.status).toBe(503);
    expect(res.attempts).toBe(3);
    expect(res.body).toContain('temporarily_unavailable');
    expect(sleeps).toHaveLength(2);
  });

  it('never retries a 400 such as invalid_grant', async () => {
    const { client, sleeps } = setup([{ status: 400, body: { error: 'invalid_grant' } }]);
    const res = await client.request(post);
    expect(res.status).toBe(400);
    expect(res.attempts).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it.each([401, 403, 404, 409])('never retries %i', async (status) => {
    const { client } = setup([{ status, body: {} }]);
    expect((await client.request(post)).attempts).toBe(1);
  });

  it('retries network errors (fetch throwing) and reports them', async () => {
    const reset = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    });
    const { client, attempts } = setup([{ error: reset }, { status: 200, body: {} }]);
    expect((await client.request(post)).attempts).toBe(2);
    expect(attempts[0]?.error).toBeInstanceOf(NetworkError);
    expect(attempts[0]?.error?.message).toContain('ECONNRESET');
    expect(attempts[0]?.error?.cause).toBe(reset);
  });

  it('throws NetworkError when network errors outlast the retries', async () => {
    const { client } = setup(
      [{ error: new TypeError('fetch failed') }, { error: new TypeError('fetch failed') }],
      { retries: 1 },
    );
    const error = await client.request(post).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).retryable).toBe(true);
  });

  it('times out a hanging attempt, and retries it', async () => {
    const { client } = setup([{ hang: true }, { status: 200, body: {} }], { timeoutMs: 20 });
    const res = await client.request(post);
    expect(res.attempts).toBe(2);
  });

  it('throws TimeoutError when every attempt times out', async () => {
    const { client } = setup([{ hang: true }], { timeoutMs: 20, retries: 0 });
    const error = await client.request(post).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).message).toContain('timed out after 20 ms');
  });

  it('per-request timeoutMs overrides the client default', async () => {
    const { client } = setup([{ hang: true }], { timeoutMs: 60_000, retries: 0 });
    await expect(client.request({ ...post, timeoutMs: 15 })).rejects.toBeInstanceOf(TimeoutError);
  });

  it("a caller's abort stops the request at once and is never retried", async () => {
    const { client } = setup([{ hang: true }], { timeoutMs: 60_000 });
    const ac = new AbortController();
    const pending = client.request({ ...post, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('user cancelled')), 5);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect(fake.calls).toHaveLength(1);
  });

  it('an abort during the retry wait is not retried', async () => {
    const ac = new AbortController();
    const { client } = setup([{ status: 503 }], {
      sleep: async () => {
        ac.abort();
        throw new AbortError('slept through');
      },
    });
    await expect(client.request({ ...post, signal: ac.signal })).rejects.toBeInstanceOf(AbortError);
  });

  it('an already-aborted signal sends nothing', async () => {
    const { client } = setup([]);
    const ac = new AbortController();
    ac.abort();
    await expect(client.request({ ...post, signal: ac.signal })).rejects.toBeInstanceOf(AbortError);
  });

  it('fails fast with ThrottledError when Retry-After exceeds maxRetryAfterMs', async () => {
    const { client, sleeps } = setup(
      [{ status: 429, headers: { 'retry-after': '120' }, body: { error: 'throttled' } }],
      { maxRetryAfterMs: 60_000 },
    );
    const error = await client.request(post).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThrottledError);
    expect((error as ThrottledError).retryAfterMs).toBe(120_000);
    expect((error as ThrottledError).status).toBe(429);
    expect(sleeps).toEqual([]);
  });

  it('fails fast with ServiceError for a 503 asking for too long', async () => {
    const { client } = setup([{ status: 503, headers: { 'retry-after': '3600' } }]);
    const error = await client.request(post).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).retryAfterMs).toBe(3_600_000);
  });

  it('an onAttempt observer that throws changes nothing', async () => {
    const { client } = setup([{ status: 200, body: {} }], {
      onAttempt: () => {
        throw new Error('observer bug');
      },
    });
    expect((await client.request(post)).status).toBe(200);
  });

  it('uses real sleeps by default (short delays)', async () => {
    fake = createFakeFetch([{ status: 503 }, { status: 200, body: {} }]);
    const client = createHttpClient({ fetch: fake.fetch, minRetryDelayMs: 5, maxRetryDelayMs: 10 });
    expect((await client.request(post)).attempts).toBe(2);
  });
});

describe('createHttpClient: telemetry', () => {
  it("opens one INTERNAL span (the logical request; attempts are the HTTP instrumentation's CLIENT spans) with the attempt count and no secrets", async () => {
    const { client } = setup([{ status: 503 }, { status: 200, body: {} }]);
    await client.request({ ...post, url: `${URL_}?client_secret=leak` });
    const spans = tracing.spans();
    expect(spans).toHaveLength(1);
    const span = spans[0]!;
    expect(span.name).toBe('agentid.http POST');
    expect(span.kind).toBe(SpanKind.INTERNAL);
    expect(span.attributes[ATTR.SERVER_PORT]).toBe(443);
    expect(span.attributes[ATTR.HTTP_ATTEMPTS]).toBe(2);
    expect(span.attributes[ATTR.HTTP_RESEND_COUNT]).toBe(1);
    expect(span.attributes[ATTR.HTTP_STATUS]).toBe(200);
    expect(span.attributes[ATTR.URL_FULL]).toBe(URL_);
    expect(span.attributes[ATTR.SERVER_ADDRESS]).toBe('login.example.test');
    expect(JSON.stringify(span.attributes)).not.toContain('leak');
    expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it('marks 4xx answers and thrown errors as span errors', async () => {
    const { client } = setup(
      [{ status: 400, body: { error: 'invalid_grant' } }, { error: new TypeError('fetch failed') }],
      { retries: 0 },
    );
    await client.request(post);
    await expect(client.request(post)).rejects.toBeInstanceOf(NetworkError);
    const [bad, failed] = tracing.spans();
    expect(bad?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'HTTP 400' });
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed?.attributes[ATTR.ERROR_TYPE]).toBe('AGENTID_NETWORK');
    expect(failed?.attributes[ATTR.HTTP_ATTEMPTS]).toBe(1);
    expect(JSON.stringify(failed?.events)).not.toContain('s3cr3t');
  });

  it('defaults to the global tracer when none is given', async () => {
    fake = createFakeFetch([{ status: 200, body: {} }]);
    const client = createHttpClient({ fetch: fake.fetch });
    const spy = vi.fn();
    await client.request(post).then(spy);
    expect(spy).toHaveBeenCalled();
  });
});
