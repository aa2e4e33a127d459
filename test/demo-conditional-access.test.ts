import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// The demo (built packages) shows one call blocked by Conditional Access, with its span.
const root = new URL('../', import.meta.url).pathname;

describe('examples/demo', () => {
  it('prints one blocked call and the span that carries its error code, never a token', () => {
    const r = spawnSync(process.execPath, [`${root}examples/demo/main.mjs`], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, AZURE_TENANT_ID: '' },
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /blocked: AGENTID_CONDITIONAL_ACCESS \(agent Nightly reporter agent, flow autonomous, resource api:\/\/tools\), not retried/,
    );
    expect(r.stdout).toContain('span agentid.autonomous: agentid.error.code=AGENTID_CONDITIONAL_ACCESS');
    expect(r.stdout).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  });
});
