import type { IncomingMessage } from 'node:http';
import type { AccessToken } from '@agentid/core';
import { context, propagation } from '@opentelemetry/api';
import type { DownstreamApiProfile } from './config.js';
import type { ParsedRequest } from './request.js';

/** A failure the sidecar answers itself, as problem details with this status and code. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** Reads a request body, refusing (413) more than `max` bytes as soon as they arrive. */
export async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max)
      throw new HttpProblem(413, `The request body is larger than ${max} bytes.`, 'AGENTID_BAD_REQUEST');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** What a /DownstreamApi call needs besides the request. */
export interface DownstreamCall {
  fetch: typeof fetch;
  timeoutMs: number;
  followRedirects: boolean;
  maxBodyBytes: number;
  maxResponseBytes: number;
}

const isTimeout = (error: unknown): boolean => (error as { name?: string } | null)?.name === 'TimeoutError';

/**
 * Calls the downstream API with the token and answers in Microsoft's shape: the status, the
 * content headers, and the content as text. The response is streamed and counted: past
 * `maxResponseBytes` the downstream request is aborted (its socket closed) and the call fails
 * with 502, so a huge or endless answer costs at most the limit in memory.
 */
export async function callDownstream(
  req: IncomingMessage,
  api: DownstreamApiProfile,
  p: ParsedRequest,
  url: URL,
  token: AccessToken,
  call: DownstreamCall,
): Promise<unknown> {
  const contentType = req.headers['content-type'];
  const body = contentType ? await readBody(req, call.maxBodyBytes) : undefined;
  // The caller's headers first: nothing below (the token above all) can be overridden by them.
  const headers: Record<string, string> = {
    ...(p.customHeaders ?? {}),
    authorization: `Bearer ${token.token}`,
  };
  if (p.correlationId) headers['client-request-id'] = p.correlationId;
  if (body !== undefined) headers['content-type'] = contentType!;
  else if (p.contentType) headers['content-type'] = p.contentType;
  if (p.acceptHeader) headers['accept'] = p.acceptHeader;
  // The trace context of the sidecar's span (a child of the caller's), by the configured propagators.
  propagation.inject(context.active(), headers);
  const tooLarge = () =>
    new HttpProblem(
      502,
      `The API '${api.name}' answered with more than ${call.maxResponseBytes} bytes (downstream response exceeds the limit).`,
      'AGENTID_DOWNSTREAM',
    );
  const timedOut = () =>
    new HttpProblem(
      504,
      `The API '${api.name}' did not answer within ${call.timeoutMs} ms.`,
      'AGENTID_DOWNSTREAM',
    );
  const abort = new AbortController();
  let response: Response;
  try {
    response = await call.fetch(url, {
      method: p.httpMethod,
      headers,
      ...(body !== undefined && p.httpMethod !== 'GET' && p.httpMethod !== 'HEAD' ? { body } : {}),
      redirect: call.followRedirects ? 'follow' : 'manual',
      signal: AbortSignal.any([abort.signal, AbortSignal.timeout(call.timeoutMs)]),
    });
  } catch (error) {
    if (isTimeout(error)) throw timedOut();
    throw new HttpProblem(502, `The API '${api.name}' could not be reached.`, 'AGENTID_DOWNSTREAM');
  }
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > call.maxResponseBytes) {
    abort.abort();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > call.maxResponseBytes) {
          // Stop reading and close the downstream connection: what was read is dropped.
          abort.abort();
          chunks.length = 0;
          throw tooLarge();
        }
        chunks.push(value);
      }
    } catch (error) {
      void reader.cancel().catch(() => undefined);
      if (error instanceof HttpProblem) throw error;
      if (isTimeout(error)) throw timedOut();
      throw new HttpProblem(502, `The API '${api.name}' broke off its answer.`, 'AGENTID_DOWNSTREAM');
    }
  }
  const buffer = Buffer.concat(chunks, size);
  const out: Record<string, string[]> = {};
  response.headers.forEach((value, name) => {
    if (
      name.startsWith('content-') ||
      name === 'location' ||
      name === 'www-authenticate' ||
      name === 'retry-after'
    )
      (out[name] ??= []).push(value);
  });
  return {
    statusCode: response.status,
    headers: out,
    content: buffer.length > 0 ? buffer.toString('utf8') : null,
  };
}
