// An MCP server protected with Entra Agent ID and an agent calling it, on the embedded emulator:
// the orchestrator agent acts for alice; each tools/call carries a token for that tool's scope
// only, and the server's tools call the tools API with their own OBO tokens (never the inbound one).
// Run after `npm run build`: node examples/mcp/main.mjs
import { createServer } from 'node:http';
import { mcpClientFetch, createMcpServerAuth, mcpExpress } from '@agentid/mcp';
import { DEMO } from '@agentid/emulator';
import { onBehalfOf } from '@agentid/obo';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import { decodeJwt } from 'jose';
import { MCP, mcpTenant } from './tenant.mjs';

const listen = (handler) =>
  new Promise((resolve) => {
    const server = createServer((req, res) => handler.current(req, res));
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` }));
  });
const claims = (token) => {
  const c = decodeJwt(token);
  return { aud: c.aud, scp: c.scp, oid: c.oid, azp: c.azp, xms_act_fct: c.xms_act_fct };
};

// The tools API the MCP server's tools call: it answers with the claims of the token it got.
const toolsApi = await listen({
  current: (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(claims((req.headers.authorization ?? '').slice(7))));
  },
});
const mcpHandler = { current: (_req, res) => res.writeHead(503).end() };
const mcp = await listen(mcpHandler);
const tenant = await mcpTenant(mcp.url);

// --- the MCP server -------------------------------------------------------------------------------
const inboundClaims = [];
const auth = createMcpServerAuth({
  blueprint: tenant.server,
  agentId: MCP.agent,
  resource: mcp.url, // its Application ID URI (https in Entra)
  tools: {
    read_mail: { scopes: ['Mail.Read'], downstream: { resource: 'api://tools', scopes: ['Mail.Read'], mode: 'obo' } },
    read_files: { scopes: ['Files.Read'], downstream: { resource: 'api://tools', scopes: ['Files.Read'], mode: 'obo' } },
  },
});
const app = express();
app.use(express.json());
app.use((req, _res, next) => {
  if (req.body?.method === 'tools/call') inboundClaims.push({ tool: req.body.params.name, ...claims(req.headers.authorization.slice(7)) });
  next();
});
app.use(mcpExpress(auth));
app.all('/mcp', async (req, res) => {
  const server = new McpServer({ name: 'contoso-tools', version: '1.0.0' });
  for (const [name, path] of [['read_mail', '/mail'], ['read_files', '/files']])
    server.registerTool(
      name,
      { inputSchema: {} },
      auth.tool(name, async (_args, call) => ({
        content: [{ type: 'text', text: await (await call.fetch(`${toolsApi.url}${path}`)).text() }],
      })),
    );
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => void transport.close().then(() => server.close()));
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});
mcpHandler.current = app;

// --- the agent as MCP client --------------------------------------------------------------------
const alice = await tenant.aliceToken();
const orchestrator = tenant.orchestrator.agent(DEMO.agents.orchestrator);
const serverUrl = `${mcp.url}/mcp`;
const client = new Client({ name: 'orchestrator', version: '1.0.0' });
await client.connect(
  new StreamableHTTPClientTransport(new URL(serverUrl), {
    fetch: mcpClientFetch({
      serverUrl,
      getToken: (scopes, o) => onBehalfOf(orchestrator, alice, scopes, o),
      toolScopes: { read_mail: ['Mail.Read'], read_files: ['Files.Read'] },
    }),
  }),
);
console.log('tools:', (await client.listTools()).tools.map((t) => t.name).join(', '));
for (const name of ['read_mail', 'read_files']) {
  const r = await client.callTool({ name, arguments: {} });
  console.log(`\n${name}`);
  console.log('  token of the tools/call (to the MCP server):', JSON.stringify(inboundClaims.find((c) => c.tool === name)));
  console.log('  the tool\'s own downstream token (to the tools API):', r.content[0].text);
}
await client.close();
await Promise.all([tenant.emu.close(), new Promise((r) => mcp.server.close(r)), new Promise((r) => toolsApi.server.close(r))]);
