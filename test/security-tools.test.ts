// Hostile tool APIs, over real HTTP: a tool's API decides what it answers (401s, claims challenges of
// its choosing, redirects), and none of it may cost more than a bounded number of token requests,
// evict the tokens of other tools, users or the agent, or carry a token or the delegation chain to
// another origin.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Blueprint, createBlueprint, decodeJwtClaims, secretCredential } from '@agentid/core';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { createDelegationCodec, DELEGATION_HEADER } from '@agentid/obo';
import { type AgentRequestContext, createAgentToolkit, type InvocationEvent } from '@agentid/tools';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const W = DEMO.blueprints.workers;
const TOOLS = {
  read_mail: { resource: 'api://tools', scopes: ['Mail.Read'], mode: 'obo' },
  send_mail: { resource: 'api://tools', scopes: ['Mail.Send'], mode: 'obo' },
  // Same resource and scopes as send_mail: the two share the plain token's cache key.
  send_mail_twin: { resource: 'api://tools', scopes: ['Mail.Send'], mode: 'obo' },
  generate_report: { resource: 'api://reports', roles: ['Reports.Generate'], mode: 'autonomous' },
} as const;

let emu: Emulator;
let bp: Blueprint;
let skew = 0;
let tool: Server;
let toolUrl = '';
let elsewhere: Server;
let elsewhereUrl = '';
const invocations: InvocationEvent[] = [];
/** What the tool API saw: path, the token's acrs and uti (which token it was), headers. */
const seen: Array<{
  path: string;
  acrs: unknown;
  uti: unknown;
  method: string;
  body: string;
  headers: IncomingHttpHeaders;
}> = [];
/** Every request the other origin got. */
const stolen: IncomingHttpHeaders[] = [];
let challenges = 0;

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

beforeAll(async () => {
  emu = await createEmulator();
  bp = createBlueprint({
    tenantId: DEMO.tenantId,
    clientId: W.appId,
    credential: secretCredential(W.secret, { silenceWarning: true }),
    authorityHost: emu.baseUrl,
    network: { fetch: emu.fetch },
    clock: { now: () => Date.now() + skew },
  });
  elsewhere = createServer((req, res) => {
    stolen.push(req.headers);
    res.writeHead(200).end('thanks');
  });
  elsewhereUrl = await listen(elsewhere);
  tool = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const claims = token ? (decodeJwtClaims(token) as Record<string, unknown>) : {};
      const path = req.url ?? '';
      seen.push({
        path,
        acrs: claims.acrs,
        uti: claims.uti,
        method: req.method ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
        headers: req.headers,
      });
      const challenge = (value: string) => {
        const c = Buffer.from(
          JSON.stringify({ access_token: { acrs: { essential: true, value } } }),
        ).toString('base64');
        res
          .writeHead(401, {
            'www-authenticate': `Bearer realm="", error="insufficient_claims", claims="${c}"`,
          })
          .end();
      };
      if (path === '/always-401')
        return res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
      // Claims of its choosing, new ones every time, and never satisfied.
      if (path === '/always-claims') return challenge(`c${++challenges}`);
      // A step-up API: satisfied by a token with the claims it asked for.
      if (path === '/step-up' && !(Array.isArray(claims.acrs) && claims.acrs.includes('c1')))
        return challenge('c1');
      if (path.startsWith('/away'))
        return res.writeHead(Number(path.slice(6, 9)) || 302, { location: `${elsewhereUrl}/collect` }).end();
      if (path === '/other-port')
        return res.writeHead(307, { location: `http://localhost:${new URL(toolUrl).port}/echo` }).end();
      if (path === '/same-307') return res.writeHead(307, { location: '/echo' }).end();
      if (path === '/same-303') return res.writeHead(303, { location: `${toolUrl}/echo` }).end();
      if (path === '/loop') return res.writeHead(302, { location: '/loop' }).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
    });
  });
  toolUrl = await listen(tool);
});
afterAll(async () => {
  await new Promise((r) => tool.close(r));
  await new Promise((r) => elsewhere.close(r));
  await emu.close();
});
beforeEach(() => {
  seen.length = 0;
  stolen.length = 0;
  invocations.length = 0;
  skew = 0;
});

