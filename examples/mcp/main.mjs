// An MCP server protected with Entra Agent ID and an agent calling it, on the embedded emulator:
// the orchestrator agent acts for alice; each tools/call carries a token for that tool's scope
// only, and the server's tools call the tools API with their own OBO tokens (never the inbound one).
// Run after `npm run build`: node examples/mcp/main.mjs
import { DEMO } from '@agentid/emulator';
import { connectAsAgent } from './client.mjs';
import { listen, serveMcp, toolsApi } from './server.mjs';
import { mcpTenant } from './tenant.mjs';

const api = await toolsApi();
const http = await listen();
const tenant = await mcpTenant(http.url);
const mcp = serveMcp(http, tenant, api.url);

const orchestrator = tenant.orchestrator.agent(DEMO.agents.orchestrator);
const client = await connectAsAgent(mcp.url, orchestrator, await tenant.aliceToken());
console.log('tools:', (await client.listTools()).tools.map((t) => t.name).join(', '));
for (const name of ['read_mail', 'read_files']) {
  const r = await client.callTool({ name, arguments: {} });
  console.log(`\n${name}`);
  console.log(
    '  tools/call token (to the MCP server):',
    JSON.stringify(mcp.inbound.find((c) => c.tool === name)),
  );
  console.log("  the tool's own token (to the tools API):", r.content[0].text);
}
await client.close();
await Promise.all([tenant.emu.close(), http.close(), api.close()]);
