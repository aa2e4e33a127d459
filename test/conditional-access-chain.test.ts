// A Conditional Access challenge travels the delegation chain: the user's client calls agent A
// (Express), A calls agent B (Fastify) on the user's behalf, and B's own on-behalf-of exchange
// needs the user's MFA. B answers A 401 with the claims; A cannot satisfy them either, so A's
// middleware passes the same challenge to the user's client. After MFA, the chain goes through.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBlueprint, secretCredential } from '@agentid/core';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { agentid, agentidErrors } from '@agentid/express';
import { agentidPlugin } from '@agentid/fastify';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const O = DEMO.blueprints.orchestrator;
const W = DEMO.blueprints.workers;
let emu: Emulator;
let toolsApi: Server;
let agentB: FastifyInstance;
let agentA: Server;
let aUrl = '';
let toolCalls = 0;

const blueprint = (b: { appId: string; secret: string }) =>
  createBlueprint({
    tenantId: DEMO.tenantId,
    clientId: b.appId,
    credential: secretCredential(b.secret, { silenceWarning: true }),
    authorityHost: emu.baseUrl,
    network: { fetch: emu.fetch },
  });

beforeAll(async () => {
  emu = await createEmulator();
  toolsApi = createServer((_req, res) => {
    toolCalls++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"inbox":3}');
  });
  await new Promise<void>((r) => toolsApi.listen(0, '127.0.0.1', r));
  const toolsUrl = `http://127.0.0.1:${(toolsApi.address() as AddressInfo).port}`;

  agentB = Fastify();
  await agentB.register(agentidPlugin, {
    blueprint: blueprint(W),
    agentId: DEMO.agents.mail,
    tools: { read_inbox: { resource: 'api://tools', scopes: ['Mail.Read'], mode: 'obo' } },
  });
  agentB.get('/inbox', async (req) => (await req.agentid!.tool('read_inbox').fetch(toolsUrl)).json());
  const bUrl = await agentB.listen({ port: 0, host: '127.0.0.1' });

  const app = express();
  app.use(
    agentid({
      blueprint: blueprint(O),
      agentId: DEMO.agents.orchestrator,
      tools: { mail_agent: { resource: `api://${W.appId}`, scopes: ['access_agent'], mode: 'obo' } },
    }),
  );
  app.get('/triage', async (req, res, next) => {
    try {
      const r = await req.agentid!.tool('mail_agent').fetch(`${bUrl}/inbox`);
      res.status(r.status).json(await r.json());
    } catch (e) {
      next(e);
    }
  });
  app.use(agentidErrors());
  agentA = app.listen(0, '127.0.0.1');
  await new Promise((r) => agentA.once('listening', r));
  aUrl = `http://127.0.0.1:${(agentA.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await agentB.close();
  await new Promise((r) => agentA.close(r));
  await new Promise((r) => toolsApi.close(r));
  await emu.close();
});

const aliceToken = (amr?: string[]) =>
  emu.issueUserToken({
    user: DEMO.users.alice.upn,
    clientId: DEMO.chatApp.appId,
    scopes: [`api://${O.appId}/access_agent`],
    ...(amr ? { extraClaims: { amr } } : {}),
  });

describe("a sub-agent's Conditional Access challenge reaches the orchestrator's caller", () => {
  it('401 insufficient_claims with the claims Entra asked of agent B; after MFA the chain is served', async () => {
    const policy = emu.conditionalAccess.add({
      users: [DEMO.users.alice.id],
      resources: ['api://tools'],
      control: 'mfa',
    });
    const r = await fetch(`${aUrl}/triage`, { headers: { authorization: `Bearer ${await aliceToken()}` } });
    expect(r.status).toBe(401);
    expect(await r.json()).toMatchObject({ error: 'insufficient_claims', code: 'AGENTID_CLAIMS_CHALLENGE' });
    const header = r.headers.get('www-authenticate') ?? '';
    expect(header).toMatch(/^Bearer realm="agentid", error="insufficient_claims"/);
    const claims = JSON.parse(Buffer.from(/claims="([^"]+)"/.exec(header)![1]!, 'base64').toString()) as {
      access_token: { capolids: { values: string[] } };
    };
    expect(claims.access_token.capolids.values).toEqual([policy]);
    expect(toolCalls).toBe(0);

    // The user's client signs in again with MFA (amr is kept across both on-behalf-of hops).
    const ok = await fetch(`${aUrl}/triage`, {
      headers: { authorization: `Bearer ${await aliceToken(['pwd', 'mfa'])}` },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ inbox: 3 });
    expect(toolCalls).toBe(1);
  });
});