const codec = createDelegationCodec({ keys: [{ kid: 'fleet', secret: randomBytes(32) }] });
/** A new toolkit (its own memory of 401s) and a request of a new session of `user`. */
const session = async (user: string = DEMO.users.alice.upn): Promise<AgentRequestContext> => {
  const toolkit = createAgentToolkit({
    blueprint: bp,
    agentId: DEMO.agents.mail,
    tools: TOOLS,
    delegation: codec,
    audit: { invocation: (e) => invocations.push(e) },
  });
  const tc = await emu.issueUserToken({
    user,
    clientId: DEMO.chatApp.appId,
    scopes: [`api://${W.appId}/access_agent`],
  });
  return toolkit.authenticate({ authorization: `Bearer ${tc}` });
};
const codeOf = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => 'resolved',
    (e: { code?: string; status?: number }) => ({ code: e.code, status: e.status }),
  );
const tokenRequests = () => emu.counters.snapshot().byGrant;
/** Warms every tool's token, then starts counting. */
const warm = async (ctx: AgentRequestContext) => {
  for (const name of Object.keys(TOOLS))
    expect((await ctx.tool(name).fetch(`${toolUrl}/echo`)).status).toBe(200);
  emu.counters.reset();
  seen.length = 0;
};
/** Every tool still gets the token it had (same `uti`), with no token request. */
const expectServedFromCache = async (ctx: AgentRequestContext, before: Map<string, unknown>) => {
  emu.counters.reset();
  for (const [name, uti] of before) {
    seen.length = 0;
    await ctx.tool(name).fetch(`${toolUrl}/echo`);
    expect(seen[0]?.uti, name).toBe(uti);
    expect(seen[0]?.acrs, name).toBeUndefined();
  }
  expect(tokenRequests()).toEqual({});
};
const utis = async (ctx: AgentRequestContext, names: readonly string[]) => {
  const out = new Map<string, unknown>();
  for (const name of names) {
    seen.length = 0;
    await ctx.tool(name).fetch(`${toolUrl}/echo`);
    out.set(name, seen[0]?.uti);
  }
  return out;
};

