// Scenario 5: Express and Fastify requests/s with autocannon, a route that uses a tool token (cache
// hit) behind the agentid middleware vs the same route without it.
//
// Method (bench/README.md): every server under test runs in its own child process (this file with
// `--serve=<framework>:<with|without>`); this process is only the load generator (autocannon, 32
// connections), so on two cores the load generator and the server do not share one event loop.
// The server without the middleware loads neither agentid nor the emulator. Both get the same
// request (same Authorization header) and send the same body from the same async route shape.
// Sides alternate in every round (A B, then B A) and the medians of the rounds are reported, with
// the server's CPU time per request (process.cpuUsage in the child), which noise from other
// processes and a saturated load generator distort less than requests/s.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const serve = process.argv.find((a) => a.startsWith('--serve='))?.slice(8);
if (serve) await server(...serve.split(':'));
else await orchestrate();

// --- child: one server under test -------------------------------------------------------------

async function server(framework, side) {
  const withMiddleware = side === 'with';
  let options;
  let emu;
  let token;
  if (withMiddleware) {
    const { createBlueprint, secretCredential } = await import('@agentid/core');
    const { createEmulator, DEMO } = await import('@agentid/emulator');
    emu = await createEmulator();
    const W = DEMO.blueprints.workers;
    const bp = createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: W.appId,
      credential: secretCredential(W.secret, { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: emu.fetch },
    });
    options = {
      blueprint: bp,
      agentId: DEMO.agents.mail,
      tools: { read_mail: { resource: 'api://tools', scopes: ['Mail.Read'], mode: 'obo' } },
    };
    token = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      clientId: DEMO.chatApp.appId,
      scopes: [`api://${W.appId}/access_agent`],
    });
  }
  const app = framework === 'express' ? await expressApp(options) : await fastifyApp(options);
  process.on('message', async (m) => {
    if (m.type === 'usage') process.send({ type: 'usage', id: m.id, cpu: process.cpuUsage() });
    if (m.type === 'close') {
      await app.close();
      await emu?.close();
      process.disconnect();
    }
  });
  process.send({ type: 'ready', url: app.url, token });
}

// Both sides: the same async route and the same JSON body ({"ok":true,"scopes":1}).
async function expressApp(options) {
  const { default: express } = await import('express');
  const app = express();
  if (options) {
    const { agentid } = await import('@agentid/express');
    app.use(agentid(options));
    app.get('/', async (req, res) => {
      const t = await req.agentid.tool('read_mail').getToken();
      res.json({ ok: true, scopes: t.scopes.length });
    });
  } else {
    app.get('/', async (_req, res) => {
      res.json({ ok: true, scopes: 1 });
    });
  }
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((r) => server.close(r)),
  };
}
async function fastifyApp(options) {
  const { default: Fastify } = await import('fastify');
  const app = Fastify();
  if (options) {
    const { agentidPlugin } = await import('@agentid/fastify');
    await app.register(agentidPlugin, options);
    app.get('/', async (req) => {
      const t = await req.agentid.tool('read_mail').getToken();
      return { ok: true, scopes: t.scopes.length };
    });
  } else {
    app.get('/', async () => ({ ok: true, scopes: 1 }));
  }
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `${url}/`, close: () => app.close() };
}

// --- parent: the load generator ---------------------------------------------------------------

