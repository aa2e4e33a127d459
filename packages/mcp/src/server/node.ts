import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { McpServerAuth } from './server-auth.js';

/** A Node request as Express gives it: parsed `body`, and `auth` for the SDK transport. */
type NodeRequest = IncomingMessage & { body?: unknown; auth?: AuthInfo };

/** Writes a JSON answer on a Node response. @internal */
export function sendJson(
  res: ServerResponse,
  r: { status: number; headers: Readonly<Record<string, string>>; body: unknown },
): void {
  res.statusCode = r.status;
  for (const [k, v] of Object.entries(r.headers)) res.setHeader(k, v);
  res.setHeader('content-type', 'application/json');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(r.body));
}

/**
 * Express (or any Node `(req, res, next)` stack) middleware for an MCP server: serves the RFC
 * 9728 metadata at `auth.metadataPath`, and authorizes every other request it sees (mount it on
 * the MCP endpoint, after `express.json()`), setting `req.auth` for the SDK's
 * `StreamableHTTPServerTransport`. A refusal is answered here (401/403/400), never passed on.
 *
 * @example
 * ```ts
 * app.use(express.json());
 * app.use(mcpExpress(auth));
 * app.post('/mcp', async (req, res) => { await transport.handleRequest(req, res, req.body); });
 * ```
 */
export function mcpExpress(
  auth: McpServerAuth,
): (req: NodeRequest, res: ServerResponse, next: (error?: unknown) => void) => void {
  const metadata = { status: 200, headers: { 'access-control-allow-origin': '*' }, body: auth.metadata };
  return (req, res, next) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === auth.metadataPath) {
      if (req.method === 'GET' || req.method === 'HEAD') return sendJson(res, metadata);
      return sendJson(res, { status: 405, headers: { allow: 'GET' }, body: { error: 'method_not_allowed' } });
    }
    auth
      .authorize({ method: req.method, headers: req.headers, rawHeaders: req.rawHeaders, body: req.body })
      .then((d) => {
        if (!d.ok) return sendJson(res, d.response);
        req.auth = d.authInfo;
        next();
      }, next);
  };
}
