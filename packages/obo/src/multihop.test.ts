import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBlueprint, isAgentIdError, secretCredential, type Blueprint } from '@agentid/core';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { trace } from '@opentelemetry/api';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTracing } from '@agentid/test-support/otel';
import { verifyChain, type VerifiedChain } from '../verifier/verify-chain.mjs';
import {
  appendActor,
  auditChain,
  chainJwksHandler,
  createDelegationCodec,
  createTokenValidator,
  DELEGATION_HEADER,
  onBehalfOf,
  parseAuthorizationHeader,
  startDelegation,
  validatorForBlueprint,
  type ChainAttributes,
  type DelegationCodec,
  type OboAuditEvent,
  type Principal,
} from './index.js';

// user → orchestrator agent (orchestrator blueprint) → mail sub-agent (workers blueprint) → tools API,
// each hop a real HTTP server on loopback; tokens from the emulator. The tools API is not agentid: it
// checks the chain with the standalone verifier and the fleet's published JWKS only.
const O = DEMO.blueprints.orchestrator;
const W = DEMO.blueprints.workers;
const TID = DEMO.tenantId.toLowerCase();
const tracing = createTestTracing();
const tracer = tracing.provider.getTracer('test');
const fleetKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const codec: DelegationCodec = createDelegationCodec({
  keys: [{ kid: 'fleet-1', alg: 'ES256', ...fleetKey }],
  maxHops: 3,
});
let emu: Emulator;
let bpO: Blueprint;
let bpW: Blueprint;
const servers: Server[] = [];
const audits: OboAuditEvent[] = [];
const seen: Record<string, { oid: string; azp?: string; scp: readonly string[]; chain: readonly string[] }> =
  {};
let atTools: { verified: VerifiedChain; audit: ChainAttributes; token: string; header: string } | undefined;

