import { createBlueprint, decodeJwtClaims, secretCredential, type Blueprint } from '@agentid/core';
import { createEmulator, DEMO, defaultSeed, type Emulator } from '@agentid/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { onBehalfOf, validatorForBlueprint, type Principal } from '../index.js';

const O = DEMO.blueprints.orchestrator;
const USERS = Array.from({ length: 12 }, (_, i) => ({
  id: `0000b000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  upn: `cache${i}@contoso.onmicrosoft.com`,
}));
let emu: Emulator;

const userToken = (user: string) =>
  emu.issueUserToken({ user, clientId: DEMO.chatApp.appId, scopes: [`api://${O.appId}/access_agent`] });
const blueprint = (maxEntries: number): Blueprint =>
  createBlueprint({
    tenantId: DEMO.tenantId,
    clientId: O.appId,
    credential: secretCredential(O.secret, { silenceWarning: true }),
    authorityHost: emu.baseUrl,
    network: { fetch: emu.fetch },
    cache: { l1: { maxEntries } },
  });

beforeAll(async () => {
  const seed = defaultSeed();
  seed.tenants[0]!.users!.push(
    ...USERS.map((u) => ({ id: u.id, userPrincipalName: u.upn, displayName: u.upn })),
  );
  emu = await createEmulator({ seed });
});
afterAll(() => emu.close());
beforeEach(() => emu.counters.reset());

describe('onBehalfOf: the per-assertion memo', () => {
  it('keeps every user’s token apart when more users come than the cache (and so its memo) holds', async () => {
    const agent = blueprint(4).agent(DEMO.agents.orchestrator);
    const tokens = await Promise.all(USERS.map((u) => userToken(u.upn)));
    for (let round = 0; round < 3; round++) {
      for (const [i, tc] of tokens.entries()) {
        for (const scope of ['api://tools/Files.Read', 'api://tools/.default']) {
          const t = await onBehalfOf(agent, tc, [scope]);
          expect(decodeJwtClaims(t.token)).toMatchObject({ oid: USERS[i]!.id, scp: 'Files.Read' });
          expect(t.subject).toBe(USERS[i]!.id);
        }
      }
    }
    // A cache of 4 cannot hold 24 tokens: users come back as misses, each exchanged again.
    expect(emu.counters.snapshot().byGrant.obo).toBeGreaterThan(USERS.length * 2);
    // One user over and over: hits, no new exchange.
    emu.counters.reset();
    for (let i = 0; i < 5; i++)
      expect((await onBehalfOf(agent, tokens[0]!, ['api://tools/Files.Read'])).subject).toBe(USERS[0]!.id);
    expect(emu.counters.snapshot().byGrant.obo ?? 0).toBeLessThanOrEqual(1);
  });

  it('lets a validated principal name the user, and keeps what the assertion says for calls without one', async () => {
    const bp = blueprint(100);
    const agent = bp.agent(DEMO.agents.orchestrator);
    const tc = await userToken(USERS[0]!.upn);
    const principal = await validatorForBlueprint(bp).validate(tc);
    const cached = await onBehalfOf(agent, tc, ['api://tools/Files.Read']);
    expect((await onBehalfOf(agent, tc, ['api://tools/Files.Read'], { principal })).token).toBe(cached.token);
    expect(emu.counters.snapshot().byGrant.obo).toBe(1);
    // A principal naming someone else is another cache key: no token cached for the assertion's
    // user is handed out, and Entra's answer names that user, so it is discarded.
    const other: Principal = { ...principal, oid: USERS[1]!.id };
    await expect(
      onBehalfOf(agent, tc, ['api://tools/Files.Read'], { principal: other }),
    ).rejects.toMatchObject({ code: 'AGENTID_TOKEN_ENDPOINT' });
    expect(emu.counters.snapshot().byGrant.obo).toBe(2);
    // That principal did not change what the assertion names.
    expect((await onBehalfOf(agent, tc, ['api://tools/Files.Read'])).token).toBe(cached.token);
    expect((await onBehalfOf(agent, tc, ['api://tools/Files.Read'], { principal })).token).toBe(cached.token);
    expect(emu.counters.snapshot().byGrant.obo).toBe(2);
  });

  it('serves one assertion to two agents and several scope sets, each its own token', async () => {
    const W = DEMO.blueprints.workers;
    const bp = createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: W.appId,
      credential: secretCredential(W.secret, { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: emu.fetch },
    });
    const mail = bp.agent(DEMO.agents.mail);
    const worker = bp.agent(DEMO.agents.digitalWorker);
    const tc = await emu.issueUserToken({
      user: USERS[2]!.upn,
      clientId: DEMO.chatApp.appId,
      scopes: [`api://${W.appId}/access_agent`],
    });
    const calls = [
      [mail, ['api://tools/Mail.Read']],
      [mail, ['api://tools/Mail.Read', 'api://tools/Mail.Send']],
      [worker, ['api://tools/Mail.Read']],
      [worker, ['api://tools/Files.Read']],
    ] as const;
    const first = [];
    for (const [agent, scopes] of calls) first.push(await onBehalfOf(agent, tc, scopes));
    expect(new Set(first.map((t) => t.token)).size).toBe(4);
    expect(first.map((t) => t.actor)).toEqual([
      DEMO.agents.mail,
      DEMO.agents.mail,
      DEMO.agents.digitalWorker,
      DEMO.agents.digitalWorker,
    ]);
    for (const [i, [agent, scopes]] of calls.entries())
      expect((await onBehalfOf(agent, tc, scopes)).token).toBe(first[i]!.token);
    expect(emu.counters.snapshot().byGrant.obo).toBe(4);
  });
});
