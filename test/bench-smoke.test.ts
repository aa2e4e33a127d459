import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The benchmarks run on the built packages; this smoke test checks request counts only, never timings.
const root = new URL('../', import.meta.url).pathname;
const scenario = (name: string) => {
  if (!existsSync(`${root}packages/agent-user/dist/index.js`)) spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  const r = spawnSync(process.execPath, [`${root}bench/scenarios/${name}.mjs`, '--quick'], { cwd: `${root}bench`, encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('RESULT '))!.slice(7)) as Record<string, Record<string, number>>;
};

describe('bench smoke (quick mode, counts only)', () => {
  it('a cold herd of agent-user requests costs one request per leg', () => {
    const r = scenario('3-herd');
    expect(r.ours).toMatchObject({ leg1: 1, leg2: 1, user_fic: 1, distinctTokens: 1 });
    expect(r.msal!.user_fic).toBeGreaterThan(1);
  });
  it('warm autonomous hits make no further requests', () => {
    const r = scenario('1-warm-autonomous');
    expect(r.requests).toMatchObject({ leg1: 2, leg2: 2 }); // one each for ours, one each for raw MSAL
  });
});