function listen(server: Server): Promise<string> {
  servers.push(server);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

function serve(name: string, handler: (req: IncomingMessage) => Promise<unknown>): Promise<string> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void tracer.startActiveSpan(`${name} handle`, async (span) => {
      try {
        const body = await handler(req);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      } catch (e) {
        const code = isAgentIdError(e) ? e.code : ((e as { code?: string }).code ?? 'INTERNAL');
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
  return listen(server);
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
let jwksUrl = '';

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
  // The fleet publishes its chain keys; the tools API knows only this URL.
  jwksUrl = `${await listen(createServer(chainJwksHandler(codec)))}/.well-known/agentid-chain-jwks.json`;
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
    const verified = await verifyChain(req.headers[DELEGATION_HEADER], token, { jwks: jwksUrl, maxHops: 3 });
    const header = String(req.headers[DELEGATION_HEADER]);
    atTools = { verified, audit: auditChain(token, header), token, header };
    record('tools', p, verified.chain);
    return { sent: true };
  });
  const wValidator = validatorForBlueprint(bpW);
  mailUrl = await serve('mail-agent', async (req) => {
    const token = parseAuthorizationHeader(req.headers.authorization);
    const p = await wValidator.validate(token);
    const mail = bpW.agent(DEMO.agents.mail);
    const ctx = appendActor(
      await codec.decode(req.headers[DELEGATION_HEADER], p, token),
      mail,
      codec.maxHops,
    );
    record('mail-agent', p, ctx.actors);
    const onward = await onBehalfOf(mail, token, ['api://tools/Mail.Send'], {
      principal: p,
      delegation: ctx,
      audit: (e) => audits.push(e),
    });
    const r = await call(toolsUrl, onward.token, await codec.encode(ctx, onward.token));
    if (r.status !== 200) throw new Error(`tools answered ${r.status}`);
    return { ok: true };
  });
  const oValidator = validatorForBlueprint(bpO);
  orchestratorUrl = await serve('orchestrator', async (req) => {
    const token = parseAuthorizationHeader(req.headers.authorization);
    const p = await oValidator.validate(token);
    const orchestrator = bpO.agent(DEMO.agents.orchestrator);
    const ctx = appendActor(
      await codec.decode(req.headers[DELEGATION_HEADER], p, token),
      orchestrator,
      codec.maxHops,
    );
    record('orchestrator', p, ctx.actors);
    const onward = await onBehalfOf(orchestrator, token, [`api://${W.appId}/access_agent`], {
      principal: p,
      delegation: ctx,
      audit: (e) => audits.push(e),
    });
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
  it('carries the subject and the nested actors; the tools API verifies them with the JWKS only', async () => {
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
    // Each actor with its tenant, its blueprint and its type; the user at the top.
    expect(atTools!.verified).toMatchObject({
      iss: 'urn:agentid:chain',
      subject: { sub: DEMO.users.alice.id, sub_profile: 'user', tid: TID },
      actors: [
        { sub: DEMO.agents.orchestrator, sub_profile: 'agent_identity', tid: TID, xms_par_app_azp: O.appId },
        { sub: DEMO.agents.mail, sub_profile: 'agent_identity', tid: TID, xms_par_app_azp: W.appId },
      ],
      depth: 2,
    });
    const flat = {
      'agentid.chain': [DEMO.agents.orchestrator, DEMO.agents.mail],
      'agentid.chain.depth': 2,
      'agentid.chain.tenants': [TID, TID],
      'agentid.chain.blueprints': [O.appId, W.appId],
      'agentid.chain.subject': DEMO.users.alice.id,
      'agentid.chain.subject_profile': 'user',
    };
    expect(atTools!.audit).toEqual(flat);
    // The spans of each hop carry the chain as an array, and its depth.
    const obo = tracing.spans().filter((s) => s.name === 'agentid.obo');
    const hop1 = obo.find((s) => s.attributes['agentid.agent.id'] === DEMO.agents.orchestrator)!;
    const hop2 = obo.find((s) => s.attributes['agentid.agent.id'] === DEMO.agents.mail)!;
    expect(hop1.attributes).toMatchObject({
      'agentid.obo.user.id': DEMO.users.alice.id,
      'agentid.chain': [DEMO.agents.orchestrator],
      'agentid.chain.depth': 1,
    });
    expect(hop2.attributes).toMatchObject({ 'agentid.obo.user.id': DEMO.users.alice.id, ...flat });
    // And so do the audit events.
    expect(audits.map((e) => [e.agentId, e.outcome, e.chain?.['agentid.chain']])).toEqual([
      [DEMO.agents.orchestrator, 'allowed', [DEMO.agents.orchestrator]],
      [DEMO.agents.mail, 'allowed', [DEMO.agents.orchestrator, DEMO.agents.mail]],
    ]);
    expect(audits[1]!.chain).toEqual(flat);
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
    expect(() => appendActor(ctx, 'A1')).toThrow(
      expect.objectContaining({ code: 'AGENTID_DELEGATION_CYCLE' }),
    );
    expect(() => appendActor(appendActor(ctx, 'a3'), 'a4', 3)).toThrow(
      expect.objectContaining({ code: 'AGENTID_HOP_LIMIT' }),
    );
  });

  it('refuses a dropped header on an agent-made token when the service requires the chain', async () => {
    const tc = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      clientId: DEMO.chatApp.appId,
      scopes: [`api://${O.appId}/access_agent`],
    });
    const onward = await onBehalfOf(bpO.agent(DEMO.agents.orchestrator), tc, [
      `api://${W.appId}/access_agent`,
    ]);
    const pw = await validatorForBlueprint(bpW).validate(onward.token);
    const strict = createDelegationCodec({
      keys: [{ kid: 'fleet-1', alg: 'ES256', ...fleetKey }],
      require: 'agent-tokens',
    });
    await expect(strict.decode(undefined, pw, onward.token)).rejects.toMatchObject({
      code: 'AGENTID_DELEGATION_MISSING',
    });
    await expect(verifyChain(undefined, onward.token, { jwks: jwksUrl })).rejects.toMatchObject({
      code: 'AGENTID_DELEGATION_MISSING',
    });
    // The user's own token needs no chain; without the policy the chain starts at the token's agent.
    const pUser = await validatorForBlueprint(bpO).validate(tc);
    expect((await strict.decode(undefined, pUser, tc)).actors).toEqual([]);
    expect((await codec.decode(undefined, pw, onward.token)).actors).toEqual([DEMO.agents.orchestrator]);
  });
});