async function orchestrate() {
  const { emit, quick } = await import('../lib/measure.mjs');
  const warmSec = quick ? 1 : 3;
  const runSec = quick ? 1 : 5;
  const rounds = quick ? 1 : 3;
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rows = [];
  for (const framework of ['express', 'fastify']) {
    const withSrv = await start(framework, 'with');
    const withoutSrv = await start(framework, 'without');
    const headers = { authorization: `Bearer ${withSrv.token}` };
    const sides = { with: withSrv, without: withoutSrv };
    // Same status and body on both sides, or the comparison is void.
    const bodies = await Promise.all(
      [withSrv, withoutSrv].map(async (s) => {
        const r = await fetch(s.url, { headers });
        return `${r.status} ${await r.text()}`;
      }),
    );
    if (bodies[0] !== bodies[1] || !bodies[0].startsWith('200 '))
      throw new Error(`scenario 5: the two sides answer differently: ${bodies.join(' | ')}`);
    for (const s of Object.values(sides)) await load(s, headers, warmSec); // JIT warm-up, discarded
    const runs = { with: [], without: [] };
    for (let i = 0; i < rounds; i++) {
      for (const side of i % 2 === 0 ? ['without', 'with'] : ['with', 'without'])
        runs[side].push(await load(sides[side], headers, runSec));
    }
    const summary = (rs) => ({
      rps: median(rs.map((r) => r.rps)),
      p50_ms: median(rs.map((r) => r.p50_ms)),
      p99_ms: median(rs.map((r) => r.p99_ms)),
      server_cpu_us_per_req: median(rs.map((r) => r.server_cpu_us_per_req)),
      server_user_us_per_req: median(rs.map((r) => r.server_user_us_per_req)),
      server_cpu_util: median(rs.map((r) => r.server_cpu_util)),
      loadgen_cpu_util: median(rs.map((r) => r.loadgen_cpu_util)),
      rps_runs: rs.map((r) => Math.round(r.rps)),
      non2xx: rs.reduce((n, r) => n + r.non2xx, 0),
      errors: rs.reduce((n, r) => n + r.errors, 0),
    });
    const result = { with: summary(runs.with), without: summary(runs.without) };
    await Promise.all([withSrv, withoutSrv].map((s) => s.close()));
    rows.push({
      framework,
      ...result,
      overhead_pct: (1 - result.with.rps / result.without.rps) * 100,
      added_cpu_us_per_req: result.with.server_cpu_us_per_req - result.without.server_cpu_us_per_req,
      added_user_us_per_req: result.with.server_user_us_per_req - result.without.server_user_us_per_req,
      cpu_overhead_pct: (1 - result.without.server_cpu_us_per_req / result.with.server_cpu_us_per_req) * 100,
    });
  }
  emit({
    scenario: 5,
    name: 'middleware overhead (autocannon, 32 connections, server in its own process)',
    rounds,
    run_seconds: runSec,
    rows,
    target: 'overhead <= 5%',
  });
}

function start(framework, side) {
  const child = fork(fileURLToPath(import.meta.url), [`--serve=${framework}:${side}`], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 0;
  const pending = new Map();
  child.on('message', (m) => {
    if (m.type === 'usage') pending.get(m.id)?.(m.cpu);
  });
  const usage = () =>
    new Promise((resolve) => {
      const id = next++;
      pending.set(id, (cpu) => (pending.delete(id), resolve(cpu)));
      child.send({ type: 'usage', id });
    });
  const close = () =>
    new Promise((resolve) => {
      child.once('exit', resolve);
      child.send({ type: 'close' });
    });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) =>
      reject(new Error(`scenario 5: the ${framework} server (${side}) exited with ${code}`)),
    );
    child.on('message', (m) => {
      if (m.type === 'ready') resolve({ url: m.url, token: m.token, usage, close, side });
    });
  });
}

async function load(srv, headers, seconds) {
  const cpu0 = await srv.usage();
  const own0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = await new Promise((resolve, reject) => {
    autocannon({ url: srv.url, connections: 32, duration: seconds, headers }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
  const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
  const own = process.cpuUsage(own0);
  const cpu1 = await srv.usage();
  const userUs = cpu1.user - cpu0.user;
  const serverUs = userUs + cpu1.system - cpu0.system;
  if (r.non2xx || r.errors)
    throw new Error(`scenario 5: ${srv.side} side had ${r.non2xx} non-2xx answers and ${r.errors} errors`);
  return {
    rps: r.requests.average,
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    server_cpu_us_per_req: serverUs / r.requests.total,
    // User time is the JavaScript (and GC threads); system time is mostly loopback networking, which
    // also costs the server more when the load generator waits on it (it must be woken up).
    server_user_us_per_req: userUs / r.requests.total,
    server_cpu_util: serverUs / wallUs,
    loadgen_cpu_util: (own.user + own.system) / wallUs,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}
