import { type Span, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import {
  type AgentIdError,
  findAgentIdError,
  NetworkError,
  TimeoutError,
  UnexpectedError,
} from '../errors/agent-id-error.js';
import { errorFromTokenResponse } from '../errors/from-token-response.js';
import { ATTR } from '../telemetry/attributes.js';
import { PACKAGE_VERSION, TRACER_NAME, withSpan } from '../telemetry/telemetry.js';
import { abortErrorFrom, realSleep, type Sleep } from '../util/abort.js';
import { type Clock, systemClock } from '../util/clock.js';
import { parseRetryAfter } from '../util/retry-after.js';
import { assertFunction, assertNumber } from '../util/validate.js';

/**
 * One HTTP request.
 *
 * @example
 * ```ts
 * const req: HttpRequest = { url, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body };
 * ```
 */
export interface HttpRequest {
  url: string;
  /** Default `GET`. */
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** The caller's signal: aborts the request and its retries (never retried). */
  signal?: AbortSignal;
  /** Overrides the client's per-attempt timeout. */
  timeoutMs?: number;
}

/**
 * The final answer: the first non-retryable one, or the last one when retries ran out.
 * Header names are lower-case.
 *
 * @example
 * ```ts
 * if (res.status === 200) JSON.parse(res.body);
 * ```
 */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** How many attempts were made (1 = no retry). */
  attempts: number;
}

/**
 * Reported after every attempt.
 *
 * @example
 * ```ts
 * onAttempt: (a) => metrics.count('http.attempt', { status: a.status ?? a.error?.code })
 * ```
 */
export interface HttpAttempt {
  attempt: number;
  method: string;
  /** The URL without its query string. */
  url: string;
  status?: number;
  error?: AgentIdError;
  durationMs: number;
  /** Set when another attempt follows after this delay. */
  retryInMs?: number;
}

/**
 * Options of {@link createHttpClient}. Times in ms.
 *
 * @example
 * ```ts
 * const options: HttpClientOptions = { timeoutMs: 5_000, retries: 2 };
 * ```
 */
export interface HttpClientOptions {
  /** The fetch to use (default: the global one). */
  fetch?: typeof globalThis.fetch;
  /** Per attempt. Default 10 000. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 3. */
  retries?: number;
  /** Backoff base. Default 200. */
  minRetryDelayMs?: number;
  /** Backoff ceiling. Default 30 000. */
  maxRetryDelayMs?: number;
  /** A longer Retry-After fails fast instead of waiting. Default 60 000. */
  maxRetryAfterMs?: number;
  sleep?: Sleep;
  /** `[0, 1)`, for jitter. Default `Math.random`. */
  random?: () => number;
  /** Turns an HTTP-date Retry-After into a delay. */
  clock?: Clock;
  /** Called after each attempt (status or error), e.g. for metrics. */
  onAttempt?: (attempt: HttpAttempt) => void;
  /** Default: the global tracer provider's `@agentid/core` tracer. */
  tracer?: Tracer;
}

/**
 * Sends requests with timeouts, retries and one INTERNAL span per request (`agentid.http <METHOD>`).
 *
 * @example
 * ```ts
 * const res = await client.request({ url, method: 'POST', body });
 * ```
 */
export interface HttpClient {
  /** Sends a request with timeouts, retries (honouring Retry-After) and a span. */
  request(request: HttpRequest): Promise<HttpResponse>;
}

const isRetryableStatus = (status: number): boolean => status === 429 || (status >= 500 && status <= 599);

function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // undici reports "fetch failed" and puts the useful part (ECONNRESET, ENOTFOUND) in cause.
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const detail =
    typeof cause?.code === 'string'
      ? cause.code
      : typeof cause?.message === 'string'
        ? cause.message
        : undefined;
  return detail !== undefined ? `${error.message} (${detail})` : error.message;
}

