// The MCP server of the tests, on the real SDK: four tools with different permissions, two of
// them calling a downstream API with their own token.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { createMcpServerAuth, type McpCallEvent, type McpServerAuth } from '../src/index.js';
import { MCP, type Tenant } from './fixture.js';

export interface Seen {
  /** `extra.authInfo.token` as the handlers saw it. */
  handlerTokens: string[];
  audit: McpCallEvent[];
}

export function serverAuth(tenant: Tenant, resource: string, seen: Seen): McpServerAuth {
  return createMcpServerAuth({
    blueprint: tenant.server,
    agentId: MCP.agent,
    resource,
    tools: {
      read_mail: {
        scopes: ['Mail.Read'],
        downstream: { resource: 'api://tools', scopes: ['Mail.Read'], mode: 'obo' },
      },
      read_files: {
        scopes: ['Files.Read'],
        downstream: { resource: 'api://tools', scopes: ['Files.Read'], mode: 'obo' },
      },
      run_report: { roles: ['Reports.Run'] },
      whoami: { scopes: ['Mail.Read'], roles: ['Reports.Read'] },
    },
    audit: { call: (e) => seen.audit.push(e) },
  });
}

/** A fresh McpServer (the SDK's stateless pattern: one per request). */
export function mcpServer(auth: McpServerAuth, api: string, seen: Seen): McpServer {
  const server = new McpServer({ name: 'contoso-tools', version: '1.0.0' });
  const downstream = (name: string, path: string) =>
    server.registerTool(
      name,
      { description: `${name} through the tools API`, inputSchema: {} },
      auth.tool(name, async (_args, call, extra) => {
        seen.handlerTokens.push(extra.authInfo?.token ?? '');
        const res = await call.fetch(`${api}${path}`);
        return { content: [{ type: 'text' as const, text: await res.text() }] };
      }),
    );
  downstream('read_mail', '/mail');
  downstream('read_files', '/files');
  server.registerTool(
    'run_report',
    { inputSchema: {} },
    auth.tool('run_report', async () => ({ content: [{ type: 'text' as const, text: 'report' }] })),
  );
  server.registerTool(
    'whoami',
    { inputSchema: {} },
    auth.tool('whoami', async (_args, call, extra) => {
      seen.handlerTokens.push(extra.authInfo?.token ?? '');
      const p = call.principal;
      return {
        content: [
          { type: 'text' as const, text: JSON.stringify({ oid: p.oid, azp: p.azp, idtyp: p.idtyp }) },
        ],
      };
    }),
  );
  return server;
}
