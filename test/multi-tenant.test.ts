// One multi-tenant blueprint serving two customer tenants (PROTOCOL.md: a blueprint principal and
// agent identities in each tenant, agent identities single-tenant): concurrent autonomous, OBO and
// agent-user flows in both, two replicas sharing one L2, and an Express agent serving users of
// both tenants. Not one token may carry another tenant.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { agentUser } from '@agentid/agent-user';
import { type Blueprint, createBlueprint, decodeJwtClaims, secretCredential } from '@agentid/core';
import { createMemoryL2 } from '@agentid/core/broker';
import { createEmulator, CUSTOMERS, DEMO, multiTenantSeed, type Emulator } from '@agentid/emulator';
import { agentid, agentidErrors } from '@agentid/express';
import { createTokenValidator, onBehalfOf, type OboAuditEvent, type TokenValidator } from '@agentid/obo';
import { createAgentToolkit } from '@agentid/tools';
import express, { type RequestHandler } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTracing } from '@agentid/test-support/otel';

const W = DEMO.blueprints.workers;
const TENANTS = [CUSTOMERS.fabrikam, CUSTOMERS.northwind] as const;
type Customer = (typeof TENANTS)[number];
const tracing = createTestTracing();
const l2 = createMemoryL2();
let emu: Emulator;

const replica = (): Blueprint =>
  createBlueprint({
    tenantId: DEMO.tenantId,
    clientId: W.appId,
    credential: secretCredential(W.secret, { silenceWarning: true }),
    authorityHost: emu.baseUrl,
    network: { fetch: emu.fetch },
    allowedTenants: TENANTS.map((c) => c.tenantId),
    cache: { l2 },
    telemetry: { tracerProvider: tracing.provider },
  });

const userTokenOf = (c: Customer) =>
  emu.issueUserToken({
    user: c.user.upn,
    tenantId: c.tenantId,
    clientId: c.chatApp,
    scopes: [`api://${W.appId}/access_agent`],
  });

beforeAll(async () => {
  emu = await createEmulator({ seed: multiTenantSeed() });
});
afterAll(async () => {
  await emu.close();
  await tracing.close();
});

/** The three flows of one tenant's agent, as the tokens they give: [flow, customer, token]. */
async function flowsOf(bp: Blueprint, c: Customer, audit: OboAuditEvent[]) {
  const agent = bp.agent(c.agent, { tenantId: c.tenantId });
  const userToken = await userTokenOf(c);
  const [autonomous, obo, asAgentUser] = await Promise.all([
    agent.getToken(['api://tools/.default']),
    onBehalfOf(agent, userToken, ['api://tools/Mail.Read'], { audit: (e) => audit.push(e) }),
    agentUser(agent, { objectId: c.agentUser.id }).getToken(['api://tools/Mail.Read']),
  ]);
  return [
    ['autonomous', c, autonomous.token, c.agent],
    ['obo', c, obo.token, c.user.id],
    ['agent-user', c, asAgentUser.token, c.agentUser.id],
  ] as const;
}

