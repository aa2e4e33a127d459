// Before/after: our warm hits (scenario 1, and scenario 2 at 1 / 1k / 10k / 100k users) measured
// for two checkouts of the repository in one run, on the same fake network, each case in its own
// Node process, rounds alternating (A B B A ...) so that machine noise falls on both sides alike.
//
//   node bench/compare.mjs --before=/path/to/other/checkout [--rounds=3] [--quick] [--cases=autonomous,obo:1000]
//
// Each checkout must be built (`npm run build`); its packages are imported from its own dist, so
// whatever API each side has, the same calls are timed. Prints medians per case and after/before.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = process.argv.includes('--quick');

if (process.argv.includes('--worker')) {
  const root = resolve(arg('root'));
  const kase = arg('case');
  const dist = (pkg) => import(pathToFileURL(join(root, 'packages', pkg, 'dist', 'index.js')).href);
  const { createBlueprint, secretCredential } = await dist('core');
  const { DEMO } = await dist('emulator');
  const { createFakeNetwork, BASE, TENANT, userAssertion } = await import('./lib/fake-network.mjs');
  const { perOp } = await import('./lib/measure.mjs');
  const net = createFakeNetwork();
  const users = kase === 'autonomous' ? 0 : Number(kase.split(':')[1]);
  const bp = createBlueprint({
    tenantId: TENANT,
    clientId: DEMO.blueprints.workers.appId,
    credential: secretCredential('bench-secret', { silenceWarning: true }),
    authorityHost: BASE,
    network: { fetch: net.fetch },
    ...(users ? { cache: { l1: { maxEntries: users + 100, maxBytes: 4 * 1024 * 1024 * 1024 } } } : {}),
  });
  const agent = bp.agent(DEMO.agents.mail);
  let us;
  if (kase === 'autonomous') {
    const scope = ['api://tools/.default'];
    await agent.getToken(scope);
    us = await perOp(() => agent.getToken(scope), { ops: quick ? 2_000 : 50_000 });
  } else {
    const { onBehalfOf } = await dist('obo');
    const scopes = ['api://tools/Mail.Read'];
    const assertions = Array.from({ length: users }, (_, i) =>
      userAssertion(i, DEMO.blueprints.workers.appId),
    );
    for (let i = 0; i < users; i += 500)
      await Promise.all(assertions.slice(i, i + 500).map((u) => onBehalfOf(agent, u, scopes)));
    us = await perOp((i) => onBehalfOf(agent, assertions[(i * 7919) % users], scopes), {
      ops: quick ? 2_000 : 20_000,
    });
  }
  process.stdout.write(`RESULT ${JSON.stringify({ us })}\n`);
  process.exit(0);
}

const before = arg('before');
if (!before || !existsSync(join(before, 'packages', 'core', 'dist', 'index.js'))) {
  console.error('usage: node bench/compare.mjs --before=<built checkout> [--rounds=3] [--quick]');
  process.exit(2);
}
const sides = { before: resolve(before), after: resolve(here, '..') };
const rounds = Number(arg('rounds') ?? 3);
const cases = arg('cases')?.split(',') ?? [
  'autonomous',
  ...(quick ? ['obo:1', 'obo:1000'] : ['obo:1', 'obo:1000', 'obo:10000', 'obo:100000']),
];
const samples = Object.fromEntries(cases.map((c) => [c, { before: [], after: [] }]));
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
  for (const kase of cases) {
    for (const side of order) {
      const r = spawnSync(
        process.execPath,
        [
          fileURLToPath(import.meta.url),
          '--worker',
          `--root=${sides[side]}`,
          `--case=${kase}`,
          ...(quick ? ['--quick'] : []),
        ],
        {
          encoding: 'utf8',
          cwd: here,
          timeout: 600_000,
        },
      );
      const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (r.status !== 0 || !line) {
        console.error(`compare: ${kase} on ${side} failed (exit ${r.status})\n${r.stderr.slice(-2000)}`);
        process.exit(1);
      }
      samples[kase][side].push(JSON.parse(line.slice(7)).us);
      process.stderr.write(
        `compare: round ${round + 1} ${kase} ${side} ${JSON.parse(line.slice(7)).us.toFixed(2)} µs\n`,
      );
    }
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`| case | before (median of ${rounds}) | after | after / before |`);
console.log('|---|---|---|---|');
for (const kase of cases) {
  const b = median(samples[kase].before);
  const a = median(samples[kase].after);
  console.log(
    `| ${kase === 'autonomous' ? '1 warm autonomous hit' : `2 warm OBO hit, ${kase.split(':')[1]} users`} | ${b.toFixed(2)} µs | ${a.toFixed(2)} µs | ${(a / b).toFixed(2)} |`,
  );
}
