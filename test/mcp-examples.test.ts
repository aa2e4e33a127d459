import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// examples/mcp and examples/mcp-frameworks on the embedded emulator (built packages, as a user
// runs them). The frameworks' tools are invoked directly, as the framework would: no model.
const root = new URL('../', import.meta.url).pathname;
const load = (path: string): Promise<Record<string, (...a: unknown[]) => unknown>> =>
  import(`${root}${path}`) as Promise<Record<string, (...a: unknown[]) => unknown>>;
const TOOLS_API = 'f0000000-0000-4000-8000-000000000001';
const MCP_AGENT = 'a6000000-0000-4000-8000-0000000000c6';
const ORCHESTRATOR = 'a1000000-0000-4000-8000-000000000001';

interface Started {
  mcp: { inbound: { tool: string; scp: string }[] };
  tools: { readMail(): Promise<string>; listFiles(): Promise<string> };
  close(): Promise<void>;
}
let agent: Started;
beforeAll(async () => {
  agent = (await (await load('examples/mcp-frameworks/agent.mjs')).startAgent!()) as Started;
});
afterAll(() => agent?.close());

/** What the tools API saw: read_mail through the MCP server's own token, list_files with the agent's. */
function expectToolScoped(mail: unknown, files: unknown) {
  expect(JSON.parse(String(mail))).toMatchObject({
    path: '/mail',
    aud: TOOLS_API,
    scp: 'Mail.Read',
    azp: MCP_AGENT,
  });
  expect(JSON.parse(String(files))).toMatchObject({
    path: '/files',
    aud: TOOLS_API,
    scp: 'Files.Read',
    azp: ORCHESTRATOR,
  });
}

describe('tool-scoped tokens inside agent framework tools', () => {
  it('Vercel AI SDK tools (ai): each execute gets a token for its tool only', async () => {
    const tools = (await load('examples/mcp-frameworks/vercel-ai.mjs')).aiTools!(agent.tools) as Record<
      string,
      { execute(input: unknown, options: unknown): Promise<string> }
    >;
    const opts = { toolCallId: 'call-1', messages: [] };
    expectToolScoped(await tools.read_mail!.execute({}, opts), await tools.list_files!.execute({}, opts));
  });

  it('OpenAI Agents SDK function tools: invoke as the runner would', async () => {
    const { RunContext } = await import('@openai/agents');
    const [mail, files] = (await load('examples/mcp-frameworks/openai-agents.mjs')).openAiTools!(
      agent.tools,
    ) as {
      invoke(ctx: unknown, input: string): Promise<string>;
    }[];
    expectToolScoped(await mail!.invoke(new RunContext(), '{}'), await files!.invoke(new RunContext(), '{}'));
  });

  it('LangChain.js tools (@langchain/core)', async () => {
    const [mail, files] = (await load('examples/mcp-frameworks/langchain.mjs')).langChainTools!(
      agent.tools,
    ) as {
      invoke(input: unknown): Promise<string>;
    }[];
    expectToolScoped(await mail!.invoke({}), await files!.invoke({}));
  });

  it("the MCP client used by the tools sent each tools/call with the tool's own scope", () => {
    const calls = agent.mcp.inbound.map((c) => [c.tool, c.scp]);
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls) expect(c).toEqual(['read_mail', 'Mail.Read']);
  });
});

describe('examples/mcp/main.mjs', () => {
  it("prints each tool call's token claims: the call's own scope inbound, the tool's own token downstream, never a token", () => {
    const r = spawnSync(process.execPath, [`${root}examples/mcp/main.mjs`], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /tools\/call token \(to the MCP server\): \{"tool":"read_mail",[^\n]*"scp":"Mail\.Read"/,
    );
    expect(r.stdout).toMatch(
      /tools\/call token \(to the MCP server\): \{"tool":"read_files",[^\n]*"scp":"Files\.Read"/,
    );
    expect(r.stdout).toMatch(
      new RegExp(
        `tools API\\): \\{"path":"/mail","aud":"${TOOLS_API}","scp":"Mail\\.Read"[^\\n]*"azp":"${MCP_AGENT}"`,
      ),
    );
    expect(r.stdout).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  });
});
