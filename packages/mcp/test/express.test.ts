import { DEMO } from '@agentid/emulator';
import { onBehalfOf } from '@agentid/obo';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMcpServerAuth,
  INBOUND_TOKEN_WITHHELD,
  mcpAuthOf,
  mcpClientFetch,
  mcpExpress,
  type McpServerAuth,
  type McpTokenSource,
} from '../src/index.js';
import { mcpServer, type Seen, serverAuth } from './app.js';
import { claimsOf, listen, MCP, recordingApi, type Tenant, tenantWith } from './fixture.js';

let tenant: Tenant;
let mcp: Awaited<ReturnType<typeof listen>>;
let api: Awaited<ReturnType<typeof listen>>;
let auth: McpServerAuth;
const tools = recordingApi();
const seen: Seen = { handlerTokens: [], audit: [] };
/** Every request the MCP server received: method, tool and Authorization header. */
const inbound: { method?: string; tool?: string; authorization?: string; status?: number }[] = [];

beforeAll(async () => {
  mcp = await listen();
  api = await listen();
  api.use(tools.handler);
  tenant = await tenantWith(mcp.url);
  auth = serverAuth(tenant, mcp.url, seen);
  const app = express();
  app.use(express.json());
  app.use((req, res, next) => {
    const entry = {
      method: (req.body as { method?: string } | undefined)?.method,
      tool: (req.body as { params?: { name?: string } } | undefined)?.params?.name,
      authorization: req.headers.authorization,
    } as (typeof inbound)[number];
    inbound.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));
    next();
  });
  app.use(mcpExpress(auth));
  app.all('/mcp', async (req, res) => {
    const server = mcpServer(auth, api.url, seen);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => void transport.close().then(() => server.close()));
    await server.connect(transport);
    auth.filterToolsList(transport);
    await transport.handleRequest(req, res, req.body);
  });
  mcp.use(app);
});
afterAll(async () => {
  await Promise.all([mcp.close(), api.close(), tenant.emu.close(), tenant.tracing.close()]);
});

const oboFor = async (): Promise<McpTokenSource> => {
  const alice = await tenant.aliceToken();
  const agent = tenant.orchestrator.agent(DEMO.agents.orchestrator);
  return (scopes, o) => onBehalfOf(agent, alice, scopes, o);
};
async function connect(getToken: McpTokenSource, extra: Partial<Parameters<typeof mcpClientFetch>[0]> = {}) {
  const serverUrl = `${mcp.url}/mcp`;
  const transport = new StreamableHTTPClientTransport(new URL(serverUrl), {
    fetch: mcpClientFetch({ serverUrl, getToken, ...extra }),
  });
  const client = new Client({ name: 'orchestrator', version: '1.0.0' });
  await client.connect(transport);
  return client;
}
const textOf = (r: Awaited<ReturnType<Client['callTool']>>): string =>
  (r.content as { type: string; text: string }[])[0]!.text;
const callsOf = (tool: string) => inbound.filter((i) => i.method === 'tools/call' && i.tool === tool);

