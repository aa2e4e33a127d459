import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { aadsts, postToken } from '@agentid/test-support/emulator';
import { createEmulator, DEMO, type Emulator } from '../index.js';

const T = DEMO.tenantId;
const W = DEMO.blueprints.workers;
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const EX = 'api://AzureADTokenExchange/.default';

let now = Date.UTC(2026, 11, 2, 12);
let emu: Emulator;
beforeAll(async () => {
  emu = await createEmulator({ clock: { now: () => now } });
});
afterEach(() => {
  emu.conditionalAccess.clear();
  emu.conditionalAccess.setAgentRisk(DEMO.agents.mail, undefined);
});

const t1 = async (agent: string) =>
  postToken(emu, T, {
    client_id: W.appId,
    client_secret: W.secret,
    grant_type: 'client_credentials',
    scope: EX,
    fmi_path: agent,
  });
const asAgent = (agent: string, assertion: string, extra: Record<string, string>) =>
  postToken(emu, T, {
    client_id: agent,
    client_assertion_type: JWT_BEARER,
    client_assertion: assertion,
    ...extra,
  });
const leg2 = async (agent: string, scope = 'api://tools/.default') =>
  asAgent(agent, String((await t1(agent)).body.access_token), { grant_type: 'client_credentials', scope });
const userFic = async () => {
  const dw = DEMO.agents.digitalWorker;
  const a = String((await t1(dw)).body.access_token);
  const t2 = await asAgent(dw, a, { grant_type: 'client_credentials', scope: EX });
  expect(t2.status).toBe(200);
  return asAgent(dw, a, {
    grant_type: 'user_fic',
    scope: 'api://tools/Mail.Read',
    user_federated_identity_credential: String(t2.body.access_token),
    user_id: DEMO.agentUsers.digitalWorker.id,
  });
};
const blocked = (r: { status: number; body: Record<string, unknown> }) => {
  expect(r.status).toBe(400);
  expect(r.body).toMatchObject({ error: 'interaction_required', suberror: 'message_only' });
  expect(aadsts(r.body)).toBe(53003);
};

describe('emulated Conditional Access', () => {
  it('blocks leg 2 of a targeted agent for a targeted resource, and nothing else', async () => {
    emu.conditionalAccess.add({ agents: [DEMO.agents.mail], resources: ['api://tools'], control: 'block' });
    blocked(await leg2(DEMO.agents.mail));
    // Its T1 and T2 (the exchange audience) are never evaluated, nor another resource or agent.
    expect((await t1(DEMO.agents.mail)).status).toBe(200);
    expect((await leg2(DEMO.agents.mail, EX)).status).toBe(200);
    expect((await leg2(DEMO.agents.mail, 'api://reports/.default')).status).toBe(200);
    expect((await leg2(DEMO.agents.reporter)).status).toBe(200);
  });

  it("a policy on a blueprint covers its agents, never the blueprint's own app (Graph) token", async () => {
    emu.conditionalAccess.add({ blueprints: [W.appId], control: 'block' });
    blocked(await leg2(DEMO.agents.reporter));
    blocked(await leg2(DEMO.agents.mail, 'api://reports/.default'));
    const graph = await postToken(emu, T, {
      client_id: W.appId,
      client_secret: W.secret,
      grant_type: 'client_credentials',
      scope: 'https://graph.microsoft.com/.default',
    });
    expect(graph.status).toBe(200);
  });

  it('AllAgentIdUsers blocks user_fic; a time window and agent risk are honoured', async () => {
    const id = emu.conditionalAccess.add({ agentUsers: 'All', control: 'block' });
    blocked(await userFic());
    expect((await leg2(DEMO.agents.digitalWorker)).status).toBe(200);
    emu.conditionalAccess.remove(id);
    expect((await userFic()).status).toBe(200);

    emu.conditionalAccess.add({
      agents: 'All',
      window: { from: now + 60_000, until: now + 120_000 },
      control: 'block',
    });
    expect((await leg2(DEMO.agents.mail)).status).toBe(200);
    now += 60_000;
    blocked(await leg2(DEMO.agents.mail));
    now += 60_000;
    expect((await leg2(DEMO.agents.mail)).status).toBe(200);
    emu.conditionalAccess.clear();

    emu.conditionalAccess.add({ agents: 'All', agentRiskLevels: ['high'], control: 'block' });
    expect((await leg2(DEMO.agents.mail)).status).toBe(200);
    emu.conditionalAccess.setAgentRisk(DEMO.agents.mail, 'high');
    blocked(await leg2(DEMO.agents.mail));
    expect((await leg2(DEMO.agents.reporter)).status).toBe(200);
  });

  it('an MFA policy never touches the autonomous flows (the only agent control is block)', async () => {
    emu.conditionalAccess.add({ agents: 'All', control: 'mfa' });
    expect((await leg2(DEMO.agents.mail)).status).toBe(200);
    expect((await userFic()).status).toBe(200);
  });

  it('is toggled at run time through the admin API, and refuses a bad policy', async () => {
    const admin = (method: string, path: string, body?: unknown) =>
      emu.fetch(`${emu.baseUrl}/_emulator/conditional-access${path}`, {
        method,
        ...(body !== undefined
          ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
          : {}),
      });
    const add = await admin('POST', '', { agents: [DEMO.agents.mail], control: 'block' });
    expect(add.status).toBe(201);
    const { id } = (await add.json()) as { id: string };
    blocked(await leg2(DEMO.agents.mail));
    expect(((await (await admin('GET', '')).json()) as { policies: unknown[] }).policies).toHaveLength(1);
    expect((await admin('DELETE', `/${id}`)).status).toBe(200);
    expect((await leg2(DEMO.agents.mail)).status).toBe(200);
    expect((await admin('DELETE', `/${id}`)).status).toBe(404);
    expect((await admin('POST', '/risk', { agentId: DEMO.agents.mail, level: 'high' })).status).toBe(200);
    expect(emu.conditionalAccess.agentRisk(DEMO.agents.mail)).toBe('high');
    const bad = await admin('POST', '', { control: 'block' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('a policy needs a target');
    expect((await admin('POST', '', { agents: 'x', control: 'block' })).status).toBe(400);
    expect((await admin('POST', '', { agents: 'All', control: 'allow' })).status).toBe(400);
  });

  it('accountEnabled=false on an agent stops its tokens (AADSTS7000112)', async () => {
    emu.directory.setAgentEnabled(T, DEMO.agents.reporter, false);
    try {
      const r = await t1(DEMO.agents.reporter);
      expect(aadsts(r.body)).toBe(7000112);
    } finally {
      emu.directory.setAgentEnabled(T, DEMO.agents.reporter, true);
    }
  });
});
