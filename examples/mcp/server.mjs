// The MCP server of the examples (Express, the SDK's Streamable HTTP transport, stateless), and
// the tools API its tools call. Each tool calls the API with its own OBO token, never the inbound one.
import { createServer } from 'node:http';
import { createMcpServerAuth, mcpExpress } from '@agentid/mcp';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import { decodeJwt } from 'jose';
import { MCP } from './tenant.mjs';

/** The claims worth printing (never the token). */
export const claimsOf = (token) => {
  const c = decodeJwt(token);
  return { aud: c.aud, scp: c.scp, oid: c.oid, azp: c.azp, xms_act_fct: c.xms_act_fct };
};

/** A loopback HTTP server whose handler can be set after it listens (its URL names the resource). */
export function listen(handler = (_req, res) => res.writeHead(503).end()) {
  const holder = { handler };
  const server = createServer((req, res) => holder.handler(req, res));
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        use: (h) => (holder.handler = h),
        close: () => new Promise((r) => server.close(r)),
      }),
    ),
  );
}

/** The tools API: answers with the claims of the token it was called with. */
export const toolsApi = () =>
  listen((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: req.url, ...claimsOf((req.headers.authorization ?? '').slice(7)) }));
  });

/** Serves the MCP server on `http` (from `listen()`); `inbound` collects the claims of each tools/call token. */
export function serveMcp(http, tenant, apiUrl, inbound = []) {
  const auth = createMcpServerAuth({
    blueprint: tenant.server,
    agentId: MCP.agent,
    resource: http.url, // its Application ID URI (https in Entra)
    tools: {
      read_mail: {
        scopes: ['Mail.Read'],
        downstream: { resource: 'api://tools', scopes: ['Mail.Read'], mode: 'obo' },
      },
      read_files: {
        scopes: ['Files.Read'],
        downstream: { resource: 'api://tools', scopes: ['Files.Read'], mode: 'obo' },
      },
    },
  });
  const app = express();
  app.use(express.json());
  app.use((req, _res, next) => {
    if (req.body?.method === 'tools/call' && req.headers.authorization)
      inbound.push({ tool: req.body.params.name, ...claimsOf(req.headers.authorization.slice(7)) });
    next();
  });
  app.use(mcpExpress(auth));
  app.all('/mcp', async (req, res) => {
    const server = new McpServer({ name: 'contoso-tools', version: '1.0.0' });
    for (const [name, path] of [
      ['read_mail', '/mail'],
      ['read_files', '/files'],
    ])
      server.registerTool(
        name,
        { description: `${name} of the signed-in user`, inputSchema: {} },
        auth.tool(name, async (_args, call) => ({
          content: [{ type: 'text', text: await (await call.fetch(`${apiUrl}${path}`)).text() }],
        })),
      );
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => void transport.close().then(() => server.close()));
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  http.use(app);
  return { auth, inbound, url: `${http.url}/mcp` };
}
