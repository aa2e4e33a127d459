import type { ServerResponse } from 'node:http';
import { isAgentIdError } from '@agentid/core';
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
  return { type: `https://tools.ietf.org/html/rfc9110#section-${section}`, title, status, detail, ...(code ? { code } : {}) };
}

/** A thrown error as a problem: typed agentid errors keep their status and message (which never hold a token). */
export function problemFromError(error: unknown): { problem: Problem; headers: Record<string, string> } {
  if (!isAgentIdError(error)) return { problem: problem(500, 'An unexpected error occurred.', 'AGENTID_INTERNAL'), headers: {} };
  const r = toErrorResponse(error, 'agentid-sidecar');
  const status = error.code === 'AGENTID_INVALID_OPTIONS' ? 400 : r.status;
  const detail = error.code === 'AGENTID_INVALID_OPTIONS' ? error.message : r.body.message;
  return { problem: problem(status, detail, r.body.code), headers: { ...r.headers } };
}

/** Writes a problem (`application/problem+json`, never cached). */
export function sendProblem(res: ServerResponse, p: Problem, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(p);
  res.writeHead(p.status, { 'content-type': 'application/problem+json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Writes a JSON answer (never cached: it may carry a token). */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
