import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createBlueprint,
  decodeJwtClaims,
  isAgentIdError,
  secretCredential,
  type Blueprint,
} from '@agentid/core';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTracing } from '@agentid/test-support/otel';
import {
  appendActor,
  createDelegationCodec,
  createTokenValidator,
  DELEGATION_HEADER,
  onBehalfOf,
  parseAuthorizationHeader,
  startDelegation,
  validatorForBlueprint,
  type DelegationCodec,
  type Principal,
} from './index.js';

// user → orchestrator agent (orchestrator blueprint) → mail sub-agent (workers blueprint) → tools API,
// each hop a real HTTP server on loopback; tokens from the emulator.
const O = DEMO.blueprints.orchestrator;
const W = DEMO.blueprints.workers;
const tracing = createTestTracing();
const tracer = tracing.provider.getTracer('test');
const codec: DelegationCodec = createDelegationCodec({
  keys: [{ kid: 'fleet-1', secret: randomBytes(32) }],
  maxHops: 3,
});
let emu: Emulator;
let bpO: Blueprint;
let bpW: Blueprint;
const servers: Server[] = [];
const seen: Record<string, { oid: string; azp?: string; scp: readonly string[]; chain: readonly string[] }> =
  {};

function serve(name: string, handler: (req: IncomingMessage) => Promise<unknown>): Promise<string> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void tracer.startActiveSpan(`${name} handle`, async (span) => {
      try {
        const body = await handler(req);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      } catch (e) {
        const code = isAgentIdError(e) ? e.code : 'INTERNAL';
        res
          .writeHead(code.startsWith('AGENTID_TOKEN') || code === 'AGENTID_UNAUTHENTICATED' ? 401 : 403, {
            'content-type': 'application/json',
          })
          .end(JSON.stringify({ code }));
      } finally {
        span.end();
      }
    });
  });
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

async function call(
  url: string,
  token: string,
  delegation?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, ...(delegation ? { [DELEGATION_HEADER]: delegation } : {}) },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const record = (name: string, p: Principal, chain: readonly string[]) => {
  seen[name] = { oid: p.oid, ...(p.azp ? { azp: p.azp } : {}), scp: p.scopes, chain };
};

let orchestratorUrl = '';
let mailUrl = '';
let toolsUrl = '';

beforeAll(async () => {
  emu = await createEmulator();
  const mk = (b: { appId: string; secret: string }) =>
    createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: b.appId,
      credential: secretCredential(b.secret, { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: emu.fetch },
      telemetry: { tracerProvider: tracing.provider },
    });
  bpO = mk(O);
  bpW = mk(W);
  const toolsValidator = createTokenValidator({
    tenantId: DEMO.tenantId,
    audiences: [DEMO.resources.tools.appId, 'api://tools'],
    authorityHost: emu.baseUrl,
    requiredScopes: ['Mail.Send'],
    jwks: { fetch: emu.fetch },
  });
  toolsUrl = await serve('tools', async (req) => {
    const token = parseAuthorizationHeader(req.headers.authorization);
    const p = await toolsValidator.validate(token);
    const ctx = await codec.decode(req.headers[DELEGATION_HEADER], p, token);
    record('tools', p, ctx.actors);
    return { sent: true };
  });
  const wValidator = validatorForBlueprint(bpW);
  mailUrl = await serve('mail-agent', async (req) => {
    const token = parseAuthorizationHeader(req.headers.authorization);
    const p = await wValidator.validate(token);
    const ctx = appendActor(
      await codec.decode(req.headers[DELEGATION_HEADER], p, token),
      DEMO.agents.mail,
      codec.maxHops,
    );
    record('mail-agent', p, ctx.actors);
    const onward = await onBehalfOf(bpW.agent(DEMO.agents.mail), token, ['api://tools/Mail.Send'], {
      principal: p,
      delegation: ctx,
    });
    const r = await call(toolsUrl, onward.token, await codec.encode(ctx, onward.token));
    if (r.status !== 200) throw new Error(`tools answered ${r.status}`);
    return { ok: true };
  });
  const oValidator = validatorForBlueprint(bpO);
  orchestratorUrl = await serve('orchestrator', async (req) => {
    const token = parseAuthorizationHeader(req.headers.authorization);
    const p = await oValidator.validate(token);
    const ctx = appendActor(
      await codec.decode(req.headers[DELEGATION_HEADER], p, token),
      DEMO.agents.orchestrator,
      codec.maxHops,
    );
    record('orchestrator', p, ctx.actors);
    const onward = await onBehalfOf(
      bpO.agent(DEMO.agents.orchestrator),
      token,
      [`api://${W.appId}/access_agent`],
      { principal: p, delegation: ctx },
    );
    const target = req.url?.startsWith('/loop') ? orchestratorUrl : mailUrl;
    const r = await call(target, onward.token, await codec.encode(ctx, onward.token));
    return { downstream: r.status, code: r.body.code };
  });
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await emu.close();
});