/**
 * Creates an {@link HttpClient}. Each attempt has its own timeout (combined with the caller's
 * signal through `AbortSignal.any`). Retries happen only on 429, 5xx, timeouts and
 * network errors: after `Retry-After` when given (seconds or HTTP-date), else after an
 * exponential backoff with jitter (`min × 2^n`, capped, then scaled by `[0.5, 1)`). A
 * Retry-After above `maxRetryAfterMs` fails fast with {@link ThrottledError} (429) or
 * {@link ServiceError} (5xx) carrying `retryAfterMs`. Other 4xx, and caller aborts, are never
 * retried. When retries run out on 429/5xx the last answer is returned, not thrown. Throws
 * {@link NetworkError}, {@link TimeoutError} or {@link AbortError}.
 *
 * @example
 * ```ts
 * const client = createHttpClient({ timeoutMs: 5_000, onAttempt: (a) => log.debug('attempt', a) });
 * const res = await client.request({ url: tokenUrl, method: 'POST', body: form, signal });
 * ```
 */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const {
    fetch: fetchFn = globalThis.fetch,
    timeoutMs = 10_000,
    retries = 3,
    minRetryDelayMs = 200,
    maxRetryDelayMs = 30_000,
    maxRetryAfterMs = 60_000,
    sleep = realSleep,
    random = Math.random,
    clock = systemClock,
    onAttempt,
    tracer,
  } = options;
  assertFunction('fetch', fetchFn);
  assertNumber('timeoutMs', timeoutMs, { min: 1 });
  assertNumber('retries', retries, { min: 0, max: 20, integer: true });
  assertNumber('minRetryDelayMs', minRetryDelayMs, { min: 0 });
  assertNumber('maxRetryDelayMs', maxRetryDelayMs, { min: minRetryDelayMs });
  assertNumber('maxRetryAfterMs', maxRetryAfterMs, { min: 0 });
  assertFunction('sleep', sleep);
  assertFunction('random', random);
  assertFunction('onAttempt', onAttempt, true);

  const report = (attempt: HttpAttempt): void => {
    try {
      onAttempt?.(attempt);
    } catch {
      // An observer's bug must not change the request's outcome.
    }
  };

  async function attemptOnce(
    req: HttpRequest,
    method: string,
    safeUrl: string,
  ): Promise<Omit<HttpResponse, 'attempts'>> {
    const limit = req.timeoutMs ?? timeoutMs;
    const timeout = new AbortController();
    // Not unref'd: the attempt is awaited, and a fetch that holds no socket of its own (an
    // injected one, a request still queued) must still time out instead of the process exiting.
    const timer = setTimeout(() => timeout.abort(), limit);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout.signal]) : timeout.signal;
    try {
      const init: RequestInit = { method, signal };
      if (req.headers !== undefined) init.headers = req.headers;
      if (req.body !== undefined) init.body = req.body;
      const res = await fetchFn(req.url, init);
      // Reading the body is part of the attempt: the timeout covers a stalled body too.
      const body = await res.text();
      const headers: Record<string, string> = {};
      res.headers.forEach((value, name) => {
        headers[name.toLowerCase()] = value;
      });
      return { status: res.status, headers, body };
    } catch (error) {
      if (req.signal?.aborted) throw abortErrorFrom(req.signal, `${method} ${safeUrl}`);
      if (timeout.signal.aborted)
        throw new TimeoutError(`${method} ${safeUrl} timed out after ${limit} ms`, { cause: error });
      throw new NetworkError(`${method} ${safeUrl} failed: ${describeFailure(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  function backoff(retryIndex: number): number {
    const ceiling = Math.min(maxRetryDelayMs, minRetryDelayMs * 2 ** retryIndex);
    return Math.round(ceiling * (0.5 + random() / 2));
  }

  /**
   * The attempts of one request. A plain loop, not p-retry: every decision is ours (what is
   * retryable, Retry-After or backoff, failing fast past `maxRetryAfterMs`, returning the last
   * 429/5xx answer instead of throwing) and waits go through the injected `sleep`, which p-retry
   * cannot take (it arms its own timers); wrapped in p-retry with its timers off it only added
   * wrapper errors to carry answers through it.
   */
  async function send(req: HttpRequest, method: string, safeUrl: string, span: Span): Promise<HttpResponse> {
    let attempt = 0;
    try {
      for (;;) {
        attempt++;
        const started = clock.now();
        const base = { attempt, method, url: safeUrl };
        const last = attempt > retries;
        let res: Omit<HttpResponse, 'attempts'>;
        try {
          res = await attemptOnce(req, method, safeUrl);
        } catch (error) {
          // attemptOnce throws our typed errors only.
          const typed = error as AgentIdError;
          if (!typed.retryable || last) {
            report({ ...base, error: typed, durationMs: clock.now() - started });
            throw typed;
          }
          const delay = backoff(attempt - 1);
          report({ ...base, error: typed, durationMs: clock.now() - started, retryInMs: delay });
          await sleep(delay, req.signal);
          continue;
        }
        const done = { ...base, status: res.status, durationMs: clock.now() - started };
        if (!isRetryableStatus(res.status) || last) {
          report(done);
          return { ...res, attempts: attempt };
        }
        const retryAfterMs = parseRetryAfter(res.headers['retry-after'], clock.now());
        if (retryAfterMs !== undefined && retryAfterMs > maxRetryAfterMs) {
          report(done);
          throw errorFromTokenResponse({
            status: res.status,
            body: res.body,
            headers: res.headers,
            now: clock.now(),
          });
        }
        const delay = retryAfterMs ?? backoff(attempt - 1);
        report({ ...done, retryInMs: delay });
        await sleep(delay, req.signal);
      }
    } catch (error) {
      if (req.signal?.aborted && findAgentIdError(error)?.code !== 'AGENTID_ABORTED') {
        throw abortErrorFrom(req.signal, `${method} ${safeUrl}`);
      }
      throw (
        findAgentIdError(error) ??
        new UnexpectedError(`${method} ${safeUrl} failed unexpectedly`, { cause: error })
      );
    } finally {
      span.setAttribute(ATTR.HTTP_ATTEMPTS, attempt);
      if (attempt > 1) span.setAttribute(ATTR.HTTP_RESEND_COUNT, attempt - 1);
    }
  }

  return {
    async request(req) {
      if (req === null || typeof req !== 'object' || typeof req.url !== 'string')
        throw new TypeError('request.url must be a string');
      if (req.timeoutMs !== undefined) assertNumber('request.timeoutMs', req.timeoutMs, { min: 1 });
      const method = (req.method ?? 'GET').toUpperCase();
      let parsed: URL;
      try {
        parsed = new URL(req.url);
      } catch (cause) {
        throw new TypeError('request.url must be an absolute URL', { cause });
      }
      // The query string may carry secrets; spans, logs and errors only ever see origin + path.
      const safeUrl = `${parsed.origin}${parsed.pathname}`;
      if (req.signal?.aborted) throw abortErrorFrom(req.signal, `${method} ${safeUrl}`);
      const attributes = {
        [ATTR.HTTP_METHOD]: method,
        [ATTR.URL_FULL]: safeUrl,
        [ATTR.SERVER_ADDRESS]: parsed.hostname,
        [ATTR.SERVER_PORT]: Number(parsed.port) || (parsed.protocol === 'http:' ? 80 : 443),
      };
      // INTERNAL, not CLIENT: this span is the logical request, retries included. The semantic
      // conventions give each physical attempt its own CLIENT span, which the standard undici /
      // http instrumentation records as a child of this one; a CLIENT span here would be a
      // second client span for the same request.
      return withSpan(
        `agentid.http ${method}`,
        attributes,
        async (span) => {
          const res = await send(req, method, safeUrl, span);
          span.setAttribute(ATTR.HTTP_STATUS, res.status);
          if (res.status >= 400) {
            span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${res.status}` });
            span.setAttribute(ATTR.ERROR_TYPE, String(res.status));
          }
          return res;
        },
        { kind: SpanKind.INTERNAL, tracer: tracer ?? trace.getTracer(TRACER_NAME, PACKAGE_VERSION) },
      );
    },
  };
}
