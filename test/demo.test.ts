import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// The demo (built packages): one call blocked by Conditional Access with its span, and an MCP tool
// call whose token is for that tool only, with the tool's own downstream token, in the span tree.
const root = new URL('../', import.meta.url).pathname;

describe('examples/demo', () => {
  const run = () =>
    (demo ??= spawnSync(process.execPath, [`${root}examples/demo/main.mjs`], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, AZURE_TENANT_ID: '' },
      timeout: 60_000,
    }));
  let demo: SpawnSyncReturns<string> | undefined;
  it('prints one blocked call and the span that carries its error code, never a token', () => {
    const r = run();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /blocked: AGENTID_CONDITIONAL_ACCESS \(agent Nightly reporter agent, flow autonomous, resource api:\/\/tools\), not retried/,
    );
    expect(r.stdout).toContain('span agentid.autonomous: agentid.error.code=AGENTID_CONDITIONAL_ACCESS');
    expect(r.stdout).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  });
  it('tells an MCP tool call: the tools/call token is for that tool, the tool calls on with its own token, both in the span tree', () => {
    const r = run();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'tools/call read_mail: scp Mail.Read, user Alice, acting agent Orchestrator agent',
    );
    expect(r.stdout).toMatch(
      /the tool's own token to the Tools API: aud \S+, scp Mail.Read, acting agent MCP server agent/,
    );
    expect(r.stdout).toMatch(
      /execute_tool read_mail agent=MCP server agent for=Alice chain=\[Orchestrator agent > MCP server agent\] outcome=ok/,
    );
  });
});
