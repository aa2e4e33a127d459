import type { ServerResponse } from 'node:http';
import type { AccessToken } from '@agentid/core';

// The constant part of every 2xx JSON answer, as the flat [name, value, ...] list node:http takes
// without copying or re-validating an object per request. Never cached: an answer may carry a token.
const JSON_HEAD: readonly string[] = [
  'content-type',
  'application/json; charset=utf-8',
  'cache-control',
  'no-cache, no-store, must-revalidate',
  'pragma',
  'no-cache',
  'expires',
  '0',
];

/** An answer ready to write: its bytes and its whole header list. */
interface Answer {
  readonly head: string[];
  readonly body: Buffer;
}

const answerOf = (body: Buffer): Answer => ({
  head: [...JSON_HEAD, 'content-length', String(body.length)],
  body,
});

/** Writes a JSON answer (never cached: it may carry a token). */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const { head, body } = answerOf(Buffer.from(JSON.stringify(value)));
  res.writeHead(status, head);
  res.end(body);
}

// `/AuthorizationHeader*` answers by token: a hit serves the same AccessToken object until it is
// refreshed, so its bytes are made once (held no longer than the token itself).
const headerAnswers = new WeakMap<AccessToken, Answer>();

/**
 * Writes `{ "authorizationHeader": "Bearer …" }` for a token: one header list and one buffer per
 * token, whatever the number of requests it serves.
 *
 * @example
 * ```ts
 * return sendAuthorizationHeader(res, await agent.getToken(scopes));
 * ```
 */
export function sendAuthorizationHeader(res: ServerResponse, token: AccessToken): void {
  let answer = headerAnswers.get(token);
  if (answer === undefined) {
    answer = answerOf(Buffer.from(JSON.stringify({ authorizationHeader: `Bearer ${token.token}` })));
    headerAnswers.set(token, answer);
  }
  res.writeHead(200, answer.head);
  res.end(answer.body);
}
