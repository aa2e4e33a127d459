// The agentid demo, on the embedded Entra Agent ID emulator (no tenant needed). It tells one story
// end to end and prints who acted for whom at each step: decoded claims, never a token.
//
//   Alice → Express orchestrator agent ──OBO──▶ Fastify mail agent ──tool tokens──▶ Tools API
//   a digital worker acting as its agent user, a scheduled autonomous job, an ephemeral agent.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { createEmulator, DEMO } from '@agentid/emulator';
import { connectAsAgent } from '../mcp/client.mjs';
import { listen as mcpListen, serveMcp, toolsApi as mcpToolsApi } from '../mcp/server.mjs';
import { MCP, mcpTenant } from '../mcp/tenant.mjs';
import { createBlueprint, decodeJwtClaims, secretCredential } from '@agentid/core';
import {
  appendActor,
  createDelegationCodec,
  createTokenValidator,
  DELEGATION_HEADER,
  onBehalfOf,
  parseAuthorizationHeader,
  startDelegation,
  validatorForBlueprint,
} from '@agentid/obo';
import { agentUser, withEphemeralAgent } from '@agentid/agent-user';
import { agentidErrors } from '@agentid/express';
import { agentidPlugin } from '@agentid/fastify';
import express from 'express';
import Fastify from 'fastify';
import { context, ProxyTracerProvider, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const names = new Map([
  [DEMO.users.alice.id, 'Alice'],
  [DEMO.chatApp.appId, 'Contoso Chat (app)'],
  [DEMO.agents.orchestrator, 'Orchestrator agent'],
  [DEMO.agents.mail, 'Mail agent'],
  [DEMO.agents.digitalWorker, 'Helpdesk digital worker'],
  [DEMO.agentUsers.digitalWorker.id, 'its agent user dw-helpdesk'],
  [DEMO.agents.reporter, 'Nightly reporter agent'],
  [DEMO.blueprints.orchestrator.appId, 'Orchestrator blueprint'],
  [DEMO.blueprints.workers.appId, 'Workers blueprint'],
  [DEMO.resources.tools.appId, 'Tools API'],
  [DEMO.resources.reports.appId, 'Reports API'],
]);
const who = (id) => (id ? `${names.get(id) ?? id}` : '-');
const facet = (v) =>
  v ? ` ${v}`.replace(/ 11/, ' agent-identity').replace(/ 13/, ' agent-user').trim() : '-';
/** One line per token: subject, actor, type, permissions, facets, lifetime. Never the token. */
function explain(token) {
  const c = decodeJwtClaims(token);
  const perms = c.scp ? `scp=[${c.scp}]` : `roles=[${(c.roles ?? []).join(' ')}]`;
  const life = Math.round((c.exp - c.iat) / 60);
  return `subject=${who(c.oid)} (idtyp=${c.idtyp}) actor=${who(c.azp)} aud=${who(c.aud)} ${perms} act_fct=${facet(c.xms_act_fct)} sub_fct=${facet(c.xms_sub_fct)} lifetime=${life} min`;
}

// Tracing: an in-memory exporter so the span tree can be printed at the end.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
trace.setGlobalTracerProvider(tracerProvider);
const tracer = tracerProvider.getTracer('demo');

const emu = await createEmulator();
const network = { fetch: emu.fetch };
const blueprint = (b) =>
  createBlueprint({
    tenantId: DEMO.tenantId,
    clientId: b.appId,
    credential: secretCredential(b.secret, { silenceWarning: true }),
    authorityHost: emu.baseUrl,
    network,
    telemetry: { tracerProvider },
  });
const orchestratorBp = blueprint(DEMO.blueprints.orchestrator);
const workersBp = blueprint(DEMO.blueprints.workers);
const delegation = createDelegationCodec({ keys: [{ kid: 'demo-fleet', secret: randomBytes(32) }] });
const servers = [];
const listen = (server) =>
  new Promise((r) => server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${server.address().port}`)));

console.log(
  bold('agentid demo') + ` — tenant ${DEMO.domain} on the embedded Entra Agent ID emulator (${emu.baseUrl})`,
);
console.log('One blueprint holds the credential; each agent identity gets its own short-lived tokens.\n');

// The downstream Tools API checks every token it gets, as a real resource server does.
const toolsValidator = createTokenValidator({
  tenantId: DEMO.tenantId,
  audiences: [DEMO.resources.tools.appId, 'api://tools'],
  authorityHost: emu.baseUrl,
  requiredScopes: [],
  requiredRoles: ['Mail.Send.All'],
  jwks: network,
});
const toolsServer = createServer(async (req, res) => {
  try {
    const token = parseAuthorizationHeader(req.headers.authorization);
    const p = await toolsValidator.validate(token);
    const chain = await delegation.decode(req.headers[DELEGATION_HEADER], p, token);
    console.log(`    Tools API ${req.url}: ${explain(token)}`);
    console.log(`      chain of actors: Alice → ${chain.actors.map(who).join(' → ')}`);
    // The signed chain as RFC 8693 nested actors: outermost = the agent calling now.
    const c = decodeJwtClaims(String(req.headers[DELEGATION_HEADER]));
    const nested = (a, pad) =>
      a
        ? `\n${pad}act: ${who(a.sub)} (${a.sub_profile}, blueprint ${who(a.xms_par_app_azp)}, tenant ${a.tid})${nested(a.act, `${pad}  `)}`
        : '';
    console.log(`      sub: ${who(c.sub)} (${c.sub_profile})${nested(c.act, '        ')}`);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ ok: true, tool: req.url }));
  } catch (e) {
    res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ code: e.code }));
  }
});
servers.push(toolsServer);
const toolsUrl = await listen(toolsServer);

// The Fastify sub-agent: the Mail agent of the Workers blueprint, with two tools of different scopes.
const mailAgentApp = Fastify();
await mailAgentApp.register(agentidPlugin, {
  blueprint: workersBp,
  agentId: DEMO.agents.mail,
  delegation,
  tools: {
    read_inbox: { resource: 'api://tools', scopes: ['Mail.Read'], mode: 'obo' },
    send_reply: { resource: 'api://tools', scopes: ['Mail.Send'], mode: 'obo' },
    read_calendar: { resource: 'api://tools', scopes: ['Calendars.Read'], mode: 'obo' },
  },
  allowedTools: ['read_inbox', 'send_reply'],
  audit: {
    decision: (e) =>
      console.log(
        `    audit: tool ${e.tool} ${e.allowed ? 'allowed' : `DENIED (${e.reason})`} for ${who(e.agentId)} acting for ${who(e.userId)}`,
      ),
  },
});
mailAgentApp.post('/triage', async (req) => {
  const ctx = req.agentid;
  console.log(`  Mail agent (Fastify) got: ${explain(parseAuthorizationHeader(req.headers.authorization))}`);
  const inbox = await ctx.tool('read_inbox').fetch(`${toolsUrl}/mail/inbox`);
  const reply = await ctx.tool('send_reply').fetch(`${toolsUrl}/mail/send`, { method: 'POST' });
  let calendar = 'allowed';
  try {
    await ctx.tool('read_calendar').fetch(`${toolsUrl}/calendar`);
  } catch (e) {
    calendar = e.code;
  }
  return { inbox: inbox.status, reply: reply.status, calendar };
});
const mailAgentUrl = await mailAgentApp.listen({ port: 0, host: '127.0.0.1' });

// The Express orchestrator: validates Alice's token, exchanges it on her behalf for the Workers
// blueprint, and calls the mail agent with the signed chain of actors.
const orchestratorApp = express();
const orchestratorValidator = validatorForBlueprint(orchestratorBp);
orchestratorApp.post('/ask', async (req, res, next) => {
  try {
    const token = parseAuthorizationHeader(req.headers.authorization);
    const user = await orchestratorValidator.validate(token);
    console.log(`  Orchestrator (Express) got: ${explain(token)}`);
    const chain = appendActor(startDelegation(user), orchestratorBp.agent(DEMO.agents.orchestrator));
    const onward = await onBehalfOf(
      orchestratorBp.agent(DEMO.agents.orchestrator),
      token,
      [`api://${DEMO.blueprints.workers.appId}/access_agent`],
      { principal: user, delegation: chain },
    );
    console.log(`  Orchestrator → Mail agent with an OBO token: ${explain(onward.token)}`);
    const r = await tracer.startActiveSpan('orchestrator → mail agent', async (span) => {
      try {
        return await fetch(`${mailAgentUrl}/triage`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${onward.token}`,
            [DELEGATION_HEADER]: await delegation.encode(chain, onward.token),
          },
        });
      } finally {
        span.end();
      }
    });
    res.status(r.status).json(await r.json());
  } catch (e) {
    next(e);
  }
});
orchestratorApp.use(agentidErrors());
const orchestratorServer = orchestratorApp.listen(0, '127.0.0.1');
servers.push(orchestratorServer);
await new Promise((r) => orchestratorServer.once('listening', r));
const orchestratorUrl = `http://127.0.0.1:${orchestratorServer.address().port}`;

// 1. Attended: a user, an orchestrator, a sub-agent, two tools.
console.log(bold('1. Alice asks the orchestrator to triage her mail (attended, on-behalf-of, multi-hop)'));
const aliceToken = await emu.issueUserToken({
  user: DEMO.users.alice.upn,
  clientId: DEMO.chatApp.appId,
  scopes: [`api://${DEMO.blueprints.orchestrator.appId}/access_agent`],
});
console.log(`  Alice signs in to Contoso Chat: ${explain(aliceToken)}`);
const answer = await tracer.startActiveSpan('alice asks', async (span) => {
  try {
    const r = await fetch(`${orchestratorUrl}/ask`, {
      method: 'POST',
      headers: { authorization: `Bearer ${aliceToken}` },
    });
    return r.json();
  } finally {
    span.end();
  }
});
console.log(
  `  Result: ${JSON.stringify(answer)} (read_calendar is registered but not allowed for the mail agent)\n`,
);

// 2. A digital worker acts as its agent user.
console.log(bold('2. The helpdesk digital worker acts as its own agent user (user_fic, three legs)'));
const worker = agentUser(workersBp.agent(DEMO.agents.digitalWorker), {
  upn: DEMO.agentUsers.digitalWorker.upn,
});
const dw = await worker.getToken(['api://tools/Mail.Read']);
console.log(`  ${explain(dw.token)}\n`);

// 3. An autonomous agent runs a scheduled job.
console.log(bold('3. The nightly reporter runs its scheduled job as itself (autonomous, app-only)'));
const reporter = workersBp.agent(DEMO.agents.reporter);
for (let run = 1; run <= 3; run++) {
  const t = await reporter.getToken(['api://reports/.default']);
  if (run === 1) console.log(`  ${explain(t.token)}`);
}
console.log('  3 runs, 1 token: the next runs are served from the cache\n');

// 3b. Conditional Access: an administrator blocks the reporter from the Tools API.
console.log(bold('3b. Conditional Access blocks the nightly reporter from the Tools API'));
const policy = emu.conditionalAccess.add({
  displayName: 'No agents on Tools at night',
  agents: [DEMO.agents.reporter],
  resources: ['api://tools'],
  control: 'block',
});
try {
  await reporter.getToken(['api://tools/.default']);
} catch (e) {
  console.log(
    `  blocked: ${e.code} (agent ${who(e.agentId)}, flow ${e.flow}, resource ${e.resource}), not retried`,
  );
  const blockedSpan = exporter
    .getFinishedSpans()
    .find((s) => s.attributes['agentid.error.code'] === 'AGENTID_CONDITIONAL_ACCESS');
  console.log(
    `  span ${blockedSpan?.name}: agentid.error.code=${blockedSpan?.attributes['agentid.error.code']}`,
  );
}
emu.conditionalAccess.remove(policy);
console.log('  policy removed: its other tokens were never affected\n');

// 3c. MCP: the orchestrator calls a tool of an MCP server (its own tenant, on a second emulator):
// the tools/call token is for that tool's scope only, and the tool calls the Tools API with its own
// OBO token, never the inbound one.
console.log(bold('3c. The orchestrator calls an MCP tool for Alice: a token for that tool only'));
const mcpApi = await mcpToolsApi();
const mcpHttp = await mcpListen();
const mcp = await mcpTenant(mcpHttp.url, { tracerProvider });
const mcpServer = serveMcp(mcpHttp, mcp, mcpApi.url);
names.set(MCP.agent, 'MCP server agent');
await tracer.startActiveSpan('orchestrator calls an MCP tool', async (span) => {
  const client = await connectAsAgent(
    mcpServer.url,
    mcp.orchestrator.agent(DEMO.agents.orchestrator),
    await mcp.aliceToken(),
  );
  const result = await client.callTool({ name: 'read_mail', arguments: {} });
  const inbound = mcpServer.inbound.find((c) => c.tool === 'read_mail');
  const own = JSON.parse(result.content[0].text);
  console.log(
    `  tools/call read_mail: scp ${inbound.scp}, user ${who(inbound.oid)}, acting agent ${who(inbound.azp)}`,
  );
  console.log(
    `  the tool's own token to the Tools API: aud ${own.aud}, scp ${own.scp}, acting agent ${who(own.azp)}\n`,
  );
  await client.close();
  span.end();
});
await Promise.all([mcp.emu.close(), mcpHttp.close(), mcpApi.close()]);

// 4. An ephemeral agent identity for one piece of work.
console.log(bold('4. An ephemeral agent identity is created for one task, then deleted'));
await withEphemeralAgent(
  workersBp,
  { displayName: 'one-off research agent', sponsors: [DEMO.users.sponsor.id], graphBaseUrl: emu.baseUrl },
  async (agent) => {
    names.set(agent.id, 'Ephemeral research agent');
    const live = emu.directory.tenant(DEMO.tenantId).agents.get(agent.id);
    console.log(`  created ${agent.id} (sponsor: Sam Sponsor, enabled: ${live?.enabled})`);
    const t = await agent.getToken(['api://reports/.default']);
    console.log(`  ${explain(t.token)}`);
  },
);
const gone = emu.directory.tenant(DEMO.tenantId).agents;
console.log(
  `  deleted: ${[...gone.values()].filter((a) => names.get(a.id) === 'Ephemeral research agent').every((a) => a.deleted)}\n`,
);

// 5. Speed and counts.
console.log(bold('5. Cache, single-flight and the token endpoint'));
// Measured on a blueprint without tracing (the demo's in-memory exporter keeps every span).
const quiet = createBlueprint({
  tenantId: DEMO.tenantId,
  clientId: DEMO.blueprints.workers.appId,
  credential: secretCredential(DEMO.blueprints.workers.secret, { silenceWarning: true }),
  authorityHost: emu.baseUrl,
  network,
  telemetry: { tracerProvider: new ProxyTracerProvider() },
});
const mail = quiet.agent(DEMO.agents.mail);
await Promise.all(Array.from({ length: 100 }, () => mail.getToken(['api://tools/.default'])));
const t0 = process.hrtime.bigint();
for (let i = 0; i < 10_000; i++) await mail.getToken(['api://tools/.default']);
const perOp = Number(process.hrtime.bigint() - t0) / 10_000 / 1000;
for (const [label, bp] of [
  ['Orchestrator blueprint', orchestratorBp],
  ['Workers blueprint', workersBp],
  ['Workers blueprint (speed test)', quiet],
]) {
  const s = bp.stats();
  console.log(
    `  ${label}: ${s.hits} cache hits, ${s.misses} misses, ${s.coalesced} coalesced, ${s.size} tokens cached`,
  );
}
console.log(
  `  100 concurrent cold calls for one token → one request per leg; ${perOp.toFixed(2)} µs per cached call`,
);
console.log(`  token endpoint requests by grant: ${JSON.stringify(emu.counters.snapshot().byGrant)}\n`);

// 6. The span tree: every operation names the agent and the user it acts for, never a token.
console.log(bold('6. Spans (OpenTelemetry), as a tree'));
const spans = exporter
  .getFinishedSpans()
  .filter((s) => !(s.attributes['agentid.cache.outcome'] === 'hit' && s.name === 'agentid.autonomous'));
const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
const children = new Map();
for (const s of spans) {
  const parent = s.parentSpanContext?.spanId;
  const key = parent && byId.has(parent) ? parent : 'root';
  children.set(key, [...(children.get(key) ?? []), s]);
}
const attrs = (s) => {
  const a = s.attributes;
  const parts = [];
  if (a['agentid.agent.id']) parts.push(`agent=${who(a['agentid.agent.id'])}`);
  if (a['agentid.obo.user.id']) parts.push(`for=${who(a['agentid.obo.user.id'])}`);
  if (a['agentid.agent_user.upn']) parts.push(`as=${a['agentid.agent_user.upn']}`);
  if (a['agentid.chain']?.length) parts.push(`chain=[${a['agentid.chain'].map(who).join(' > ')}]`);
  if (a['agentid.cache.outcome']) parts.push(`cache=${a['agentid.cache.outcome']}`);
  if (a['agentid.tool.outcome']) parts.push(`outcome=${a['agentid.tool.outcome']}`);
  if (s.links.length) parts.push(`links=${s.links.length} (to the upstream hop)`);
  if (a['server.address']) parts.push(`→ ${a['server.address']} ${a['http.response.status_code'] ?? ''}`);
  return parts.join(' ');
};
let printed = 0;
const print = (s, depth) => {
  if (printed++ > 40) return;
  console.log(`  ${'  '.repeat(depth)}${s.name} ${attrs(s)}`);
  for (const c of (children.get(s.spanContext().spanId) ?? []).sort(
    (x, y) => x.startTime[0] - y.startTime[0] || x.startTime[1] - y.startTime[1],
  ))
    print(c, depth + 1);
};
for (const root of (children.get('root') ?? []).filter((s) =>
  /^(agentid\.obo|execute_tool|agentid\.agent-user)/.test(s.name),
))
  print(root, 0);
const leaked = exporter
  .getFinishedSpans()
  .some((s) => JSON.stringify(s.attributes).includes(aliceToken.split('.')[1]));
console.log(
  `  (${exporter.getFinishedSpans().length} spans in all; any token in a span attribute: ${leaked ? 'YES' : 'none'})`,
);

// --otlp-json=<file> (or AGENTID_DEMO_OTLP_JSON): every span of the run, written as OTLP JSON
// (an ExportTraceServiceRequest, what an OTLP/HTTP JSON exporter sends); render it with
// `node scripts/span-tree.mjs <file> --out=span-tree.svg`.
const otlpFile =
  process.argv.find((a) => a.startsWith('--otlp-json='))?.slice('--otlp-json='.length) ??
  process.env.AGENTID_DEMO_OTLP_JSON;
if (otlpFile) {
  const { JsonTraceSerializer } = await import('@opentelemetry/otlp-transformer');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(otlpFile, JsonTraceSerializer.serializeRequest(exporter.getFinishedSpans()));
  console.log(`  (spans written as OTLP JSON to ${otlpFile})`);
}

await mailAgentApp.close();
await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
await emu.close();
console.log('\nDone. Next: README.md (quick starts, a real tenant), packages/*/README.md.');