describe('the chain built above, attacked', () => {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const parts = (jws: string) => jws.split('.') as [string, string, string];
  const claimsOf = (jws: string) =>
    JSON.parse(Buffer.from(parts(jws)[1], 'base64url').toString()) as Record<string, unknown>;
  /** A payload edited without the key: the signature no longer matches. */
  const edit = (jws: string, f: (c: Record<string, unknown>) => Record<string, unknown>) =>
    `${parts(jws)[0]}.${b64(f(claimsOf(jws)))}.${parts(jws)[2]}`;
  /** Claims signed with the fleet key, as a faulty or hostile member of the fleet could. */
  const signed = (c: Record<string, unknown>) =>
    new SignJWT(c)
      .setProtectedHeader({ alg: 'ES256', kid: 'fleet-1', typ: 'agentid-chain+jwt' })
      .sign(fleetKey.privateKey);
  const actor = (sub: string, act?: Record<string, unknown>) => ({
    sub,
    sub_profile: 'agent_identity',
    tid: TID,
    ...(act ? { act } : {}),
  });
  const codeOf = (p: Promise<unknown>) =>
    p.then(
      () => 'accepted',
      (e: unknown) => (e as { code?: string }).code ?? String(e),
    );

  it('refuses tampering, reordering, truncation, replay, cycles in any case and over-long chains, with their codes', async () => {
    const { token, header } = atTools!;
    const toolsPrincipal = {
      oid: DEMO.users.alice.id,
      tid: DEMO.tenantId,
      azp: DEMO.agents.mail,
      actorFacets: Object.freeze([11]),
    } as unknown as Principal;
    const orch = actor(DEMO.agents.orchestrator);
    const c = claimsOf(header);
    const other = await emu.issueUserToken({
      user: DEMO.users.bob.upn,
      clientId: DEMO.chatApp.appId,
      scopes: [`api://${O.appId}/access_agent`],
    });
    // Another token of the same user, obtained by the same agent: subject and current actor match.
    const sameParties = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      clientId: DEMO.agents.mail,
      scopes: ['api://tools/Mail.Read'],
    });
    const cases: Array<[string, string, string, string]> = [
      [
        'tampered subject',
        edit(header, (x) => ({ ...x, sub: DEMO.users.bob.id })),
        token,
        'AGENTID_DELEGATION_INVALID',
      ],
      [
        'reordered (edited)',
        edit(header, (x) => ({ ...x, act: actor(DEMO.agents.orchestrator, actor(DEMO.agents.mail)) })),
        token,
        'AGENTID_DELEGATION_INVALID',
      ],
      [
        "reordered (signed): the current actor is not the token's client",
        await signed({ ...c, act: actor(DEMO.agents.orchestrator, actor(DEMO.agents.mail)) }),
        token,
        'AGENTID_DELEGATION_INVALID',
      ],
      [
        'truncated (edited)',
        edit(header, (x) => ({ ...x, act: actor(DEMO.agents.mail) })),
        token,
        'AGENTID_DELEGATION_INVALID',
      ],
      ['truncated JWS', header.slice(0, -10), token, 'AGENTID_DELEGATION_INVALID'],
      ['replayed with another token', header, other, 'AGENTID_DELEGATION_INVALID'],
      [
        'replayed with another of the same user and agent: only ath tells',
        header,
        sameParties,
        'AGENTID_DELEGATION_INVALID',
      ],
      [
        'previous format',
        await new SignJWT({ ...c, act: [DEMO.agents.orchestrator, DEMO.agents.mail] })
          .setProtectedHeader({ alg: 'ES256', kid: 'fleet-1', typ: 'agentid-delegation+jwt' })
          .sign(fleetKey.privateKey),
        token,
        'AGENTID_DELEGATION_INVALID',
      ],
      [
        'cycle, in another case',
        await signed({
          ...c,
          act: actor(DEMO.agents.mail, actor(DEMO.agents.orchestrator.toUpperCase(), orch)),
        }),
        token,
        'AGENTID_DELEGATION_CYCLE',
      ],
      [
        'over-long',
        await signed({ ...c, act: actor(DEMO.agents.mail, actor('a3', actor('a2', orch))) }),
        token,
        'AGENTID_HOP_LIMIT',
      ],
    ];
    for (const [name, h, t, code] of cases) {
      expect(await codeOf(verifyChain(h, t, { jwks: jwksUrl, maxHops: 3 })), `verifier: ${name}`).toBe(code);
      const p = t !== other ? toolsPrincipal : ({ ...toolsPrincipal, oid: DEMO.users.bob.id } as Principal);
      expect(await codeOf(codec.decode(h, p, t)), `codec: ${name}`).toBe(code);
    }
    // The genuine header still verifies; the token's hash is what it is bound to.
    expect(c.ath).toBe(createHash('sha256').update(token).digest('base64url'));
    expect((await verifyChain(header, token, { jwks: jwksUrl, maxHops: 3 })).depth).toBe(2);
    // A verifier with other keys refuses it.
    const otherJwks = {
      keys: [
        {
          ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }),
          kid: 'fleet-1',
          alg: 'ES256',
        },
      ],
    };
    expect(await codeOf(verifyChain(header, token, { jwks: otherJwks }))).toBe('AGENTID_DELEGATION_INVALID');
  });
});
