// Test set-up: loopback servers, the MCP tenant of examples/mcp (the demo tenant plus a blueprint
// whose Application ID URI is the server's URL, known once it listens), a recording API.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Blueprint } from '@agentid/core';
import type { Emulator } from '@agentid/emulator';
import { createTestTracing, type TestTracing } from '@agentid/test-support/otel';
import { decodeJwt } from 'jose';
import { MCP, mcpTenant } from '../../../examples/mcp/tenant.mjs';

export { MCP };

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A loopback HTTP server whose handler is set later (the URL is needed before the app exists). */
export async function listen(): Promise<{
  server: Server;
  url: string;
  use(h: Handler): void;
  close(): Promise<void>;
}> {
  let handler: Handler = (_req, res) => res.writeHead(503).end();
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    use: (h) => (handler = h),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export interface Tenant {
  emu: Emulator;
  /** The MCP server's blueprint (its Application ID URI is `resource`). */
  server: Blueprint;
  /** The callers' blueprints: the orchestrator's (OBO for alice) and the workers' (the autonomous reporter). */
  orchestrator: Blueprint;
  workers: Blueprint;
  tracing: TestTracing;
  /** Bodies of every token request the blueprints sent to the emulator. */
  tokenRequests: string[];
  aliceToken(): Promise<string>;
}

/** The demo tenant with the MCP server at `resource` (examples/mcp/tenant.mjs), traced, token requests recorded. */
export async function tenantWith(resource: string): Promise<Tenant> {
  const tracing = createTestTracing();
  const tokenRequests: string[] = [];
  const t = await mcpTenant(resource, {
    tracerProvider: tracing.provider,
    onTokenRequest: (body) => tokenRequests.push(body),
  });
  return { ...t, tracing, tokenRequests };
}

/** A downstream API that records the bearer tokens it receives and answers with their claims. */
export function recordingApi(): { seen: string[]; handler: Handler } {
  const seen: string[] = [];
  return {
    seen,
    handler: (req, res) => {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      seen.push(token);
      const c = decodeJwt(token);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ aud: c.aud, scp: c.scp, oid: c.oid, azp: c.azp, path: req.url }));
    },
  };
}

export const claimsOf = (authorization: string | undefined): Record<string, unknown> =>
  decodeJwt((authorization ?? '').replace(/^Bearer /, ''));
