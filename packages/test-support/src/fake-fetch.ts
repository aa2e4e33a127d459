/**
 * One scripted answer of {@link createFakeFetch}: an HTTP answer, a thrown network error, or
 * a request that hangs until its signal aborts.
 *
 * @example
 * ```ts
 * const reply: FakeReply = { status: 429, headers: { 'retry-after': '1' }, body: { error: 'throttled' } };
 * ```
 */
export type FakeReply =
  | { status?: number; headers?: Record<string, string>; body?: string | object }
  | { error: unknown }
  | { hang: true };

/**
 * A request the fake received.
 *
 * @example
 * ```ts
 * expect(fake.calls[0]?.form.get('grant_type')).toBe('client_credentials');
 * ```
 */
export interface FakeCall {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  /** The body parsed as a form (empty for non-form bodies). */
  form: URLSearchParams;
  signal: AbortSignal | undefined;
}

/**
 * A scripted `fetch`: every call consumes the next reply (or asks a responder function).
 * Tests assert `pending()` is 0 at the end, so no scripted reply is left unused.
 *
 * @example
 * ```ts
 * const fake = createFakeFetch([{ status: 503 }, { status: 200, body: { ok: true } }]);
 * const client = createHttpClient({ fetch: fake.fetch, sleep: async () => {} });
 * afterEach(() => expect(fake.pending()).toBe(0));
 * ```
 */
export interface FakeFetch {
  fetch: typeof globalThis.fetch;
  calls: FakeCall[];
  pending(): number;
  push(...replies: Array<FakeReply | FakeResponder>): void;
}

/**
 * A reply computed from the request.
 *
 * @example
 * ```ts
 * const responder: FakeResponder = (call) => ({ status: 200, body: { echo: call.form.get('scope') } });
 * ```
 */
export type FakeResponder = (call: FakeCall) => FakeReply | Promise<FakeReply>;

/**
 * Creates a {@link FakeFetch}. No real network is ever touched; an unscripted call fails the
 * request with an error naming the URL.
 *
 * @example
 * ```ts
 * const fake = createFakeFetch([{ status: 200, body: { access_token: 'x', expires_in: 3600 } }]);
 * ```
 */
export function createFakeFetch(replies: Array<FakeReply | FakeResponder> = []): FakeFetch {
  const queue = [...replies];
  const calls: FakeCall[] = [];
  const fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => {
      headers[k] = v;
    });
    const body = typeof init.body === 'string' ? init.body : '';
    const call: FakeCall = {
      url,
      method: init.method ?? 'GET',
      headers,
      body,
      form: new URLSearchParams(headers['content-type']?.includes('json') ? '' : body),
      signal: init.signal ?? undefined,
    };
    calls.push(call);
    const next = queue.shift();
    if (next === undefined) throw new Error(`fake fetch: unexpected request to ${url}`);
    const reply = typeof next === 'function' ? await next(call) : next;
    if ('hang' in reply) {
      return new Promise<Response>((_, reject) => {
        const signal = init.signal;
        if (!signal) return;
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    if ('error' in reply) throw reply.error;
    init.signal?.throwIfAborted();
    const text =
      reply.body === undefined
        ? ''
        : typeof reply.body === 'string'
          ? reply.body
          : JSON.stringify(reply.body);
    const status = reply.status ?? 200;
    // Response refuses a body on 204/304; keep the fake honest about that.
    return new Response(status === 204 || status === 304 ? null : text, {
      status,
      headers: { 'content-type': 'application/json', ...reply.headers },
    });
  };
  return {
    fetch: fetch as typeof globalThis.fetch,
    calls,
    pending: () => queue.length,
    push: (...more) => {
      queue.push(...more);
    },
  };
}