describe('multi-hop: user → orchestrator → mail agent → tools API over real HTTP', () => {
  it('carries the user and the chain of actors, with the right oid/azp at every hop, in spans with links', async () => {
    const tc = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      clientId: DEMO.chatApp.appId,
      scopes: [`api://${O.appId}/access_agent`],
    });
    const r = await call(orchestratorUrl, tc);
    expect(r).toEqual({ status: 200, body: { downstream: 200 } });
    expect(seen.orchestrator).toEqual({
      oid: DEMO.users.alice.id,
      azp: DEMO.chatApp.appId,
      scp: ['access_agent'],
      chain: [DEMO.agents.orchestrator],
    });
    expect(seen['mail-agent']).toEqual({
      oid: DEMO.users.alice.id,
      azp: DEMO.agents.orchestrator,
      scp: ['access_agent'],
      chain: [DEMO.agents.orchestrator, DEMO.agents.mail],
    });
    expect(seen.tools).toEqual({
      oid: DEMO.users.alice.id,
      azp: DEMO.agents.mail,
      scp: ['Mail.Send'],
      chain: [DEMO.agents.orchestrator, DEMO.agents.mail],
    });
    const obo = tracing.spans().filter((s) => s.name === 'agentid.obo');
    const hop1 = obo.find((s) => s.attributes['agentid.agent.id'] === DEMO.agents.orchestrator)!;
    const hop2 = obo.find((s) => s.attributes['agentid.agent.id'] === DEMO.agents.mail)!;
    expect(hop1.attributes).toMatchObject({
      'agentid.obo.user.id': DEMO.users.alice.id,
      'agentid.actor.chain': DEMO.agents.orchestrator,
    });
    expect(hop2.attributes).toMatchObject({
      'agentid.obo.user.id': DEMO.users.alice.id,
      'agentid.actor.chain': `${DEMO.agents.orchestrator} > ${DEMO.agents.mail}`,
    });
    // The mail agent's exchange links to the orchestrator's span that sent the request.
    const orchHandle = tracing.spans().find((s) => s.name === 'orchestrator handle')!;
    expect(hop2.links.map((l) => l.context.spanId)).toContain(orchHandle.spanContext().spanId);
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it('rejects a cycle (orchestrator called back through its own chain) and a hop limit', async () => {
    const tc = await emu.issueUserToken({
      user: DEMO.users.bob.upn,
      clientId: DEMO.chatApp.appId,
      scopes: [`api://${O.appId}/access_agent`],
    });
    // /loop sends the orchestrator's OBO token (audience: workers) back to the orchestrator: wrong audience first.
    const r = await call(`${orchestratorUrl}/loop`, tc);
    expect(r.body).toMatchObject({ downstream: 401, code: 'AGENTID_TOKEN_AUDIENCE' });
    const p = {
      oid: 'u',
      tid: DEMO.tenantId,
      scopes: [],
      roles: [],
      actorFacets: [],
      subjectFacets: [],
    } as unknown as Principal;
    const ctx = appendActor(appendActor(startDelegation(p), 'a1'), 'a2');
    expect(() => appendActor(ctx, 'a1')).toThrow(
      expect.objectContaining({ code: 'AGENTID_DELEGATION_CYCLE' }),
    );
    expect(() => appendActor(appendActor(ctx, 'a3'), 'a4', 3)).toThrow(
      expect.objectContaining({ code: 'AGENTID_HOP_LIMIT' }),
    );
  });

  it('refuses a delegation header that was edited, moved to another token, forged, or sent by another agent', async () => {
    const tc = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      clientId: DEMO.chatApp.appId,
      scopes: [`api://${O.appId}/access_agent`],
    });
    const p = await validatorForBlueprint(bpO).validate(tc);
    const ctx = appendActor(startDelegation(p), DEMO.agents.orchestrator);
    const onward = await onBehalfOf(
      bpO.agent(DEMO.agents.orchestrator),
      tc,
      [`api://${W.appId}/access_agent`],
      { principal: p },
    );
    const header = await codec.encode(ctx, onward.token);
    const pw = await validatorForBlueprint(bpW).validate(onward.token);
    expect((await codec.decode(header, pw, onward.token)).actors).toEqual([DEMO.agents.orchestrator]);
    const other = await onBehalfOf(
      bpO.agent(DEMO.agents.orchestrator),
      await emu.issueUserToken({
        user: DEMO.users.bob.upn,
        clientId: DEMO.chatApp.appId,
        scopes: [`api://${O.appId}/access_agent`],
      }),
      [`api://${W.appId}/access_agent`],
    );
    const pBob = await validatorForBlueprint(bpW).validate(other.token);
    const [h, payload, sig] = header.split('.') as [string, string, string];
    const edited = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), act: ['someone-else'] })).toString('base64url')}.${sig}`;
    const forged = await createDelegationCodec({
      keys: [{ kid: 'fleet-1', secret: randomBytes(32) }],
    }).encode(ctx, onward.token);
    const spoofed = await codec.encode(appendActor(startDelegation(p), DEMO.agents.calendar), onward.token);
    const cases: Array<[string, () => Promise<unknown>]> = [
      ['edited', () => codec.decode(edited, pw, onward.token)],
      ['moved to another token', () => codec.decode(header, pBob, other.token)],
      ['forged with another key', () => codec.decode(forged, pw, onward.token)],
      ['last actor is not the token azp', () => codec.decode(spoofed, pw, onward.token)],
      ['garbage', () => codec.decode('garbage', pw, onward.token)],
      ['duplicated', () => codec.decode([header, header], pw, onward.token)],
    ];
    for (const [name, c] of cases)
      await expect(c(), name).rejects.toMatchObject({ code: 'AGENTID_DELEGATION_INVALID' });
    expect(decodeJwtClaims(onward.token).azp).toBe(DEMO.agents.orchestrator);
  });
});
