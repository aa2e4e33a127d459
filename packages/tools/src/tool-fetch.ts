import { type AccessToken, DownstreamError, type GetTokenOptions } from '@agentid/core';
import { DELEGATION_HEADER, type DelegationCodec, type DelegationContext, traceHeaders } from '@agentid/obo';
import type { CallMemory } from './call-memory.js';
import { claimsFromChallenge, unsatisfiedChallenge } from './challenge.js';

/** @internal */
export interface ToolFetchInput {
  /** The tool's name, for error messages. */
  tool: string;
  url: string | URL;
  init: RequestInit;
  fetch: typeof fetch;
  getToken: (o: GetTokenOptions) => Promise<AccessToken>;
  delegation: DelegationContext;
  codec: DelegationCodec | undefined;
  memory: CallMemory;
  /** This tool and user's key in `memory` (built only when needed). */
  key: () => string;
  /** Pass a challenge the retry did not satisfy up to the caller (on-behalf-of tools: the user's to satisfy). */
  passChallenge?: boolean;
}

/** Redirects are followed by hand, same origin only: at most this many in a row. */
export const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const BODY_HEADERS = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
];

const discard = (res: Response): Promise<void> =>
  res.body?.cancel().catch(() => undefined) ?? Promise.resolve();

/**
 * One request with the token, following redirects by hand (`redirect: 'manual'`): a redirect to
 * the same origin is followed (as `fetch` would: 303, and 301/302 after a POST, become a GET
 * without a body), one to another origin is refused with a `DownstreamError`, so the token and
 * the delegation chain never leave the origin the caller named. A caller's own `redirect: 'manual'`
 * or `'error'` is passed to `fetch` as it is.
 */
async function send(input: ToolFetchInput, token: AccessToken): Promise<Response> {
  const headers = new Headers(input.init.headers);
  headers.set('authorization', `Bearer ${token.token}`);
  // traceparent, tracestate, baggage: what the application's propagators write (propagation.inject).
  for (const [name, value] of Object.entries(traceHeaders())) headers.set(name, value);
  if (input.codec) headers.set(DELEGATION_HEADER, await input.codec.encode(input.delegation, token.token));
  const mode = input.init.redirect ?? 'follow';
  if (mode !== 'follow') return input.fetch(input.url, { ...input.init, headers });
  let url = new URL(input.url);
  let init: RequestInit = { ...input.init, headers, redirect: 'manual' };
  for (let hops = 0; ; hops++) {
    const res = await input.fetch(url, init);
    const location = REDIRECTS.has(res.status) ? res.headers.get('location') : null;
    if (location === null) return res;
    await discard(res);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch (e) {
      throw new DownstreamError(
        `Tool '${input.tool}': the API answered ${res.status} with an invalid Location`,
        { status: res.status, cause: e },
      );
    }
    if (next.origin !== url.origin) {
      throw new DownstreamError(
        `Tool '${input.tool}': the API at ${url.origin} redirected to another origin (${next.origin.slice(0, 200)}); not followed, so its token and delegation chain stay with ${url.origin}`,
        {
          status: res.status,
        },
      );
    }
    if (hops >= MAX_REDIRECTS)
      throw new DownstreamError(`Tool '${input.tool}': more than ${MAX_REDIRECTS} redirects`, {
        status: res.status,
      });
    const method = (init.method ?? 'GET').toUpperCase();
    if (
      (res.status === 303 && method !== 'GET' && method !== 'HEAD') ||
      ((res.status === 301 || res.status === 302) && method === 'POST')
    ) {
      const h = new Headers(init.headers);
      for (const name of BODY_HEADERS) h.delete(name);
      init = { ...init, method: 'GET', body: null, headers: h };
    }
    url = next;
  }
}

/**
 * Calls a tool's API with its token. A `401` carrying a CAE `insufficient_claims` challenge gets
 * one new token with those claims (its own cache key: the plain token stays) and one retry; a
 * retry challenged again fails (an on-behalf-of tool passes the challenge up to its caller as
 * `AGENTID_CLAIMS_CHALLENGE`; otherwise a `DownstreamError`), and so does every challenge of that
 * tool and user for a minute after (no token request). Any other `401` makes the next call of that
 * tool and user get a fresh token (only that token: never T1, another tool's or another user's;
 * at most once a minute) and is returned as is. Never loops.
 * @internal
 */
export async function toolFetch(input: ToolFetchInput): Promise<Response> {
  if (input.init.body instanceof ReadableStream)
    throw new TypeError(
      'tool.fetch: a streamed body cannot be replayed after a claims challenge; pass a string, Buffer or FormData',
    );
  const signal = input.init.signal ?? undefined;
  const first = await send(input, await input.getToken(input.memory.tokenOptions(input.key, signal)));
  if (first.status !== 401) return first;
  const claims = claimsFromChallenge(first.headers.get('www-authenticate'));
  if (!claims) {
    input.memory.refused(input.key());
    return first;
  }
  await discard(first);
  const pass = input.passChallenge === true;
  if (!input.memory.mayRetryChallenge(input.key()))
    throw unsatisfiedChallenge(input.tool, 'again after a retry it did not accept', claims, pass);
  const second = await send(input, await input.getToken({ claims, ...(signal ? { signal } : {}) }));
  if (second.status !== 401) return second;
  const again = claimsFromChallenge(second.headers.get('www-authenticate'));
  if (again) {
    await discard(second);
    input.memory.challengeFailed(input.key());
    throw unsatisfiedChallenge(input.tool, 'again with the token that has its claims', again, pass);
  }
  input.memory.refused(input.key());
  return second;
}
