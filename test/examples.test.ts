import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// Every pattern example runs on the embedded emulator (built packages, as a user would run them).
const root = new URL('../', import.meta.url).pathname;
const env = { ...process.env, AZURE_TENANT_ID: '' };

describe('examples', () => {
  for (const name of [
    'singleton',
    'domain-workers',
    'orchestrator',
    'per-user',
    'digital-worker',
    'ephemeral',
    'long-running',
    'two-tenant',
  ]) {
    it(`${name} runs and prints who acted for whom, never a token`, () => {
      const r = spawnSync(process.execPath, [`${root}examples/${name}/main.mjs`], {
        cwd: root,
        encoding: 'utf8',
        env,
        timeout: 60_000,
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/subject=[0-9a-f-]{36} actor=[0-9a-f-]{36}/);
      expect(r.stdout).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
    });
  }

  it('long-running finishes two hours later, after the user token expired, still for that user', () => {
    const r = spawnSync(process.execPath, [`${root}examples/long-running/main.mjs`], {
      cwd: root,
      encoding: 'utf8',
      env,
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('finished two hours later (user token expired: true)');
    expect(r.stdout).toMatch(/oid=a11ce000-[0-9a-f-]+ azp=[0-9a-f-]{36}/);
    expect(r.stdout).toContain('refresh-token grants: 1');
  });
});
