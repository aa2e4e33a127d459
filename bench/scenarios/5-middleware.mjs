// Scenario 5: Express and Fastify requests/s with autocannon, a route that uses a tool token (cache
// hit) behind the agentid middleware vs the same route without it.
import autocannon from 'autocannon';
import express from 'express';
import Fastify from 'fastify';
import { createBlueprint, secretCredential } from '@agentid/core';
import { createEmulator, DEMO } from '@agentid/emulator';
import { agentid } from '@agentid/express';
import { agentidPlugin } from '@agentid/fastify';
import { emit, quick } from '../lib/measure.mjs';

const duration = quick ? 2 : 8;
const emu = await createEmulator();
const W = DEMO.blueprints.workers;
const bp = createBlueprint({ tenantId: DEMO.tenantId, clientId: W.appId, credential: secretCredential(W.secret, { silenceWarning: true }), authorityHost: emu.baseUrl, network: { fetch: emu.fetch } });
const options = { blueprint: bp, agentId: DEMO.agents.mail, tools: { read_mail: { resource: 'api://tools', scopes: ['Mail.Read'], mode: 'obo' } } };
const userToken = await emu.issueUserToken({ user: DEMO.users.alice.upn, clientId: DEMO.chatApp.appId, scopes: [`api://${W.appId}/access_agent`] });
const headers = { authorization: `Bearer ${userToken}` };

const run = (url) =>
  new Promise((resolve, reject) => {
    autocannon({ url, connections: 32, duration, headers }, (err, r) => (err ? reject(err) : resolve({ rps: r.requests.average, p50_ms: r.latency.p50, p99_ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors })));
  });

async function expressApp(withMiddleware) {
  const app = express();
  if (withMiddleware) {
    app.use(agentid(options));
    app.get('/', async (req, res) => {
      const t = await req.agentid.tool('read_mail').getToken();
      res.json({ ok: true, scopes: t.scopes.length });
    });
  } else app.get('/', (_req, res) => res.json({ ok: true, scopes: 1 }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) };
}
async function fastifyApp(withMiddleware) {
  const app = Fastify();
  if (withMiddleware) {
    await app.register(agentidPlugin, options);
    app.get('/', async (req) => {
      const t = await req.agentid.tool('read_mail').getToken();
      return { ok: true, scopes: t.scopes.length };
    });
  } else app.get('/', async () => ({ ok: true, scopes: 1 }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `${url}/`, close: () => app.close() };
}

const rows = [];
for (const [name, make] of [['express', expressApp], ['fastify', fastifyApp]]) {
  const result = {};
  for (const mw of [false, true]) {
    const app = await make(mw);
    await fetch(app.url, { headers }); // warm: validation, OBO, caches
    await run(app.url); // warm-up run (JIT), discarded
    result[mw ? 'with' : 'without'] = await run(app.url);
    await app.close();
  }
  rows.push({ framework: name, ...result, overhead_pct: (1 - result.with.rps / result.without.rps) * 100 });
}
await emu.close();
emit({ scenario: 5, name: 'middleware overhead (autocannon, 32 connections, same process)', rows, target: 'overhead <= 5%' });
