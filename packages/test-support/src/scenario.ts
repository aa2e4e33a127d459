// The same behaviour, asserted over real HTTP for every framework adapter (Express, Fastify).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBlueprint, decodeJwtClaims, secretCredential, type Blueprint } from '@agentid/core';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { createTokenValidator } from '@agentid/obo';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestTracing } from './otel.js';
import type { AgentToolkitOptions, DecisionEvent, InvocationEvent } from '@agentid/tools';

const W = DEMO.blueprints.workers;
export const TOOLS = {
  read_mail: { resource: 'api://tools', scopes: ['Mail.Read'], mode: 'obo' },
  send_mail: { resource: 'api://tools', scopes: ['Mail.Send'], mode: 'obo' },
  generate_report: { resource: 'api://reports', roles: ['Reports.Generate'], mode: 'autonomous' },
  read_calendar: { resource: 'api://tools', scopes: ['Calendars.Read'], mode: 'obo' },
} as const;

const B_CLAIMS = '{"access_token":{"capolids":{"essential":true,"values":["agent-b-mfa"]}}}';

/** Starts an app of the framework under test; routes: POST /call/:tool {path} and GET /whoami. */
export type AppFactory = (options: AgentToolkitOptions) => Promise<{ url: string; close(): Promise<void> }>;

