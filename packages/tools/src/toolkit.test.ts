import { createBlueprint, secretCredential, type Blueprint } from '@agentid/core';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { randomBytes } from 'node:crypto';
import {
  appendActor,
  createDelegationCodec,
  createTokenValidator,
  onBehalfOf,
  startDelegation,
  validatorForBlueprint,
} from '@agentid/obo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentToolkit, type DecisionEvent } from './index.js';

const W = DEMO.blueprints.workers;
const TOOLS = {
  read_mail: { resource: 'api://tools', scopes: ['Mail.Read'], mode: 'obo' },
  send_mail: { resource: 'api://tools', scopes: ['Mail.Send'], mode: 'obo' },
  read_calendar: { resource: 'api://tools', scopes: ['Calendars.Read'], mode: 'obo' },
} as const;
let emu: Emulator;
let bp: Blueprint;
let now = Date.now();
const validator = () =>
  createTokenValidator({
    tenantId: DEMO.tenantId,
    audiences: [W.appId, `api://${W.appId}`],
    authorityHost: emu.baseUrl,
    clock: { now: () => now },
    jwks: { fetch: emu.fetch },
  });
const userToken = () =>
  emu.issueUserToken({
    user: DEMO.users.alice.upn,
    clientId: DEMO.chatApp.appId,
    scopes: [`api://${W.appId}/access_agent`],
  });
const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
};

beforeAll(async () => {
  emu = await createEmulator();
  bp = createBlueprint({
    tenantId: DEMO.tenantId,
    clientId: W.appId,
    credential: secretCredential(W.secret, { silenceWarning: true }),
    authorityHost: emu.baseUrl,
    network: { fetch: emu.fetch },
  });
});
afterAll(() => emu.close());

describe('toolkit.authenticate on repeated requests', () => {
  it('validates a repeated header on every request: expiry after the first request is refused', async () => {
    now = Date.now();
    const toolkit = createAgentToolkit({
      blueprint: bp,
      agentId: DEMO.agents.mail,
      tools: TOOLS,
      validator: validator(),
    });
    const headers = { authorization: `Bearer ${await userToken()}` };
    const raw = ['authorization', headers.authorization];
    for (let i = 0; i < 3; i++)
      expect((await toolkit.authenticate(headers, raw)).principal.oid).toBe(DEMO.users.alice.id);
    now += 3600_000 + 301_000;
    expect(await codeOf(toolkit.authenticate(headers, raw))).toBe('AGENTID_TOKEN_EXPIRED');
    now = Date.now();
  });

  it('still refuses a repeated Authorization header once the header has been accepted alone', async () => {
    const toolkit = createAgentToolkit({ blueprint: bp, agentId: DEMO.agents.mail, tools: TOOLS });
    const h = `Bearer ${await userToken()}`;
    await toolkit.authenticate({ authorization: h }, ['authorization', h]);
    expect(
      await codeOf(toolkit.authenticate({ authorization: h }, ['Authorization', h, 'authorization', h])),
    ).toBe('AGENTID_UNAUTHENTICATED');
    expect(await codeOf(toolkit.authenticate({ authorization: [h, h] }))).toBe('AGENTID_UNAUTHENTICATED');
    expect((await toolkit.authenticate({ authorization: [h] })).principal.oid).toBe(DEMO.users.alice.id);
  });

  it('answers with a rejected promise, never a synchronous throw', async () => {
    const throwing = createAgentToolkit({
      blueprint: bp,
      agentId: DEMO.agents.mail,
      tools: TOOLS,
      validator: {
        validate: () => {
          throw new TypeError('validator bug');
        },
      },
    });
    const p = throwing.authenticate({ authorization: 'Bearer a.b.c' });
    expect(p).toBeInstanceOf(Promise);
    await expect(p).rejects.toThrow('validator bug');
    const toolkit = createAgentToolkit({ blueprint: bp, agentId: DEMO.agents.mail, tools: TOOLS });
    const missing = toolkit.authenticate({});
    expect(missing).toBeInstanceOf(Promise);
    expect(await codeOf(missing)).toBe('AGENTID_UNAUTHENTICATED');
  });
});

