import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createTestTracing } from '@agentid/test-support/otel';
import { context, propagation, type TextMapPropagator, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { mcpClientFetch } from '../src/index.js';

// A W3C traceparent propagator (as @opentelemetry/core's, which applications register).
const w3c: TextMapPropagator = {
  inject(ctx, carrier, setter) {
    const sc = trace.getSpanContext(ctx);
    if (sc) setter.set(carrier, 'traceparent', `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags}`);
  },
  extract: (ctx) => ctx,
  fields: () => ['traceparent'],
};

// A server that is not the resource it claims (or that asks for another resource's scope): the
// client must send it no token at all.
let close: (() => Promise<void>) | undefined;
afterEach(() => close?.());

async function fakeServer(metadata: (origin: string) => unknown, status = 200, challenge?: string) {
  const authorizations: (string | undefined)[] = [];
  const requests: { headers: Record<string, unknown>; body: string }[] = [];
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/.well-known/oauth-protected-resource')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(metadata(origin)));
    }
    authorizations.push(req.headers.authorization);
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ headers: req.headers, body });
      res.writeHead(status, challenge ? { 'www-authenticate': challenge } : {});
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => new Promise<void>((r) => server.close(() => r()));
  return { origin, authorizations, requests };
}

const connect = (serverUrl: string, asked: string[][]) =>
  new Client({ name: 'agent', version: '1.0.0' }).connect(
    new StreamableHTTPClientTransport(new URL(serverUrl), {
      fetch: mcpClientFetch({
        serverUrl,
        getToken: async (scopes) => {
          asked.push([...scopes]);
          return { token: 'header.payload.signature' };
        },
      }),
    }),
  );

describe('mcpClientFetch refuses servers it should not trust', () => {
  it('metadata naming another resource: AGENTID_MCP_RESOURCE_MISMATCH, no token asked for or sent', async () => {
    const asked: string[][] = [];
    const s = await fakeServer(() => ({
      resource: 'https://graph.microsoft.com',
      authorization_servers: ['https://login.microsoftonline.com/t/v2.0'],
    }));
    await expect(connect(`${s.origin}/mcp`, asked)).rejects.toMatchObject({
      code: 'AGENTID_MCP_RESOURCE_MISMATCH',
    });
    expect(asked).toEqual([]);
    expect(s.authorizations).toEqual([]);
  });

  it('a resource on another path of the same origin is refused too; the server path under it is accepted', async () => {
    const asked: string[][] = [];
    const s = await fakeServer((o) => ({ resource: `${o}/other` }));
    await expect(connect(`${s.origin}/mcp`, asked)).rejects.toMatchObject({
      code: 'AGENTID_MCP_RESOURCE_MISMATCH',
    });
    expect(s.authorizations).toEqual([]);
  });

  it('malformed metadata is refused', async () => {
    const s = await fakeServer(() => ({ authorization_servers: [] }));
    await expect(connect(`${s.origin}/mcp`, [])).rejects.toMatchObject({
      code: 'AGENTID_MCP_RESOURCE_MISMATCH',
    });
  });

  it("a step-up for another resource's scope is refused: no token for it is asked for", async () => {
    const asked: string[][] = [];
    const s = await fakeServer(
      (o) => ({ resource: o }),
      403,
      'Bearer error="insufficient_scope", scope="https://graph.microsoft.com/Mail.Send"',
    );
    await expect(connect(`${s.origin}/mcp`, asked)).rejects.toMatchObject({
      code: 'AGENTID_MCP_STEP_UP_FAILED',
    });
    expect(asked).toEqual([[`${s.origin}/.default`]]);
    expect(s.authorizations).toHaveLength(1);
  });

  it('a second 401 after one fresh token is a typed error (no loop)', async () => {
    const asked: string[][] = [];
    const s = await fakeServer((o) => ({ resource: o }), 401, 'Bearer error="invalid_token"');
    await expect(connect(`${s.origin}/mcp`, asked)).rejects.toMatchObject({
      code: 'AGENTID_MCP_STEP_UP_FAILED',
    });
    expect(s.authorizations).toHaveLength(2);
  });

  it('forwards the trace context in headers and params._meta, and names the method in Mcp-Method', async () => {
    propagation.setGlobalPropagator(w3c);
    const tracing = createTestTracing();
    try {
      const s = await fakeServer((o) => ({ resource: o }), 500);
      const span = tracing.provider.getTracer('test').startSpan('agent turn');
      await context.with(trace.setSpan(context.active(), span), () =>
        expect(connect(`${s.origin}/mcp`, [])).rejects.toThrow(),
      );
      span.end();
      const traceId = span.spanContext().traceId;
      const r = s.requests[0]!;
      expect(r.headers['mcp-method']).toBe('initialize');
      expect(String(r.headers.traceparent)).toContain(traceId);
      expect(JSON.parse(r.body).params._meta.traceparent).toBe(r.headers.traceparent);
    } finally {
      propagation.disable();
      await tracing.close();
    }
  });

  it('checks its options up front', () => {
    expect(() => mcpClientFetch({ serverUrl: 'nope', getToken: async () => ({ token: 'x' }) })).toThrow(
      /serverUrl/,
    );
    expect(() => mcpClientFetch({ serverUrl: 'https://a', getToken: 1 as never })).toThrow(/getToken/);
    expect(() =>
      mcpClientFetch({
        serverUrl: 'https://a',
        getToken: async () => ({ token: 'x' }),
        toolScopes: { t: [] },
      }),
    ).toThrow(/toolScopes\.t/);
  });
});
