// The agent whose tools the three frameworks wrap: the orchestrator agent acting for alice, on the
// embedded emulator. Each tool body gets a token with only its own permissions:
//  - read_mail goes through the MCP server (examples/mcp) with an MCP client whose tools/call token
//    carries only that tool's scope (and the server's tool then gets its own downstream token);
//  - list_files calls the tools API directly with an OBO token for api://tools/Files.Read only.
import { DEMO } from '@agentid/emulator';
import { onBehalfOf } from '@agentid/obo';
import { connectAsAgent } from '../mcp/client.mjs';
import { listen, serveMcp, toolsApi } from '../mcp/server.mjs';
import { mcpTenant } from '../mcp/tenant.mjs';

export async function startAgent() {
  const api = await toolsApi();
  const http = await listen();
  const tenant = await mcpTenant(http.url);
  const mcp = serveMcp(http, tenant, api.url);
  const agent = tenant.orchestrator.agent(DEMO.agents.orchestrator);
  const alice = await tenant.aliceToken();
  const client = await connectAsAgent(mcp.url, agent, alice);
  return {
    mcp,
    /** The tool bodies, framework-neutral: each returns what the API saw (claims, never the token). */
    tools: {
      async readMail() {
        const r = await client.callTool({ name: 'read_mail', arguments: {} });
        return r.content[0].text;
      },
      async listFiles() {
        const t = await onBehalfOf(agent, alice, ['api://tools/Files.Read']);
        const res = await fetch(`${api.url}/files`, { headers: { authorization: `Bearer ${t.token}` } });
        return res.text();
      },
    },
    async close() {
      await client.close();
      await Promise.all([tenant.emu.close(), http.close(), api.close()]);
    },
  };
}
