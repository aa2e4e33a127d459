import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestTracing } from '@agentid/test-support/otel';
import { ConditionalAccessError, createBlueprint, secretCredential, type Blueprint } from '../index.js';
import { createManualClock } from '../util/clock.js';

const W = DEMO.blueprints.workers;
const TOOLS = ['api://tools/.default'];
const tracing = createTestTracing();
const clock = createManualClock(Date.UTC(2026, 11, 2, 12));
let emu: Emulator;
let bp: Blueprint;

beforeAll(async () => {
  emu = await createEmulator({ clock });
  bp = createBlueprint({
    tenantId: DEMO.tenantId,
    clientId: W.appId,
    credential: secretCredential(W.secret, { silenceWarning: true }),
    authorityHost: emu.baseUrl,
    network: { fetch: emu.fetch, retries: 3 },
    clock,
    telemetry: { tracerProvider: tracing.provider },
  });
});
afterAll(() => emu.close());
beforeEach(async () => {
  emu.conditionalAccess.clear();
  await bp.invalidate('all');
  emu.counters.reset();
  tracing.reset();
});

describe('a Conditional Access block through the broker', () => {
  it('is a typed error naming agent, flow and resource; sent once (never retried); its span carries the code', async () => {
    emu.conditionalAccess.add({ agents: [DEMO.agents.mail], resources: ['api://tools'], control: 'block' });
    const error = await bp
      .agent(DEMO.agents.mail)
      .getToken(TOOLS)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConditionalAccessError);
    expect(error).toMatchObject({
      code: 'AGENTID_CONDITIONAL_ACCESS',
      agentId: DEMO.agents.mail,
      flow: 'autonomous',
      resource: 'api://tools',
      aadsts: 53003,
      retryable: false,
    });
    expect((error as Error).message).toMatch(
      new RegExp(
        `^Agent ${DEMO.agents.mail} \\(flow autonomous, resource api://tools\\): Blocked by Conditional Access`,
      ),
    );
    expect((error as Error).message).not.toMatch(/eyJ/);
    // One leg 1 and one leg 2: no retry by the HTTP client (retries: 3) nor by the broker's rule.
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 1, leg2: 1 });
    const span = tracing.spans().find((s) => s.name === 'agentid.autonomous')!;
    expect(span.attributes['agentid.error.code']).toBe('AGENTID_CONDITIONAL_ACCESS');
  });

  it('a cached token is served until Entra is asked; a forced refresh surfaces the block, which then never hides behind it', async () => {
    const agent = bp.agent(DEMO.agents.mail);
    const before = await agent.getToken(TOOLS);
    emu.conditionalAccess.add({ agents: [DEMO.agents.mail], control: 'block' });
    // Entra evaluates at issuance: the token issued before the policy is still valid, and served.
    expect((await agent.getToken(TOOLS)).token).toBe(before.token);
    await expect(agent.getToken(TOOLS, { forceRefresh: true })).rejects.toMatchObject({
      code: 'AGENTID_CONDITIONAL_ACCESS',
    });
    // Once refused, the older token is gone, and the block is never cached as a success: each
    // call asks Entra again and meets it.
    await expect(agent.getToken(TOOLS)).rejects.toMatchObject({ code: 'AGENTID_CONDITIONAL_ACCESS' });
    await expect(agent.getToken(TOOLS)).rejects.toMatchObject({ code: 'AGENTID_CONDITIONAL_ACCESS' });
    expect(emu.counters.tokenRequests('leg2')).toBe(4);
    emu.conditionalAccess.clear();
    expect((await agent.getToken(TOOLS)).token).not.toBe(before.token);
  });

  it('a block met by a refresh-ahead drops the cached token too', async () => {
    const agent = bp.agent(DEMO.agents.mail);
    await agent.getToken(TOOLS);
    emu.conditionalAccess.add({ blueprints: [W.appId], control: 'block' });
    clock.advance(2_000_000); // past refreshOn (half the usable window), still usable
    await agent.getToken(TOOLS); // served, and one background refresh meets the block
    for (let i = 0; i < 200 && emu.counters.tokenRequests('leg2') < 2; i++)
      await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 20));
    await expect(agent.getToken(TOOLS)).rejects.toMatchObject({ code: 'AGENTID_CONDITIONAL_ACCESS' });
  });

  it('a disabled agent (accountEnabled=false) is AGENTID_AGENT_DISABLED naming the agent, and its cached token goes once refused', async () => {
    const agent = bp.agent(DEMO.agents.reporter);
    await agent.getToken(TOOLS);
    emu.directory.setAgentEnabled(DEMO.tenantId, DEMO.agents.reporter, false);
    try {
      const e = await agent.getToken(TOOLS, { forceRefresh: true }).catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'AGENTID_AGENT_DISABLED', aadsts: 7000112 });
      expect((e as Error).message).toMatch(
        new RegExp(`^Agent ${DEMO.agents.reporter} \\(flow autonomous, resource api://tools\\): `),
      );
      await expect(agent.getToken(TOOLS)).rejects.toMatchObject({ code: 'AGENTID_AGENT_DISABLED' });
    } finally {
      emu.directory.setAgentEnabled(DEMO.tenantId, DEMO.agents.reporter, true);
    }
  });
});
