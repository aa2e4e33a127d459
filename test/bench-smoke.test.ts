import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The benchmarks run on the built packages; this smoke test checks request counts only, never timings.
const root = new URL('../', import.meta.url).pathname;
const results = new Map<string, Record<string, Record<string, number>>>();
const scenario = (name: string) => {
  const cached = results.get(name);
  if (cached) return cached;
  if (!existsSync(`${root}packages/agent-user/dist/index.js`))
    spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  const r = spawnSync(process.execPath, [`${root}bench/scenarios/${name}.mjs`, '--quick'], {
    cwd: `${root}bench`,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.status, r.stderr).toBe(0);
  const result = JSON.parse(
    r.stdout
      .split('\n')
      .find((l) => l.startsWith('RESULT '))!
      .slice(7),
  ) as Record<string, Record<string, number>>;
  results.set(name, result);
  return result;
};

describe('bench smoke (quick mode, counts only)', () => {
  it('a cold herd of agent-user requests costs one request per leg', () => {
    const r = scenario('3-herd');
    expect(r.ours).toMatchObject({ leg1: 1, leg2: 1, user_fic: 1, distinctTokens: 1 });
    expect(r.msal!.user_fic).toBeGreaterThan(1);
  });
  it('agents-hosting on the same fake network: a cold herd costs one request per call per leg', () => {
    const r = scenario('3-herd');
    const n = r.n as unknown as number;
    expect(n).toBeGreaterThan(1);
    // Its default authority (login.microsoftonline.com): MSAL has built-in metadata, no discovery GETs.
    expect(r.agents_hosting).toMatchObject({ leg1: n, leg2: n, obo: 0, user_fic: n, discovery: 0, other: 0 });
    // On the bench host: each new MSAL client (one per leg-2 call) also GETs instance discovery and
    // openid-configuration, answered by the fake network and never counted as a leg.
    expect(r.agents_hosting_bench_authority).toMatchObject({
      leg1: n,
      leg2: n,
      user_fic: n,
      discovery: 2 * n,
      other: 0,
    });
  });
  it('warm autonomous hits make no further requests', () => {
    const r = scenario('1-warm-autonomous');
    expect(r.requests).toMatchObject({ leg1: 2, leg2: 2 }); // one each for ours, one each for raw MSAL
    expect(r.agents_hosting_requests).toMatchObject({ leg1: 1, leg2: 1, discovery: 0, other: 0 }); // agents-hosting, own fake network
  });
  it('the sidecar answers every request of the load runs with 200', () => {
    const r = scenario('7-sidecar-vs-bare') as unknown as { rows: { connections: number; non2xx: number }[] };
    expect(r.rows.map((x) => [x.connections, x.non2xx])).toEqual([
      [1, 0],
      [32, 0],
    ]);
  });
  it('scale: once warm, many agents under the default configuration send no further requests', () => {
    const r = scenario('8-scale');
    expect(r.default_config_warm_requests).toEqual({ leg1: 0, leg2: 0 });
  });
});
