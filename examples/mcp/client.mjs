// The agent side: the orchestrator agent, acting for a user, as an MCP client whose every
// tools/call carries a token for that tool's scope only.
import { mcpClientFetch } from '@agentid/mcp';
import { onBehalfOf } from '@agentid/obo';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export async function connectAsAgent(serverUrl, agent, userToken) {
  const client = new Client({ name: 'orchestrator', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(serverUrl), {
      fetch: mcpClientFetch({
        serverUrl,
        getToken: (scopes, o) => onBehalfOf(agent, userToken, scopes, o),
        toolScopes: { read_mail: ['Mail.Read'], read_files: ['Files.Read'] },
      }),
    }),
  );
  return client;
}
