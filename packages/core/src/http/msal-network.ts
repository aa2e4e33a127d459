import { AsyncLocalStorage } from 'node:async_hooks';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import {
  type AgentIdError,
  ConfigurationError,
  findAgentIdError,
  MalformedResponseError,
  UnexpectedError,
} from '../errors/agent-id-error.js';
import { errorFromMsalError } from '../errors/from-msal.js';
import { errorFromTokenResponse } from '../errors/from-token-response.js';
import { type Clock, systemClock } from '../util/clock.js';
import type { SecretRedactor } from '../util/redact.js';
import type { HttpClient, HttpResponse } from './client.js';

/**
 * Per-call context for {@link MsalNetworkModule.run}.
 *
 * @example
 * ```ts
 * await network.run({ signal: req.signal }, () => cca.acquireTokenByClientCredential(request));
 * ```
 */
export interface MsalRequestContext {
  /** Aborts the HTTP requests MSAL makes inside `run` (MSAL itself takes no signal). */
  signal?: AbortSignal;
  /**
   * The client assertion of the request made inside `run`, for an MSAL client whose
   * `clientAssertion` callback reads {@link MsalNetworkModule.clientAssertion} (an agent identity's:
   * its T1 comes from the broker, never from a request MSAL would make on its own).
   */
  clientAssertion?: string;
}

/**
 * MSAL Node's `INetworkModule` on our {@link HttpClient}, plus `run`, which gives MSAL calls a
 * signal and turns their failures into typed errors.
 *
 * @example
 * ```ts
 * const network = toMsalNetworkModule(createHttpClient());
 * const cca = new ConfidentialClientApplication({ auth, system: { networkClient: network, disableInternalRetries: true } });
 * const result = await network.run({ signal }, () => cca.acquireTokenByClientCredential({ scopes, fmiPath }));
 * ```
 */
export interface MsalNetworkModule extends INetworkModule {
  /**
   * Runs `fn` (one or more MSAL calls) so that its HTTP requests use `context.signal`, and, if
   * it rejects, rethrows the typed error of the HTTP failure behind it (MSAL replaces errors
   * thrown by a network module with a generic `network_error`, and reports 4xx answers as its
   * own `ServerError`). Other MSAL errors are mapped with {@link errorFromMsalError}.
   */
  run<T>(context: MsalRequestContext, fn: () => Promise<T>): Promise<T>;
  /** The `clientAssertion` of the innermost `run` this call is inside, if any. */
  clientAssertion(): string | undefined;
}

/**
 * Options of {@link toMsalNetworkModule}.
 *
 * @example
 * ```ts
 * toMsalNetworkModule(client, { exhaustedRetries: 'throw' });
 * ```
 */
export interface MsalNetworkOptions {
  /**
   * What to do when retries run out on 429/5xx. `'return'` (default) hands the last answer to
   * MSAL, which raises its `ServerError` and records a throttle entry for the request
   * (`Retry-After`, default 60 s) in its cache; `'throw'` throws our ThrottledError or
   * ServiceError instead, so MSAL never sees the answer.
   */
  exhaustedRetries?: 'return' | 'throw';
  clock?: Clock;
  /**
   * Known secrets (the blueprint's client secret) to remove from every error `run` throws, cause
   * chain included: a token endpoint may echo what it was sent in `error_description`.
   */
  secrets?: SecretRedactor;
}

interface Scope {
  readonly signal: AbortSignal | undefined;
  readonly clientAssertion: string | undefined;
  failure: AgentIdError | undefined;
}

function parseJson(text: string): { ok: true; value: object } | { ok: false } {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? { ok: true, value }
      : { ok: false };
  } catch {
    return { ok: false };
  }
}

/**
 * Adapts an {@link HttpClient} to MSAL Node's `INetworkModule`. Answers come back as MSAL's
 * `NetworkResponse` `{ headers, body (parsed JSON), status }`; 4xx error bodies are returned,
 * not thrown (MSAL reads `error`, `error_codes`, `suberror` from them). A body that is not a
 * JSON object becomes {@link MalformedResponseError} (`AGENTID_MALFORMED_RESPONSE`), or, for a
 * 429/5xx, ThrottledError/ServiceError. Network errors, timeouts and aborts are thrown. Turn
 * MSAL's own retries off (`system.disableInternalRetries: true`): the client retries.
 *
 * @example
 * ```ts
 * const network = toMsalNetworkModule(createHttpClient({ timeoutMs: 5_000 }));
 * new ConfidentialClientApplication({ auth, system: { networkClient: network, disableInternalRetries: true } });
 * ```
 */
