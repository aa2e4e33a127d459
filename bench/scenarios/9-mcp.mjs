// Scenario 9: the added cost of the MCP server auth per tools/call at cache hit. One tools/call
// through the real SDK (McpServer + the web-standard Streamable HTTP transport, JSON response, a
// fresh server and transport per request as in the SDK's stateless pattern), in process (no
// sockets: HTTP costs the same on both sides and only adds noise), with and without
// createMcpServerAuth: Host/Origin check, Mcp-Name against the body, bearer validation (a hit in
// the cache of validated tokens, expiry, nbf re-checked), the tool's scope check, the AuthInfo,
// and the tool wrapper's execute_tool span and audit call. Same tool body on both sides.
import { createMcpServerAuth } from '@agentid/mcp';
import { DEMO } from '@agentid/emulator';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { MCP, mcpTenant } from '../../examples/mcp/tenant.mjs';
import { emit, quick } from '../lib/measure.mjs';

const resource = 'https://mcp.contoso.com';
const tenant = await mcpTenant(resource);
const auth = createMcpServerAuth({
  blueprint: tenant.server,
  agentId: MCP.agent,
  resource,
  tools: {
    read_mail: {
      scopes: ['Mail.Read'],
      downstream: { resource: 'api://tools', scopes: ['Mail.Read'], mode: 'obo' },
    },
    whoami: { scopes: ['Mail.Read'] },
  },
  audit: { call: () => undefined },
});
const token = await tenant.emu.issueUserToken({
  user: DEMO.users.alice.upn,
  clientId: DEMO.chatApp.appId,
  scopes: [`${resource}/Mail.Read`],
});
const body = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } };
const text = JSON.stringify(body);
const headers = {
  host: 'mcp.contoso.com',
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  authorization: `Bearer ${token}`,
  'mcp-method': 'tools/call',
  'mcp-name': 'whoami',
};
const rawHeaders = Object.entries(headers).flat();
const result = { content: [{ type: 'text', text: 'ok' }] };

async function call(withAuth) {
  let authInfo;
  if (withAuth) {
    const d = await auth.authorize({ method: 'POST', headers, rawHeaders, body });
    if (!d.ok) throw new Error(`refused: ${d.response.status}`);
    authInfo = d.authInfo;
  }
  const server = new McpServer({ name: 'bench', version: '1.0.0' });
  const handler = async () => result;
  server.registerTool('whoami', { inputSchema: {} }, withAuth ? auth.tool('whoami', handler) : handler);
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  await server.connect(transport);
  const req = new Request('https://mcp.contoso.com/mcp', { method: 'POST', headers, body: text });
  const res = await transport.handleRequest(req, { parsedBody: body, ...(authInfo ? { authInfo } : {}) });
  const out = await res.text();
  await server.close();
  if (res.status !== 200 || !out.includes('"ok"')) throw new Error(`unexpected ${res.status} ${out}`);
}

// CPU (user + system) and wall time per call, median of batches, alternating which side goes first.
async function measure(withAuth, ops) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) await call(withAuth);
  const wall = Number(process.hrtime.bigint() - t0) / ops / 1000;
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / ops, user: c.user / ops, wall };
}
const ops = quick ? 200 : 1_000;
for (let i = 0; i < 500; i++) await Promise.all([call(true), call(false)]);
const runs = { with: [], without: [] };
for (let b = 0; b < 5; b++)
  for (const side of b % 2 ? ['with', 'without'] : ['without', 'with'])
    runs[side].push(await measure(side === 'with', ops));
const median = (xs, k) => xs.map((x) => x[k]).sort((a, b) => a - b)[Math.floor(xs.length / 2)];
// authorize() alone (the whole auth step before the SDK sees the request).
const authOps = quick ? 2_000 : 50_000;
const a0 = process.cpuUsage();
for (let i = 0; i < authOps; i++) await auth.authorize({ method: 'POST', headers, rawHeaders, body });
const a = process.cpuUsage(a0);
const r = {
  scenario: 9,
  cpu_us_per_call_without: median(runs.without, 'cpu'),
  cpu_us_per_call_with: median(runs.with, 'cpu'),
  wall_us_per_call_without: median(runs.without, 'wall'),
  wall_us_per_call_with: median(runs.with, 'wall'),
  authorize_cpu_us: (a.user + a.system) / authOps,
};
r.added_cpu_us_per_call = r.cpu_us_per_call_with - r.cpu_us_per_call_without;
r.added_pct = (100 * r.added_cpu_us_per_call) / r.cpu_us_per_call_without;
emit(r);
await tenant.emu.close();
