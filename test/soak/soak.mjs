// Soak: a bounded loop of mixed flows through Express against the emulator, with faults on, on
// loopback only. Prints one JSON line with request counts and heap figures (run with --expose-gc).
// SOAK_SECONDS (default 120), SOAK_CONCURRENCY (default 16).
import { createBlueprint, secretCredential } from '@agentid/core';
import { createEmulator, DEMO, defaultSeed } from '@agentid/emulator';
import { agentid, agentidErrors } from '@agentid/express';
import express from 'express';

const seconds = Number(process.env.SOAK_SECONDS ?? 120);
const concurrency = Number(process.env.SOAK_CONCURRENCY ?? 16);
const W = DEMO.blueprints.workers;
const seed = defaultSeed();
const users = Array.from({ length: 300 }, (_, i) => ({
  id: `5e000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
  userPrincipalName: `soak${i + 1}@${DEMO.domain}`,
}));
seed.tenants[0].users.push(...users);
// Bounded refresh-token memory in the (in-process) emulator, so the heap figures are agentid's.
const emu = await createEmulator({ seed, maxRefreshTokens: 500 });
const blueprint = createBlueprint({
  tenantId: DEMO.tenantId,
  clientId: W.appId,
  credential: secretCredential(W.secret, { silenceWarning: true }),
  authorityHost: emu.baseUrl,
  network: { fetch: emu.fetch, minRetryDelayMs: 5 },
  cache: { l1: { maxEntries: 64 } },
});
const app = express();
app.use(
  agentid({
    blueprint,
    agentId: DEMO.agents.digitalWorker,
    tools: {
      read_mail: { resource: 'api://tools', scopes: ['Mail.Read'], mode: 'obo' },
      send_mail: { resource: 'api://tools', scopes: ['Mail.Send'], mode: 'obo' },
      reports: { resource: 'api://reports', roles: ['Reports.Generate'], mode: 'autonomous' },
      helpdesk: {
        resource: 'api://tools',
        scopes: ['Mail.Read'],
        mode: 'agent-user',
        agentUser: { upn: DEMO.agentUsers.digitalWorker.upn },
      },
    },
  }),
);
const tools = ['read_mail', 'send_mail', 'reports', 'helpdesk'];
app.get('/:tool', async (req, res, next) => {
  try {
    const t = await req.agentid.tool(req.params.tool).getToken();
    res.json({ ok: true, subject: t.subject });
  } catch (e) {
    next(e);
  }
});
app.use(agentidErrors());
const server = app.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const base = `http://127.0.0.1:${server.address().port}`;
const tokens = await Promise.all(
  users.map((u) =>
    emu.issueUserToken({
      user: u.userPrincipalName,
      clientId: DEMO.chatApp.appId,
      scopes: [`api://${W.appId}/access_agent`],
      lifetimeSec: 3 * 3600,
    }),
  ),
);
// Faults on for the whole run.
emu.faults.add({ kind: 'status', status: 503, probability: 0.05 });
emu.faults.add({ kind: 'status', status: 429, retryAfterSec: 0, probability: 0.03 });
emu.faults.add({ kind: 'latency', latencyMs: 40, probability: 0.1 });
emu.faults.add({ kind: 'drop', probability: 0.02 });

const statuses = {};
let requests = 0;
let wrongSubject = 0;
const heap = () => {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
};
const samples = [];
const started = Date.now();
const end = started + seconds * 1000;
const warmUntil = started + Math.min(15_000, seconds * 250);
let warmHeap;
const sampler = setInterval(() => {
  const h = heap();
  if (warmHeap === undefined && Date.now() >= warmUntil) warmHeap = h;
  samples.push(h);
}, 2_000);

async function worker(n) {
  let i = n;
  while (Date.now() < end) {
    const u = (i * 7919) % users.length;
    const tool = tools[Math.floor(i / 3) % tools.length];
    i++;
    try {
      const r = await fetch(`${base}/${tool}`, {
        headers: { authorization: `Bearer ${tokens[u]}` },
        signal: AbortSignal.timeout(15_000),
      });
      const body = await r.json();
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      if (r.status === 200 && tool.endsWith('mail') && body.subject !== users[u].id) wrongSubject++;
    } catch (e) {
      statuses[e.name ?? 'error'] = (statuses[e.name ?? 'error'] ?? 0) + 1;
    }
    requests++;
  }
}
await Promise.all(Array.from({ length: concurrency }, (_, n) => worker(n)));
clearInterval(sampler);
emu.faults.clear();
const endHeap = heap();
const stats = blueprint.stats();
const mb = (b) => Math.round((b / 1048576) * 10) / 10;
console.log(
  JSON.stringify({
    seconds,
    concurrency,
    requests,
    rps: Math.round(requests / seconds),
    statuses,
    wrongSubject,
    tokenRequests: emu.counters.tokenRequests(),
    cache: { size: stats.size, hits: stats.hits, misses: stats.misses },
    heapMB: {
      warm: mb(warmHeap ?? samples[0] ?? endHeap),
      end: mb(endHeap),
      max: mb(Math.max(...samples, endHeap)),
      min: mb(Math.min(...samples, endHeap)),
    },
    rssMB: mb(process.memoryUsage().rss),
  }),
);
await new Promise((r) => server.close(r));
await emu.close();
