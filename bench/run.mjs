// Runs every scenario in its own Node process (heaps and JIT state never mix), prints a table and
// writes bench/results/<timestamp>.json. `--quick` runs smaller sizes (a smoke run).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => /^--only=/.test(a))?.slice(7);
for (const pkg of ['core', 'obo', 'agent-user', 'tools', 'express', 'fastify', 'emulator']) {
  if (!existsSync(join(here, '..', 'packages', pkg, 'dist', 'index.js'))) {
    console.error(
      `bench: packages/${pkg}/dist is missing: run \`npm run build\` first (npm run bench does).`,
    );
    process.exit(2);
  }
}
const scenarios = [
  '1-warm-autonomous',
  '2-warm-obo',
  '3-herd',
  '4-mixed',
  '5-middleware',
  '6-sidecar',
  '7-sidecar-vs-bare',
  '8-scale',
  '9-mcp',
].filter((s) => !only || s.startsWith(only));
const results = [];
for (const s of scenarios) {
  process.stderr.write(`bench: ${s}${quick ? ' (quick)' : ''} ...\n`);
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', join(here, 'scenarios', `${s}.mjs`), ...(quick ? ['--quick'] : [])],
    { encoding: 'utf8', cwd: here, timeout: 600_000 },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) {
    console.error(`bench: ${s} failed (exit ${r.status})\n${r.stderr.slice(-2000)}`);
    process.exitCode = 1;
    continue;
  }
  results.push(JSON.parse(line.slice(7)));
}
const us = (v) => (v >= 1000 ? `${(v / 1000).toFixed(2)} ms` : `${v.toFixed(2)} µs`);
const rows = [];
for (const r of results) {
  if (r.scenario === 1) {
    rows.push([
      '1 warm autonomous hit',
      `ours ${us(r.ours_us)}/op`,
      `raw MSAL ${us(r.msal_us)}/op`,
      `${r.ratio_vs_msal.toFixed(1)}× faster`,
    ]);
    if (r.agents_hosting_us !== undefined)
      rows.push([
        '1 warm autonomous hit',
        `ours ${us(r.ours_us)}/op`,
        `agents-hosting ${us(r.agents_hosting_us)}/op`,
        `${r.ratio_vs_agents_hosting.toFixed(1)}× faster`,
      ]);
  }
  if (r.scenario === 2) {
    for (const o of r.ours)
      rows.push([
        `2 warm OBO hit, ${o.users} users`,
        `ours ${us(o.ours_us)}/op`,
        '',
        `MSAL cache under ours: ${o.msal_cache_entries_under_ours} entries`,
      ]);
    for (const m of r.msal)
      rows.push([`2 warm OBO hit, ${m.users} users`, '', `raw MSAL ${us(m.msal_us)}/op`, '']);
    for (const a of r.agents_hosting ?? [])
      rows.push([`2 warm OBO hit, ${a.users} users`, '', `agents-hosting ${us(a.agents_hosting_us)}/op`, '']);
  }
  if (r.scenario === 3) {
    const legs = (c) => c.leg1 + c.leg2 + c.user_fic;
    const ours = `ours leg1/leg2/leg3: ${r.ours.leg1}/${r.ours.leg2}/${r.ours.user_fic}`;
    rows.push([
      r.name,
      ours,
      `raw MSAL: ${r.msal.leg1}/${r.msal.leg2}/${r.msal.user_fic}`,
      `${legs(r.msal) / legs(r.ours)}× fewer requests`,
    ]);
    const a = r.agents_hosting;
    if (a)
      rows.push([
        r.name,
        ours,
        `agents-hosting: ${a.leg1}/${a.leg2}/${a.user_fic}`,
        `${legs(a) / legs(r.ours)}× fewer requests`,
      ]);
  }
  if (r.scenario === 4)
    rows.push([
      '4 mixed load, simulated hour',
      `${JSON.stringify(r.requests)} p50 ${us(r.p50_us)} p99 ${us(r.p99_us)}`,
      '',
      `${r.cached_tokens} cached, ${r.bytes_per_cached_token ?? '?'} B/token`,
    ]);
  if (r.scenario === 6)
    for (const h of r.http)
      rows.push([
        `6 sidecar header at cache hit, ${h.connections} conn`,
        `${Math.round(h.rps)} rps p50 ${h.p50_ms} ms p99 ${h.p99_ms} ms`,
        `in-process ${us(r.in_process_us)}/op`,
        `${h.non2xx + h.errors} non-2xx/errors`,
      ]);
  if (r.scenario === 7)
    for (const h of r.rows)
      rows.push([
        `7 sidecar vs bare node:http, ${h.connections} conn`,
        `${Math.round(h.sidecar_rps)} vs ${Math.round(h.bare_rps)} rps`,
        `×${h.rps_ratio.toFixed(2)} of the bare server`,
        `+${h.extra_cpu_us_per_request.toFixed(1)} µs server CPU/request`,
      ]);
  if (r.scenario === 8) {
    const kb = (b) => `${(b / 1024).toFixed(1)} KB`;
    rows.push(
      [
        `8 autonomous hit, ${r.agents} agents`,
        `ours ${us(r.autonomous_hit_many_agents_us)}/op`,
        `Map floor ${us(r.map_floor_us)}/op`,
        `×${r.many_agents_vs_floor.toFixed(1)} the floor`,
      ],
      [
        `8 default config, ${r.agents} agents, 5k warm calls`,
        `${r.default_config_warm_requests.leg1} leg-1 + ${r.default_config_warm_requests.leg2} leg-2 requests`,
        'target 0',
        '',
      ],
      [`8 heap per agent handle`, kb(r.heap_per_agent_bytes), '', ''],
      [
        `8 heap per cached OBO token, ${r.users} users`,
        kb(r.heap_per_obo_token_bytes),
        `token ${kb(r.obo_token_bytes)}`,
        `×${r.heap_per_obo_token_vs_token_bytes.toFixed(1)} the token`,
      ],
      [`8 agent-user warm hit`, `${us(r.agent_user_hit_us)}/op`, '', ''],
      [
        '8 OBO hit, fresh assertion string',
        `${us(r.obo_hit_fresh_assertion_us)}/op`,
        `same string ${us(r.obo_hit_us)}/op`,
        `×${r.obo_fresh_vs_same.toFixed(2)}`,
      ],
      [
        '8 OBO hit, 32 scope sets per user',
        `${us(r.obo_hit_32_sets_us)}/op`,
        `1 set ${us(r.obo_hit_1_set_us)}/op`,
        `×${r.obo_32_vs_1_sets.toFixed(1)}`,
      ],
    );
  }
  if (r.scenario === 9)
    rows.push([
      '9 MCP tools/call with vs without server auth',
      `${us(r.cpu_us_per_call_with)} CPU/call`,
      `${us(r.cpu_us_per_call_without)} CPU/call`,
      `+${us(r.added_cpu_us_per_call)} (authorize ${us(r.authorize_cpu_us)})`,
    ]);
  if (r.scenario === 5)
    for (const f of r.rows)
      rows.push([
        `5 ${f.framework} with vs without middleware`,
        `${Math.round(f.with.rps)} rps p99 ${f.with.p99_ms} ms`,
        `${Math.round(f.without.rps)} rps p99 ${f.without.p99_ms} ms`,
        `overhead ${f.overhead_pct.toFixed(1)}%`,
      ]);
}
const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length), 8));
console.log(`\nagentid bench (${process.version}${quick ? ', quick' : ''})`);
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join(' | '));
mkdirSync(join(here, 'results'), { recursive: true });
const file = join(here, 'results', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ node: process.version, quick, results }, null, 2));
console.log(`\nresults: ${file}`);
