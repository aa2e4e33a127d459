import type { ServerResponse } from 'node:http';
import { ConditionalAccessError, isAgentIdError, OAuthError } from '@agentid/core';
import { errorCodeInfo } from '@agentid/core/broker';
import { toErrorResponse } from '@agentid/tools';

/**
 * An RFC 7807 problem details body, plus agentid's error `code`.
 *
 * @example
 * ```ts
 * const p: Problem = { type: 'https://tools.ietf.org/html/rfc9110#section-15.5.1', title: 'Bad Request', status: 400, detail: "Not able to resolve 'x'." };
 * ```
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code?: string;
  /** Conditional Access answers (extension members): the agent refused, its flow and the resource. */
  agentId?: string;
  flow?: string;
  resource?: string;
}

const TITLES: Record<number, [string, string]> = {
  400: ['Bad Request', '15.5.1'],
  401: ['Unauthorized', '15.5.2'],
  403: ['Forbidden', '15.5.4'],
  404: ['Not Found', '15.5.5'],
  405: ['Method Not Allowed', '15.5.6'],
  413: ['Content Too Large', '15.5.14'],
  415: ['Unsupported Media Type', '15.5.16'],
  500: ['An error occurred while processing your request.', '15.6.1'],
  502: ['Bad Gateway', '15.6.3'],
  503: ['Service Unavailable', '15.6.4'],
  504: ['Gateway Timeout', '15.6.5'],
};

/** A problem for `status` (the type and title ASP.NET uses for it). */
export function problem(status: number, detail: string, code?: string): Problem {
  const [title, section] = TITLES[status] ?? ['Error', '15'];
  return {
    type: `https://tools.ietf.org/html/rfc9110#section-${section}`,
    title,
    status,
    detail,
    ...(code ? { code } : {}),
  };
}

// The token endpoint's refusals, and the agent-user check that precedes them (`refused` in the
// one table of codes): asking again will not help, so they are 4xx (401, as Microsoft's sidecar
// answers them), never a 5xx that agents-hosting's client retries for about 14 s. Outages
// (network, timeout, 429, 5xx) stay 5xx.
/**
 * A thrown error as a problem: typed agentid errors keep their message (which never holds a
 * token). A permanent token failure (unknown or disabled agent, missing consent, invalid grant
 * or client) is a 401; a Conditional Access block a 403 naming the agent, flow and resource
 * (`AGENTID_CONDITIONAL_ACCESS`), a challenge the user can satisfy a 401 with its claims; an outage of the token service is a 503 (with
 * `Retry-After` when known); caller-token failures keep their 401/403.
 *
 * @example
 * ```ts
 * const { problem, headers } = problemFromError(error);
 * sendProblem(res, problem, headers);
 * ```
 */
export function problemFromError(error: unknown): { problem: Problem; headers: Record<string, string> } {
  if (!isAgentIdError(error))
    return { problem: problem(500, 'An unexpected error occurred.', 'AGENTID_INTERNAL'), headers: {} };
  if (error.code === 'AGENTID_INVALID_OPTIONS')
    return { problem: problem(400, error.message, error.code), headers: {} };
  // Conditional Access keeps the table's status: a block is a 403 naming the policy outcome, a
  // challenge the user can satisfy a 401 with the claims in `WWW-Authenticate`.
  const policy = error instanceof ConditionalAccessError;
  if (!policy && (error instanceof OAuthError || errorCodeInfo(error.code).refused === true))
    return { problem: problem(401, error.message, error.code), headers: {} };
  const r = toErrorResponse(error, 'agentid-sidecar');
  const { agentId, flow, resource } = r.body;
  return {
    problem: {
      ...problem(r.status, r.body.message, r.body.code),
      ...(agentId !== undefined ? { agentId } : {}),
      ...(flow !== undefined ? { flow } : {}),
      ...(resource !== undefined ? { resource } : {}),
    },
    headers: { ...r.headers },
  };
}

/** Headers of every answer: never cached (Microsoft's sidecar sends the same three on its 2xx answers). */
export const NO_CACHE: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-cache, no-store, must-revalidate',
  pragma: 'no-cache',
  expires: '0',
});

/** Writes a problem (`application/problem+json`, never cached). */
export function sendProblem(res: ServerResponse, p: Problem, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(p);
  res.writeHead(p.status, {
    'content-type': 'application/problem+json; charset=utf-8',
    ...NO_CACHE,
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}
