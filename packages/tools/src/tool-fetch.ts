import type { AccessToken, GetTokenOptions } from '@agentid/core';
import { currentTraceparent, DELEGATION_HEADER, type DelegationCodec, type DelegationContext } from '@agentid/obo';
import { claimsFromChallenge } from './challenge.js';

/** @internal */
export interface ToolFetchInput {
  url: string | URL;
  init: RequestInit;
  fetch: typeof fetch;
  getToken: (o?: GetTokenOptions) => Promise<AccessToken>;
  delegation: DelegationContext;
  codec: DelegationCodec | undefined;
  invalidate: () => Promise<void>;
}

async function send(input: ToolFetchInput, token: AccessToken): Promise<Response> {
  const headers = new Headers(input.init.headers);
  headers.set('authorization', `Bearer ${token.token}`);
  const tp = currentTraceparent();
  if (tp) headers.set('traceparent', tp);
  if (input.codec) headers.set(DELEGATION_HEADER, await input.codec.encode(input.delegation, token.token));
  return input.fetch(input.url, { ...input.init, headers });
}

/**
 * Calls a tool's API with its token. A `401` carrying a CAE `insufficient_claims` challenge gets
 * one new token with those claims (skipping the cache) and one retry; any other `401` drops the
 * cached token (the next call gets a fresh one) and is returned as is. Never loops.
 * @internal
 */
export async function toolFetch(input: ToolFetchInput): Promise<Response> {
  if (input.init.body instanceof ReadableStream) throw new TypeError('tool.fetch: a streamed body cannot be replayed after a claims challenge; pass a string, Buffer or FormData');
  const signal = input.init.signal ?? undefined;
  const first = await send(input, await input.getToken(signal ? { signal } : {}));
  if (first.status !== 401) return first;
  const claims = claimsFromChallenge(first.headers.get('www-authenticate'));
  if (!claims) {
    await input.invalidate();
    return first;
  }
  await first.body?.cancel().catch(() => undefined);
  const second = await send(input, await input.getToken({ claims, ...(signal ? { signal } : {}) }));
  if (second.status === 401) await input.invalidate();
  return second;
}