describe('an MCP server protected with Entra Agent ID, under Express, called by an agent with the SDK client', () => {
  it('serves RFC 9728 metadata: the resource, the tenant v2 issuer and the scopes', async () => {
    const res = await fetch(`${mcp.url}/.well-known/oauth-protected-resource`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      resource: mcp.url,
      authorization_servers: [`${tenant.emu.baseUrl}/${DEMO.tenantId}/v2.0`],
      scopes_supported: [`${mcp.url}/Mail.Read`, `${mcp.url}/Files.Read`],
      bearer_methods_supported: ['header'],
    });
  });

  it('two tools with different scopes: each call carries exactly its own token, and so does each downstream call', async () => {
    inbound.length = 0;
    tools.seen.length = 0;
    const client = await connect(await oboFor(), {
      toolScopes: { read_mail: ['Mail.Read'], read_files: ['Files.Read'] },
    });
    const mail = JSON.parse(textOf(await client.callTool({ name: 'read_mail', arguments: {} })));
    const files = JSON.parse(textOf(await client.callTool({ name: 'read_files', arguments: {} })));
    await client.close();
    // Inbound: one request per tool, with a token for that tool's scope only.
    expect(callsOf('read_mail').map((c) => claimsOf(c.authorization).scp)).toEqual(['Mail.Read']);
    expect(callsOf('read_files').map((c) => claimsOf(c.authorization).scp)).toEqual(['Files.Read']);
    for (const c of [...callsOf('read_mail'), ...callsOf('read_files')]) {
      expect(claimsOf(c.authorization).aud).toBe(MCP.blueprint.appId);
      expect(claimsOf(c.authorization).oid).toBe(DEMO.users.alice.id);
    }
    // Downstream: the MCP server's own OBO tokens for the tools API, one scope each.
    expect(mail).toMatchObject({
      aud: DEMO.resources.tools.appId,
      scp: 'Mail.Read',
      oid: DEMO.users.alice.id,
      azp: MCP.agent,
    });
    expect(files).toMatchObject({ aud: DEMO.resources.tools.appId, scp: 'Files.Read', azp: MCP.agent });
  });

  it('never sends an inbound token downstream, and handlers see no token in authInfo', async () => {
    const inboundTokens = new Set(inbound.map((i) => (i.authorization ?? '').replace(/^Bearer /, '')));
    expect(tools.seen.length).toBeGreaterThan(0);
    for (const t of tools.seen) expect(inboundTokens.has(t)).toBe(false);
    expect(seen.handlerTokens.length).toBeGreaterThan(0);
    expect(new Set(seen.handlerTokens)).toEqual(new Set([INBOUND_TOKEN_WITHHELD]));
  });

  it('a missing scope gets 403 insufficient_scope naming the tool scope; the client steps up once and remembers it', async () => {
    inbound.length = 0;
    const client = await connect(await oboFor(), { scopes: ['Mail.Read'] });
    const first = JSON.parse(textOf(await client.callTool({ name: 'read_files', arguments: {} })));
    expect(first).toMatchObject({ scp: 'Files.Read' });
    expect(callsOf('read_files').map((c) => [c.status, claimsOf(c.authorization).scp])).toEqual([
      [403, 'Mail.Read'],
      [200, 'Files.Read'],
    ]);
    await client.callTool({ name: 'read_files', arguments: {} });
    expect(callsOf('read_files')).toHaveLength(3);
    await client.close();
  });

  it('the 403 challenge names the tool scope and the metadata', async () => {
    const agent = tenant.orchestrator.agent(DEMO.agents.orchestrator);
    const token = await onBehalfOf(agent, await tenant.aliceToken(), [`${mcp.url}/Mail.Read`]);
    const res = await rawCall(token.token, 'read_files');
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", resource_metadata="${mcp.url}/.well-known/oauth-protected-resource", scope="${mcp.url}/Files.Read"`,
    );
  });

  it('refused again after the one step-up: a typed error, no loop (an autonomous agent without the app role)', async () => {
    inbound.length = 0;
    const reporter = tenant.workers.agent(DEMO.agents.reporter);
    const client = await connect((s, o) => reporter.getToken(s, o));
    // whoami admits its Reports.Read app role.
    expect(JSON.parse(textOf(await client.callTool({ name: 'whoami', arguments: {} })))).toMatchObject({
      idtyp: 'app',
      oid: DEMO.agents.reporter,
    });
    await expect(client.callTool({ name: 'run_report', arguments: {} })).rejects.toMatchObject({
      code: 'AGENTID_MCP_STEP_UP_FAILED',
    });
    expect(callsOf('run_report').map((c) => c.status)).toEqual([403, 403]);
    await client.close();
  });

  it('tools/list shows each caller only the tools it may call (filterToolsList)', async () => {
    const names = async (client: Client) => (await client.listTools()).tools.map((t) => t.name).sort();
    const user = await connect(await oboFor(), { scopes: ['Mail.Read'] });
    expect(await names(user)).toEqual(['read_mail', 'whoami']);
    await user.close();
    const reporter = tenant.workers.agent(DEMO.agents.reporter);
    const app = await connect((s, o) => reporter.getToken(s, o));
    expect(await names(app)).toEqual(['whoami']);
    await app.close();
  });

  it('a token for another resource is refused with 401 and the challenge', async () => {
    const agent = tenant.orchestrator.agent(DEMO.agents.orchestrator);
    const other = await onBehalfOf(agent, await tenant.aliceToken(), ['api://tools/Files.Read']);
    const res = await rawCall(other.token, 'read_files');
    expect(res.status).toBe(401);
    const h = res.headers.get('www-authenticate')!;
    expect(h).toMatch(
      /^Bearer error="invalid_token", error_description="The token audience is not this service"/,
    );
    expect(h).toContain(`resource_metadata="${mcp.url}/.well-known/oauth-protected-resource"`);
    expect(h).toContain(`scope="${mcp.url}/Files.Read"`);
    const none = await rawCall(undefined, 'read_mail');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${mcp.url}/.well-known/oauth-protected-resource", scope="${mcp.url}/Mail.Read"`,
    );
  });

  it('requireAgent: a user token no agent obtained is refused (403), the agent OBO token is accepted', async () => {
    const strict = createMcpServerAuth({
      blueprint: tenant.server,
      agentId: MCP.agent,
      resource: mcp.url,
      tools: { read_mail: { scopes: ['Mail.Read'] } },
      requireAgent: true,
    });
    const direct = await tenant.emu.issueUserToken({
      user: DEMO.users.alice.upn,
      clientId: DEMO.chatApp.appId,
      scopes: [`${mcp.url}/Mail.Read`],
    });
    const agent = tenant.orchestrator.agent(DEMO.agents.orchestrator);
    const obo = await onBehalfOf(agent, await tenant.aliceToken(), [`${mcp.url}/Mail.Read`]);
    const body = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_mail' } };
    const request = (token: string) => ({
      method: 'POST',
      headers: { host: new URL(mcp.url).host, authorization: `Bearer ${token}` },
      body,
    });
    const refused = await strict.authorize(request(direct));
    expect(refused.ok ? 200 : refused.response.status).toBe(403);
    const accepted = await strict.authorize(request(obo.token));
    expect(accepted.ok && mcpAuthOf({ authInfo: accepted.authInfo }).principal.actorFacets).toContain(11);
  });

  it('never sends an RFC 8707 resource parameter to Entra', () => {
    expect(tenant.tokenRequests.length).toBeGreaterThan(0);
    for (const body of tenant.tokenRequests) expect(new URLSearchParams(body).has('resource')).toBe(false);
  });

  it('Mcp-Name that disagrees with the body is a 400; a foreign Host or a browser Origin is a 403', async () => {
    const agent = tenant.orchestrator.agent(DEMO.agents.orchestrator);
    const t = await onBehalfOf(agent, await tenant.aliceToken(), [`${mcp.url}/Mail.Read`]);
    expect((await rawCall(t.token, 'read_files', { 'mcp-name': 'read_mail' })).status).toBe(400);
    expect((await rawCall(t.token, 'read_mail', { 'mcp-method': 'tools/list' })).status).toBe(400);
    expect((await rawCall(t.token, 'read_mail', { origin: 'https://evil.example' })).status).toBe(403);
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const r = request(
        `${mcp.url}/mcp`,
        { method: 'POST', headers: { host: 'evil.example', 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      r.on('error', reject);
      r.end('{}');
    });
    expect(status).toBe(403);
  });

  it('audits and traces each tool call: agent, user, tool and outcome, never a token', () => {
    const ok = seen.audit.find((e) => e.tool === 'read_mail' && e.outcome === 'ok')!;
    expect(ok).toMatchObject({
      agentId: MCP.agent,
      callerId: DEMO.agents.orchestrator,
      userId: DEMO.users.alice.id,
    });
    expect(
      seen.audit.some(
        (e) => e.tool === 'read_files' && e.outcome === 'denied' && e.reason === 'missing scopes',
      ),
    ).toBe(true);
    const span = tenant.tracing
      .spans()
      .find((s) => s.name === 'execute_tool read_mail' && s.attributes['mcp.method.name'])!;
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'read_mail',
      'mcp.method.name': 'tools/call',
      'gen_ai.agent.id': MCP.agent,
      'agentid.obo.user.id': DEMO.users.alice.id,
      'agentid.mcp.caller.id': DEMO.agents.orchestrator,
      'agentid.tool.outcome': 'ok',
    });
    const text = JSON.stringify([seen.audit, tenant.tracing.spans().map((s) => s.attributes)]);
    for (const i of inbound) if (i.authorization) expect(text).not.toContain(i.authorization.slice(7, 60));
  });
});

async function rawCall(token: string | undefined, tool: string, headers: Record<string, string> = {}) {
  return fetch(`${mcp.url}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: tool, arguments: {} },
    }),
  });
}