describe('a tool API that answers every call with a claims challenge', () => {
  it('gets one re-acquisition, then typed errors without token requests; no other token is touched', async () => {
    const ctx = await session(DEMO.users.bob.upn);
    await warm(ctx);
    const before = await utis(ctx, ['read_mail', 'send_mail', 'send_mail_twin', 'generate_report']);
    emu.counters.reset();
    seen.length = 0;
    const outcomes = [];
    for (let i = 0; i < 10; i++)
      outcomes.push(await codeOf(ctx.tool('send_mail').fetch(`${toolUrl}/always-claims`)));
    // An on-behalf-of tool passes the challenge up (the user's to satisfy); an agent's own token
    // has no user to ask.
    expect(outcomes).toEqual(
      Array.from({ length: 10 }, () => ({ code: 'AGENTID_CLAIMS_CHALLENGE', status: 401 })),
    );
    // One OBO request with the challenge's claims, in all: not two per call.
    expect(tokenRequests()).toEqual({ obo: 1 });
    // The API got the plain token ten times, the claims token once.
    expect(seen.map((s) => s.acrs)).toEqual([
      undefined,
      ['c1'],
      ...Array.from({ length: 9 }, () => undefined),
    ]);
    expect(
      invocations
        .slice(-10)
        .every((e) => e.outcome === 'error' && e.errorCode === 'AGENTID_CLAIMS_CHALLENGE'),
    ).toBe(true);
    // The claims token has its own key: the plain send_mail token (shared with its twin), the
    // user's other tools and the agent's token are all still served from cache.
    await expectServedFromCache(ctx, before);
  });

  it('gets one more re-acquisition a minute later, not before', async () => {
    const ctx = await session(DEMO.users.bob.upn);
    await warm(ctx);
    await codeOf(ctx.tool('send_mail').fetch(`${toolUrl}/always-claims`));
    skew = 30_000;
    await codeOf(ctx.tool('send_mail').fetch(`${toolUrl}/always-claims`));
    expect(tokenRequests()).toEqual({ obo: 1 });
    skew = 61_000;
    expect(await codeOf(ctx.tool('send_mail').fetch(`${toolUrl}/always-claims`))).toEqual({
      code: 'AGENTID_CLAIMS_CHALLENGE',
      status: 401,
    });
    expect(tokenRequests()).toEqual({ obo: 2 });
  });

  it('an autonomous tool has no user to ask: its unsatisfied challenge is AGENTID_DOWNSTREAM', async () => {
    const ctx = await session(DEMO.users.alice.upn);
    expect(await codeOf(ctx.tool('generate_report').fetch(`${toolUrl}/always-claims`))).toEqual({
      code: 'AGENTID_DOWNSTREAM',
      status: 401,
    });
  });

  it('does not hold back another user: the bound is per tool and user', async () => {
    // One toolkit, two users: after Bob's failed challenge, Alice's still gets its retry.
    const toolkit = createAgentToolkit({ blueprint: bp, agentId: DEMO.agents.mail, tools: TOOLS });
    const tokenOf = (upn: string) =>
      emu.issueUserToken({
        user: upn,
        clientId: DEMO.chatApp.appId,
        scopes: [`api://${W.appId}/access_agent`],
      });
    const b = await toolkit.authenticate({ authorization: `Bearer ${await tokenOf(DEMO.users.bob.upn)}` });
    const a = await toolkit.authenticate({ authorization: `Bearer ${await tokenOf(DEMO.users.alice.upn)}` });
    await codeOf(b.tool('send_mail').fetch(`${toolUrl}/always-claims`));
    emu.counters.reset();
    expect(await codeOf(b.tool('send_mail').fetch(`${toolUrl}/always-claims`))).toEqual({
      code: 'AGENTID_CLAIMS_CHALLENGE',
      status: 401,
    });
    expect(tokenRequests().obo ?? 0).toBe(0);
    // Alice's first challenge still gets its re-acquisition and retry.
    seen.length = 0;
    expect((await a.tool('send_mail').fetch(`${toolUrl}/step-up`)).status).toBe(200);
    expect(seen.map((s) => s.acrs)).toEqual([undefined, ['c1']]);
  });

  it('still satisfies a step-up API, and its claims token stays out of the plain slot other tools share', async () => {
    const ctx = await session();
    await warm(ctx);
    const before = await utis(ctx, ['send_mail', 'send_mail_twin', 'read_mail']);
    emu.counters.reset();
    seen.length = 0;
    expect((await ctx.tool('send_mail').fetch(`${toolUrl}/step-up`)).status).toBe(200);
    expect(seen.map((s) => s.acrs)).toEqual([undefined, ['c1']]);
    expect(tokenRequests()).toEqual({ obo: 1 });
    await expectServedFromCache(ctx, before);
  });
});