describe('tool decisions through getToken', () => {
  it('decides once per handle, audits each decision, and gives each allowed tool exactly its scopes', async () => {
    const decisions: DecisionEvent[] = [];
    const toolkit = createAgentToolkit({
      blueprint: bp,
      agentId: DEMO.agents.mail,
      tools: TOOLS,
      allowedTools: ['read_mail', 'send_mail'],
      audit: { decision: (e) => decisions.push(e) },
    });
    const ctx = await toolkit.authenticate({ authorization: `Bearer ${await userToken()}` });
    const mail = ctx.tool('read_mail');
    expect((await mail.getToken()).scopes).toEqual(['api://tools/Mail.Read']);
    expect((await mail.getToken()).scopes).toEqual(['api://tools/Mail.Read']);
    expect((await ctx.tool('send_mail').getToken()).scopes).toEqual(['api://tools/Mail.Send']);
    const denied = ctx.tool('read_calendar');
    const refusal = denied.getToken();
    expect(refusal).toBeInstanceOf(Promise);
    expect(await codeOf(refusal)).toBe('AGENTID_FORBIDDEN');
    expect(await codeOf(denied.getToken())).toBe('AGENTID_FORBIDDEN');
    expect(await codeOf(ctx.tool('delete_mailbox').getToken())).toBe('AGENTID_TOOL_UNKNOWN');
    expect(decisions.map((d) => [d.tool, d.allowed, d.reason, d.userId, d.actors])).toEqual([
      ['read_mail', true, undefined, DEMO.users.alice.id, [DEMO.agents.mail]],
      ['send_mail', true, undefined, DEMO.users.alice.id, [DEMO.agents.mail]],
      [
        'read_calendar',
        false,
        `tool not allowed for agent ${DEMO.agents.mail}`,
        DEMO.users.alice.id,
        [DEMO.agents.mail],
      ],
      ['delete_mailbox', false, 'unknown tool', DEMO.users.alice.id, [DEMO.agents.mail]],
    ]);
    expect(decisions.every((d) => Object.isFrozen(d))).toBe(true);
  });

  it('asks the allow policy on every handle, and audits its reason', async () => {
    const decisions: DecisionEvent[] = [];
    let verdict: boolean | string = true;
    let asked = 0;
    const toolkit = createAgentToolkit({
      blueprint: bp,
      agentId: DEMO.agents.mail,
      tools: TOOLS,
      allow: async ({ principal, tool }) => (
        asked++,
        principal.oid === DEMO.users.alice.id && tool === 'read_mail' ? verdict : false
      ),
      audit: { decision: (e) => decisions.push(e) },
    });
    const ctx = await toolkit.authenticate({ authorization: `Bearer ${await userToken()}` });
    expect((await ctx.tool('read_mail').getToken()).scopes).toEqual(['api://tools/Mail.Read']);
    verdict = 'outside working hours';
    expect(await codeOf(ctx.tool('read_mail').getToken())).toBe('AGENTID_FORBIDDEN');
    expect(await codeOf(ctx.tool('send_mail').getToken())).toBe('AGENTID_FORBIDDEN');
    expect(asked).toBe(3);
    expect(decisions.map((d) => [d.tool, d.allowed, d.reason])).toEqual([
      ['read_mail', true, undefined],
      ['read_mail', false, 'outside working hours'],
      ['send_mail', false, 'denied by policy'],
    ]);
  });
});

describe('toolkit.authenticate with a chain policy', () => {
  it("refuses an agent-made token without its chain under require: 'agent-tokens', and keeps each actor's blueprint", async () => {
    const O = DEMO.blueprints.orchestrator;
    const bpO = createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: O.appId,
      credential: secretCredential(O.secret, { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: emu.fetch },
    });
    const codec = createDelegationCodec({
      keys: [{ kid: 'k', secret: randomBytes(32) }],
      require: 'agent-tokens',
    });
    const decisions: DecisionEvent[] = [];
    const toolkit = createAgentToolkit({
      blueprint: bp,
      agentId: DEMO.agents.mail,
      tools: TOOLS,
      delegation: codec,
      audit: { decision: (e) => decisions.push(e) },
    });
    const tc = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      clientId: DEMO.chatApp.appId,
      scopes: [`api://${O.appId}/access_agent`],
    });
    const p = await validatorForBlueprint(bpO).validate(tc);
    const orchestrator = bpO.agent(DEMO.agents.orchestrator);
    const onward = await onBehalfOf(orchestrator, tc, [`api://${W.appId}/access_agent`], { principal: p });
    const authorization = `Bearer ${onward.token}`;
    expect(await codeOf(toolkit.authenticate({ authorization }))).toBe('AGENTID_DELEGATION_MISSING');
    const header = await codec.encode(appendActor(startDelegation(p), orchestrator), onward.token);
    const ctx = await toolkit.authenticate({ authorization, 'x-agentid-delegation': header });
    expect(ctx.delegation.chain?.map((a) => [a.id, a.blueprintId])).toEqual([
      [DEMO.agents.orchestrator, O.appId],
      [DEMO.agents.mail, W.appId],
    ]);
    await ctx.tool('read_mail').getToken();
    expect(decisions[0]?.chain).toMatchObject({
      'agentid.chain': [DEMO.agents.orchestrator, DEMO.agents.mail],
      'agentid.chain.depth': 2,
    });
  });
});
