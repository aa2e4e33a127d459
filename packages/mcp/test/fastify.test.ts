import { DEMO } from '@agentid/emulator';
import { onBehalfOf } from '@agentid/obo';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mcpClientFetch, mcpFastify } from '../src/index.js';
import { mcpServer, type Seen, serverAuth } from './app.js';
import { claimsOf, listen, MCP, recordingApi, type Tenant, tenantWith } from './fixture.js';

let tenant: Tenant;
let app: FastifyInstance;
let url: string;
let api: Awaited<ReturnType<typeof listen>>;
const tools = recordingApi();
const seen: Seen = { handlerTokens: [], audit: [] };
const inbound: { tool?: string; authorization?: string; status?: number }[] = [];

beforeAll(async () => {
  api = await listen();
  api.use(tools.handler);
  // A free port first: the resource (the server's URL) is in the emulator's directory.
  const probe = await listen();
  url = probe.url;
  await probe.close();
  tenant = await tenantWith(url);
  const auth = serverAuth(tenant, url, seen);
  const mcp = mcpFastify(auth);
  app = Fastify();
  app.addHook('onResponse', async (req, reply) => {
    const body = req.body as { params?: { name?: string } } | undefined;
    inbound.push({
      tool: body?.params?.name,
      authorization: req.headers.authorization,
      status: reply.statusCode,
    });
  });
  mcp.register(app);
  app.route({
    method: ['POST', 'GET', 'DELETE'],
    url: '/mcp',
    preHandler: mcp.preHandler,
    handler: async (req, reply) => {
      const server = mcpServer(auth, api.url, seen);
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      reply.raw.on('close', () => void transport.close().then(() => server.close()));
      reply.hijack();
      await server.connect(transport);
      await transport.handleRequest(req.raw, reply.raw, req.body);
    },
  });
  await app.listen({ port: Number(new URL(url).port), host: '127.0.0.1' });
});
afterAll(async () => {
  await Promise.all([app.close(), api.close(), tenant.emu.close(), tenant.tracing.close()]);
});

describe('an MCP server protected with Entra Agent ID, under Fastify', () => {
  it('serves the metadata, gives each tool call its own token, steps up once, and refuses another resource (401)', async () => {
    const meta = (await (await fetch(`${url}/.well-known/oauth-protected-resource`)).json()) as {
      resource: string;
    };
    expect(meta.resource).toBe(url);
    const alice = await tenant.aliceToken();
    const agent = tenant.orchestrator.agent(DEMO.agents.orchestrator);
    const serverUrl = `${url}/mcp`;
    const client = new Client({ name: 'orchestrator', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(serverUrl), {
        fetch: mcpClientFetch({
          serverUrl,
          getToken: (s, o) => onBehalfOf(agent, alice, s, o),
          toolScopes: { read_mail: ['Mail.Read'] },
          scopes: ['Mail.Read'],
        }),
      }),
    );
    const mail = await client.callTool({ name: 'read_mail', arguments: {} });
    const files = await client.callTool({ name: 'read_files', arguments: {} });
    await client.close();
    expect(JSON.parse((mail.content as { text: string }[])[0]!.text)).toMatchObject({
      scp: 'Mail.Read',
      azp: MCP.agent,
    });
    expect(JSON.parse((files.content as { text: string }[])[0]!.text)).toMatchObject({
      scp: 'Files.Read',
      azp: MCP.agent,
    });
    const calls = inbound
      .filter((i) => i.tool === 'read_files')
      .map((i) => [i.status, claimsOf(i.authorization).scp]);
    expect(calls).toEqual([
      [403, 'Mail.Read'],
      [200, 'Files.Read'],
    ]);
    const inboundTokens = new Set(inbound.map((i) => (i.authorization ?? '').slice(7)));
    for (const t of tools.seen) expect(inboundTokens.has(t)).toBe(false);

    const other = await onBehalfOf(agent, alice, ['api://tools/Files.Read']);
    const res = await fetch(serverUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${other.token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain(
      `resource_metadata="${url}/.well-known/oauth-protected-resource"`,
    );
  });
});