describe('a tool API that answers every call with a plain 401', () => {
  it('autonomous: 10 calls cost one fresh token of that tool, never T1 or the agent’s other tokens', async () => {
    const ctx = await session();
    await warm(ctx);
    const before = await utis(ctx, ['read_mail', 'send_mail']);
    emu.counters.reset();
    for (let i = 0; i < 10; i++)
      expect((await ctx.tool('generate_report').fetch(`${toolUrl}/always-401`)).status).toBe(401);
    // One leg-2 request (the refused token replaced once), no leg 1, no OBO.
    expect(tokenRequests()).toEqual({ leg2: 1 });
    await expectServedFromCache(ctx, before);
    // A minute later, one more try with a fresh token.
    skew = 61_000;
    emu.counters.reset();
    await ctx.tool('generate_report').fetch(`${toolUrl}/always-401`);
    await ctx.tool('generate_report').fetch(`${toolUrl}/always-401`);
    expect(tokenRequests()).toEqual({ leg2: 1 });
  });

  it('obo: replaces only that tool’s token of that user', async () => {
    const ctx = await session();
    await warm(ctx);
    const before = await utis(ctx, ['read_mail', 'generate_report']);
    const [refused] = (await utis(ctx, ['send_mail'])).values();
    emu.counters.reset();
    expect((await ctx.tool('send_mail').fetch(`${toolUrl}/always-401`)).status).toBe(401);
    seen.length = 0;
    await ctx.tool('send_mail').fetch(`${toolUrl}/echo`);
    expect(seen[0]?.uti).not.toBe(refused);
    expect(tokenRequests()).toEqual({ obo: 1 });
    await expectServedFromCache(ctx, before);
  });
});

describe('tool calls and redirects', () => {
  it('refuses a redirect to another origin: it never sees the token or the delegation chain', async () => {
    const ctx = await session();
    const outcomes = [];
    for (const status of [301, 302, 303, 307, 308])
      outcomes.push(
        await codeOf(
          ctx.tool('read_mail').fetch(`${toolUrl}/away/${status}`, { method: 'POST', body: '{"x":1}' }),
        ),
      );
    // Another port of the same host is another origin too.
    outcomes.push(await codeOf(ctx.tool('generate_report').fetch(`${toolUrl}/other-port`)));
    expect(stolen.map((h) => [h.authorization, h[DELEGATION_HEADER]])).toEqual([]);
    expect(seen.filter((s) => s.path === '/echo')).toEqual([]);
    expect(outcomes).toEqual([
      ...[301, 302, 303, 307, 308].map((status) => ({ code: 'AGENTID_DOWNSTREAM', status })),
      { code: 'AGENTID_DOWNSTREAM', status: 307 },
    ]);
    // The tool's own origin did get them.
    expect(
      seen.every(
        (s) =>
          s.headers.authorization?.startsWith('Bearer ') && typeof s.headers[DELEGATION_HEADER] === 'string',
      ),
    ).toBe(true);
  });

  it('follows redirects within the origin, as fetch would (307 keeps the body, 303 becomes a GET)', async () => {
    const ctx = await session();
    const r307 = await ctx.tool('read_mail').fetch(`${toolUrl}/same-307`, {
      method: 'POST',
      body: 'payload',
      headers: { 'content-type': 'text/plain' },
    });
    expect(r307.status).toBe(200);
    expect(seen.slice(-2).map((s) => [s.path, s.method, s.body])).toEqual([
      ['/same-307', 'POST', 'payload'],
      ['/echo', 'POST', 'payload'],
    ]);
    const r303 = await ctx.tool('read_mail').fetch(`${toolUrl}/same-303`, {
      method: 'POST',
      body: 'payload',
      headers: { 'content-type': 'text/plain' },
    });
    expect(r303.status).toBe(200);
    const last = seen.at(-1)!;
    expect([last.path, last.method, last.body, last.headers['content-type']]).toEqual([
      '/echo',
      'GET',
      '',
      undefined,
    ]);
    expect(last.headers.authorization).toMatch(/^Bearer /);
    expect(await codeOf(ctx.tool('read_mail').fetch(`${toolUrl}/loop`))).toEqual({
      code: 'AGENTID_DOWNSTREAM',
      status: 302,
    });
    expect(stolen).toEqual([]);
  });

  it("leaves a caller's redirect: 'manual' alone: the 3xx comes back, nothing is followed", async () => {
    const ctx = await session();
    const res = await ctx.tool('read_mail').fetch(`${toolUrl}/away/302`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${elsewhereUrl}/collect`);
    expect(stolen).toEqual([]);
  });
});