export function middlewareScenario(framework: string, makeApp: AppFactory): void {
  const tracing = createTestTracing();
  let emu: Emulator;
  let bp: Blueprint;
  let api: Server;
  let apiUrl = '';
  let app: { url: string; close(): Promise<void> };
  const decisions: DecisionEvent[] = [];
  const invocations: InvocationEvent[] = [];
  const received: Array<Record<string, unknown>> = [];
  const logs: string[] = [];

  beforeAll(async () => {
    emu = await createEmulator();
    bp = createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: W.appId,
      credential: secretCredential(W.secret, { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: emu.fetch },
      telemetry: {
        tracerProvider: tracing.provider,
        logger: {
          debug: (m) => logs.push(String(m)),
          info: (m) => logs.push(String(m)),
          warn: (m) => logs.push(String(m)),
          error: (m) => logs.push(String(m)),
        },
      },
    });
    // The downstream API checks every token it receives, as a real resource would.
    const validator = createTokenValidator({
      tenantId: DEMO.tenantId,
      audiences: [DEMO.resources.tools.appId, DEMO.resources.reports.appId, 'api://tools', 'api://reports'],
      authorityHost: emu.baseUrl,
      requiredScopes: [],
      requiredRoles: ['Reports.Generate', 'Mail.Send.All'],
      jwks: { fetch: emu.fetch },
    });
    api = createServer((req, res) => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      validator.validate(token).then(
        (p) => {
          const c = p.claims;
          received.push({
            path: req.url,
            oid: p.oid,
            azp: p.azp,
            idtyp: p.idtyp,
            scp: p.scopes,
            roles: p.roles,
            acrs: c.acrs,
            traceparent: req.headers.traceparent,
          });
          // A downstream agent whose own on-behalf-of needs the user's MFA: it passes the challenge up.
          if (req.url === '/agent-b' && !(Array.isArray(c.amr) && c.amr.includes('mfa')))
            return res
              .writeHead(401, {
                'www-authenticate': `Bearer realm="", error="insufficient_claims", claims="${Buffer.from(B_CLAIMS).toString('base64')}"`,
              })
              .end();
          if (req.url === '/reject')
            return res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
          if (req.url === '/challenge' && !(Array.isArray(c.acrs) && c.acrs.includes('c1'))) {
            const claims = Buffer.from(
              JSON.stringify({ access_token: { acrs: { essential: true, value: 'c1' } } }),
            ).toString('base64');
            return res
              .writeHead(401, {
                'www-authenticate': `Bearer realm="", error="insufficient_claims", claims="${claims}"`,
              })
              .end();
          }
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ oid: p.oid, azp: p.azp, scp: p.scopes, roles: p.roles }));
        },
        () => res.writeHead(401).end(),
      );
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    app = await makeApp({
      blueprint: bp,
      agentId: DEMO.agents.mail,
      tools: TOOLS,
      allowedTools: ['read_mail', 'send_mail', 'generate_report'],
      audit: { decision: (e) => decisions.push(e), invocation: (e) => invocations.push(e) },
    });
  });
  afterAll(async () => {
    await app.close();
    await new Promise((r) => api.close(r));
    await emu.close();
  });
  afterEach(() => emu.conditionalAccess.clear());
  beforeEach(() => {
    received.length = 0;
    decisions.length = 0;
    invocations.length = 0;
    tracing.reset();
  });

  const userToken = (o: { aud?: string; user?: string } = {}) =>
    emu.issueUserToken({
      user: o.user ?? DEMO.users.alice.upn,
      clientId: DEMO.chatApp.appId,
      scopes: [`api://${W.appId}/access_agent`],
      ...(o.aud ? { extraClaims: { aud: o.aud } } : {}),
    });
  const call = async (
    tool: string,
    path: string,
    token: string | undefined,
    raw?: { body?: string; headers?: Record<string, string> },
  ) => {
    const res = await fetch(`${app.url}/call/${tool}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(raw?.headers ?? {}),
      },
      body: raw?.body ?? JSON.stringify({ path: `${apiUrl}${path}` }),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      text,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  };

  describe(`${framework}: tool-scoped tokens over real HTTP`, () => {
    it('gives each of three tools a token with exactly its own permissions, checked by the downstream API', async () => {
      const tc = await userToken();
      const mail = await call('read_mail', '/echo', tc);
      const send = await call('send_mail', '/echo', tc);
      const report = await call('generate_report', '/echo', tc);
      expect(mail).toMatchObject({
        status: 200,
        body: {
          status: 200,
          body: { oid: DEMO.users.alice.id, azp: DEMO.agents.mail, scp: ['Mail.Read'], roles: [] },
        },
      });
      expect(send).toMatchObject({
        status: 200,
        body: {
          status: 200,
          body: { oid: DEMO.users.alice.id, azp: DEMO.agents.mail, scp: ['Mail.Send'], roles: [] },
        },
      });
      expect(report).toMatchObject({
        status: 200,
        body: {
          status: 200,
          body: { oid: DEMO.agents.mail, azp: DEMO.agents.mail, scp: [], roles: ['Reports.Generate'] },
        },
      });
      expect(received.every((r) => typeof r.traceparent === 'string')).toBe(true);
      const spans = tracing.spans().filter((s) => s.name.startsWith('execute_tool '));
      expect(spans.map((s) => s.attributes['gen_ai.tool.name']).sort()).toEqual([
        'generate_report',
        'read_mail',
        'send_mail',
      ]);
      expect(spans[0]!.attributes).toMatchObject({
        'gen_ai.agent.id': DEMO.agents.mail,
        'agentid.obo.user.id': DEMO.users.alice.id,
        'agentid.tool.outcome': 'ok',
      });
      expect(invocations.map((i) => [i.tool, i.outcome, i.status])).toEqual([
        ['read_mail', 'ok', 200],
        ['send_mail', 'ok', 200],
        ['generate_report', 'ok', 200],
      ]);
      expect(decisions.every((d) => d.allowed)).toBe(true);
      // Cache hits the second time: no new token requests.
      emu.counters.reset();
      await call('read_mail', '/echo', tc);
      expect(emu.counters.snapshot().total ?? 0).toBe(0);
    });

    it('denies a registered tool the agent may not use (403, audited) and an unknown tool (404, audited)', async () => {
      const tc = await userToken();
      const denied = await call('read_calendar', '/echo', tc);
      expect(denied.status).toBe(403);
      expect(denied.body).toMatchObject({ error: 'forbidden', code: 'AGENTID_FORBIDDEN' });
      const unknown = await call('delete_mailbox', '/echo', tc);
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({ code: 'AGENTID_TOOL_UNKNOWN' });
      expect(decisions.map((d) => [d.tool, d.allowed, d.reason])).toEqual([
        ['read_calendar', false, `tool not allowed for agent ${DEMO.agents.mail}`],
        ['delete_mailbox', false, 'unknown tool'],
      ]);
      expect(received).toHaveLength(0);
    });

    it('answers a claims challenge with one re-acquisition and one retry; a plain 401 drops the cached token', async () => {
      const tc = await userToken({ user: DEMO.users.bob.upn });
      emu.counters.reset();
      const r = await call('send_mail', '/challenge', tc);
      expect(r.body).toMatchObject({ status: 200 });
      expect(received.map((x) => x.acrs)).toEqual([undefined, ['c1']]);
      expect(emu.counters.snapshot().byGrant.obo).toBe(2);
      const before = emu.counters.snapshot().byGrant.obo ?? 0;
      await call('read_mail', '/echo', tc);
      const rejected = await call('read_mail', '/reject', tc);
      expect(rejected.body).toMatchObject({ status: 401 });
      await call('read_mail', '/echo', tc);
      expect(emu.counters.snapshot().byGrant.obo).toBe(before + 2); // one for the first call, one after the 401
    });

    it('refuses bad input with clean 4xx answers, never a crash or a token', async () => {
      const tc = await userToken();
      const none = await call('read_mail', '/echo', undefined);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="agentid"');
      const garbage = await call('read_mail', '/echo', 'garbage.token.here');
      expect(garbage.status).toBe(401);
      expect(garbage.headers.get('www-authenticate')).toMatch(
        /^Bearer realm="agentid", error="invalid_token"/,
      );
      const basic = await call('read_mail', '/echo', undefined, {
        headers: { authorization: 'Basic dXNlcjpwYXNz' },
      });
      expect(basic.status).toBe(401);
      const wrongAud = await call(
        'read_mail',
        '/echo',
        await userToken({ aud: DEMO.blueprints.orchestrator.appId }),
      );
      expect(wrongAud).toMatchObject({ status: 401, body: { code: 'AGENTID_TOKEN_AUDIENCE' } });
      const big = await call('read_mail', '/echo', `${'a'.repeat(12_000)}.b.c`);
      expect(big.status).toBe(401);
      const huge = await fetch(`${app.url}/call/read_mail`, {
        method: 'POST',
        headers: { authorization: `Bearer ${'a'.repeat(40_000)}` },
      }).catch(() => undefined);
      expect(huge === undefined || huge.status === 431).toBe(true);
      const notJson = await call('read_mail', '/echo', tc, { body: '{not json' });
      expect(notJson.status).toBe(400);
      expect(notJson.body).toMatchObject({ error: 'invalid_request' });
      for (const r of [none, garbage, basic, wrongAud, big, notJson]) {
        expect(r.status).toBeLessThan(500);
        expect(r.text).not.toContain(tc.split('.')[1]);
        expect(r.text).not.toMatch(/at .*\.(ts|js):\d+/);
      }
      for (const line of logs) expect(line).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
      // Still serving after all of that.
      expect((await call('read_mail', '/echo', tc)).status).toBe(200);
    });

    it('answers a Conditional Access block with a 403 naming the outcome, agent, flow and resource; never retried', async () => {
      emu.conditionalAccess.add({
        agents: [DEMO.agents.mail],
        resources: ['api://reports'],
        control: 'block',
      });
      // A token issued before the policy would be served until it expires, as Entra's would be.
      await bp.invalidate('all');
      emu.counters.reset();
      const r = await call('generate_report', '/echo', await userToken());
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({
        error: 'access_denied',
        code: 'AGENTID_CONDITIONAL_ACCESS',
        agentId: DEMO.agents.mail,
        flow: 'autonomous',
        resource: 'api://reports',
      });
      expect(String(r.body.message)).toContain('Blocked by Conditional Access');
      expect(String(r.body.message)).not.toMatch(/interaction required/i);
      expect(emu.counters.snapshot().byGrant.leg2).toBe(1);
      expect(received).toHaveLength(0);
    });

    it("passes the user's Conditional Access challenge (MFA) back as 401 insufficient_claims; a token with MFA passes", async () => {
      emu.conditionalAccess.add({ users: [DEMO.users.alice.id], resources: ['api://tools'], control: 'mfa' });
      const r = await call('read_mail', '/echo', await userToken());
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ error: 'insufficient_claims', code: 'AGENTID_CLAIMS_CHALLENGE' });
      const header = r.headers.get('www-authenticate') ?? '';
      expect(header).toMatch(
        /^Bearer realm="agentid", error="insufficient_claims", .*claims="[A-Za-z0-9+/=]+"$/,
      );
      const claims = JSON.parse(Buffer.from(/claims="([^"]+)"/.exec(header)![1]!, 'base64').toString()) as {
        access_token: { capolids: { values: string[] } };
      };
      expect(claims.access_token.capolids.values).toEqual(emu.conditionalAccess.list().map((p) => p.id));
      // The user signs in again with MFA (the client would send these claims): the call goes through.
      const mfa = await emu.issueUserToken({
        user: DEMO.users.alice.upn,
        clientId: DEMO.chatApp.appId,
        scopes: [`api://${W.appId}/access_agent`],
        extraClaims: { amr: ['pwd', 'mfa'] },
      });
      expect((await call('read_mail', '/echo', mfa)).body).toMatchObject({ status: 200 });
    });

    it("passes a downstream agent's claims challenge up to its own caller (the delegation chain)", async () => {
      const tc = await userToken();
      const r = await call('read_mail', '/agent-b', tc);
      // One re-acquisition with the claims and one retry, challenged again: the user's to satisfy.
      expect(received.map((x) => x.path)).toEqual(['/agent-b', '/agent-b']);
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ code: 'AGENTID_CLAIMS_CHALLENGE' });
      const header = r.headers.get('www-authenticate') ?? '';
      expect(Buffer.from(/claims="([^"]+)"/.exec(header)![1]!, 'base64').toString()).toBe(B_CLAIMS);
      const mfa = await emu.issueUserToken({
        user: DEMO.users.bob.upn,
        clientId: DEMO.chatApp.appId,
        scopes: [`api://${W.appId}/access_agent`],
        extraClaims: { amr: ['pwd', 'mfa'] },
      });
      // Entra keeps amr across the on-behalf-of hop, so agent B now sees the MFA.
      expect((await call('read_mail', '/agent-b', mfa)).body).toMatchObject({ status: 200 });
    });

    it('exposes the principal and the actor chain to routes', async () => {
      const res = await fetch(`${app.url}/whoami`, {
        headers: { authorization: `Bearer ${await userToken()}` },
      });
      expect(await res.json()).toEqual({ oid: DEMO.users.alice.id, chain: [DEMO.agents.mail] });
      expect(decodeJwtClaims(await userToken()).aud).toBe(W.appId);
    });
  });
}