export function toMsalNetworkModule(client: HttpClient, options: MsalNetworkOptions = {}): MsalNetworkModule {
  if (typeof client?.request !== 'function')
    throw new TypeError('client must be an HttpClient (with request())');
  const { exhaustedRetries = 'return', clock = systemClock, secrets } = options;
  if (exhaustedRetries !== 'return' && exhaustedRetries !== 'throw') {
    throw new ConfigurationError("exhaustedRetries must be 'return' or 'throw'");
  }
  const scopes = new AsyncLocalStorage<Scope>();
  // Enabled only while a run() is in flight: on Node 20 an enabled AsyncLocalStorage installs
  // promise hooks that tax every promise of the process (about 1 µs per cache hit), and cache
  // hits never call run(). Disabled when the last run settles, so no run loses its context.
  let running = 0;

  function toNetworkResponse<T>(
    res: HttpResponse,
    method: string,
    url: string,
    scope: Scope | undefined,
  ): NetworkResponse<T> {
    const ok = res.status >= 200 && res.status < 300;
    const throttled = res.status === 429 || res.status >= 500;
    const errorOf = (): AgentIdError =>
      errorFromTokenResponse({ status: res.status, body: res.body, headers: res.headers, now: clock.now() });
    if (throttled && exhaustedRetries === 'throw') throw errorOf();
    const parsed = parseJson(res.body);
    if (!parsed.ok) {
      if (throttled) throw errorOf();
      // No cause: the parser's message quotes the body, which may hold a token.
      throw new MalformedResponseError(
        `${method} ${url} answered HTTP ${res.status} with a body that is not a JSON object`,
        {
          status: res.status,
        },
      );
    }
    if (scope !== undefined) scope.failure = ok ? undefined : errorOf();
    return { headers: res.headers, body: parsed.value as T, status: res.status };
  }

  async function send<T>(
    method: 'GET' | 'POST',
    url: string,
    options: NetworkRequestOptions | undefined,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    const scope = scopes.getStore();
    const safeUrl = url.split('?')[0] ?? url;
    try {
      const res = await client.request({
        url,
        method,
        ...(options?.headers !== undefined ? { headers: options.headers } : {}),
        ...(method === 'POST' ? { body: options?.body ?? '' } : {}),
        ...(scope?.signal !== undefined ? { signal: scope.signal } : {}),
        ...(timeout !== undefined && timeout > 0 ? { timeoutMs: timeout } : {}),
      });
      return toNetworkResponse<T>(res, method, safeUrl, scope);
    } catch (error) {
      const typed =
        findAgentIdError(error) ?? new UnexpectedError(`${method} ${safeUrl} failed`, { cause: error });
      if (scope !== undefined) scope.failure = typed;
      throw typed;
    }
  }

  return {
    sendGetRequestAsync: <T>(url: string, options?: NetworkRequestOptions, timeout?: number) =>
      send<T>('GET', url, options, timeout),
    sendPostRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => send<T>('POST', url, options),
    clientAssertion: () => (running > 0 ? scopes.getStore()?.clientAssertion : undefined),
    async run<T>(context: MsalRequestContext, fn: () => Promise<T>): Promise<T> {
      const scope: Scope = {
        signal: context?.signal,
        clientAssertion: context?.clientAssertion,
        failure: undefined,
      };
      running++;
      try {
        return await scopes.run(scope, fn);
      } catch (error) {
        // Our own errors (from callbacks such as a client assertion) pass through as they are;
        // otherwise the HTTP failure we saw beats MSAL's rendering of it.
        const typed = findAgentIdError(error) ?? scope.failure ?? errorFromMsalError(error);
        throw secrets !== undefined ? secrets.scrub(typed) : typed;
      } finally {
        if (--running === 0) scopes.disable();
      }
    },
  };
}