describe('two customer tenants, one blueprint', () => {
  it('concurrent flows in both tenants on two replicas sharing an L2: every token of its own tenant', async () => {
    const [a, b] = [replica(), replica()];
    const audit: OboAuditEvent[] = [];
    tracing.reset();
    // Both tenants, both replicas, several rounds, all at once.
    const rounds = await Promise.all(
      Array.from({ length: 4 }, (_, i) => (i % 2 === 0 ? a : b)).flatMap((bp) =>
        TENANTS.map((c) => flowsOf(bp, c, audit)),
      ),
    );
    const all = rounds.flat();
    expect(all).toHaveLength(4 * 2 * 3);
    for (const [flow, c, token, subject] of all) {
      const claims = decodeJwtClaims(token);
      expect(claims.tid, `${flow} in ${c.domain}`).toBe(c.tenantId);
      expect(claims.oid, flow).toBe(subject);
      expect(claims.azp, flow).toBe(c.agent);
      expect(String(claims.iss)).toContain(c.tenantId);
    }
    // Tokens of one tenant are never another's.
    const byTenant = new Map<string, Set<string>>();
    for (const [, c, token] of all)
      byTenant.set(c.tenantId, (byTenant.get(c.tenantId) ?? new Set()).add(token));
    const [fab, nw] = TENANTS.map((c) => byTenant.get(c.tenantId)!);
    expect([...fab!].filter((t) => nw!.has(t))).toEqual([]);
    // Leg 1 went to each agent's own tenant only.
    for (const r of emu.counters.requests({ grant: 'leg1' })) {
      const c = TENANTS.find((t) => t.agent === r.fmiPath)!;
      expect(r.path.split('/')[1]).toBe(c.tenantId);
    }
    // Spans and audit events name the tenant they acted in.
    const spans = tracing
      .spans()
      .filter((s) => s.name.startsWith('agentid.') && s.attributes['agentid.agent.id']);
    expect(spans.length).toBeGreaterThan(0);
    for (const s of spans) {
      const c = TENANTS.find((t) => t.agent === s.attributes['agentid.agent.id'])!;
      expect(s.attributes['agentid.tenant.id'], s.name).toBe(c.tenantId);
    }
    expect(audit).toHaveLength(8);
    for (const e of audit) expect(e.tenantId).toBe(TENANTS.find((t) => t.agent === e.agentId)!.tenantId);
  });

  it('a third replica serves both tenants from the shared L2 without a token request', async () => {
    const warm = replica();
    const t = await Promise.all(
      TENANTS.map((c) => warm.agent(c.agent, { tenantId: c.tenantId }).getToken(['api://tools/.default'])),
    );
    emu.counters.reset();
    const cold = replica();
    const again = await Promise.all(
      TENANTS.map((c) => cold.agent(c.agent, { tenantId: c.tenantId }).getToken(['api://tools/.default'])),
    );
    expect(emu.counters.tokenRequests()).toBe(0);
    expect(again.map((x) => x.token)).toEqual(t.map((x) => x.token));
    expect(again.map((x) => decodeJwtClaims(x.token).tid)).toEqual(TENANTS.map((c) => c.tenantId));
  });

  it("a user of one tenant with the other tenant's agent is refused before any request", async () => {
    const bp = replica();
    const [f, n] = TENANTS;
    emu.counters.reset();
    const err = await onBehalfOf(bp.agent(n.agent, { tenantId: n.tenantId }), await userTokenOf(f), [
      'api://tools/Mail.Read',
    ]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AGENTID_WRONG_TENANT' });
    expect(emu.counters.tokenRequests()).toBe(0);
  });
});

describe('an Express agent serving users of both tenants', () => {
  let api: Server;
  let apiUrl = '';
  let app: Server;
  let appUrl = '';
  const seen: Array<{ tid: string; oid: string; azp: string }> = [];

  beforeAll(async () => {
    // The downstream API accepts tokens of both customer tenants, each with its own issuer.
    const validator: TokenValidator = createTokenValidator({
      tenantId: DEMO.tenantId,
      audiences: [DEMO.resources.tools.appId, 'api://tools'],
      authorityHost: emu.baseUrl,
      allowedTenants: TENANTS.map((c) => c.tenantId),
      requiredScopes: [],
      requiredRoles: ['Tickets.ReadWrite.All'],
      jwks: { fetch: emu.fetch },
    });
    api = createServer((req, res) => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      validator.validate(token).then(
        (p) => {
          seen.push({ tid: p.tid, oid: p.oid, azp: String(p.claims.azp) });
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ tid: p.tid, oid: p.oid }));
        },
        () => res.writeHead(401).end(),
      );
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;

    const bp = replica();
    const tools = {
      read_mail: { resource: 'api://tools', scopes: ['Mail.Read'], mode: 'obo' },
      tickets: { resource: 'api://tools', roles: ['Tickets.ReadWrite.All'], mode: 'autonomous' },
    } as const;
    // One toolkit per tenant (agent identities are single-tenant), chosen by the token's tenant;
    // each toolkit's validator accepts its own tenant's users only, so the choice is checked.
    const perTenant = new Map<string, RequestHandler>(
      TENANTS.map((c) => [
        c.tenantId,
        agentid({
          toolkit: createAgentToolkit({ blueprint: bp, agentId: c.agent, tenantId: c.tenantId, tools }),
        }),
      ]),
    );
    const tenantOf = (authorization: string | undefined): string | undefined => {
      try {
        return String(
          decodeJwtClaims(/^Bearer (.+)$/i.exec(authorization ?? '')?.[1] ?? '').tid,
        ).toLowerCase();
      } catch {
        return undefined;
      }
    };
    const server = express();
    server.use((req, res, next) => {
      const handler = perTenant.get(tenantOf(req.headers.authorization) ?? '');
      if (!handler) return res.status(401).json({ error: 'unknown tenant' });
      return handler(req, res, next);
    });
    server.get('/call/:tool', async (req, res, next) => {
      try {
        const r = await req.agentid!.tool(req.params.tool).fetch(`${apiUrl}/x`);
        res.json({ agent: req.agentid!.agent.id, tenant: req.agentid!.agent.tenantId, api: await r.json() });
      } catch (e) {
        next(e);
      }
    });
    server.use(agentidErrors());
    app = server.listen(0, '127.0.0.1');
    await new Promise((r) => app.once('listening', r));
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => app.close(r));
    await new Promise((r) => api.close(r));
  });

  it("each tenant's users are served by their tenant's agent, concurrently; tokens downstream carry that tenant", async () => {
    const calls = await Promise.all(
      TENANTS.flatMap((c) =>
        ['read_mail', 'tickets', 'read_mail'].map(async (tool) => {
          const r = await fetch(`${appUrl}/call/${tool}`, {
            headers: { authorization: `Bearer ${await userTokenOf(c)}` },
          });
          return { c, tool, status: r.status, body: (await r.json()) as { api: { oid: string } } };
        }),
      ),
    );
    for (const { c, tool, status, body } of calls) {
      expect(status, `${tool} for ${c.domain}`).toBe(200);
      expect(body).toMatchObject({ agent: c.agent, tenant: c.tenantId, api: { tid: c.tenantId } });
      expect(body.api.oid).toBe(tool === 'tickets' ? c.agent : c.user.id);
    }
    for (const s of seen) expect(s.azp).toBe(TENANTS.find((c) => c.tenantId === s.tid)!.agent);
  });

  it("a tenant's toolkit refuses the other tenant's users; a tenant the app does not serve gets 401", async () => {
    const [f, n] = TENANTS;
    const fabrikam = createAgentToolkit({
      blueprint: replica(),
      agentId: f.agent,
      tenantId: f.tenantId,
      tools: { read_mail: { resource: 'api://tools', scopes: ['Mail.Read'], mode: 'obo' } },
    });
    const err = await fabrikam
      .authenticate({ authorization: `Bearer ${await userTokenOf(n)}` })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AGENTID_TOKEN_TENANT' });
    const home = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      clientId: DEMO.chatApp.appId,
      scopes: [`api://${W.appId}/access_agent`],
    });
    expect(
      (await fetch(`${appUrl}/call/read_mail`, { headers: { authorization: `Bearer ${home}` } })).status,
    ).toBe(401);
  });
});
