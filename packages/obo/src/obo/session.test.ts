import { inspect } from 'node:util';
import { createBlueprint, decodeJwtClaims, secretCredential, type Blueprint } from '@agentid/core';
import { brokerOf, createManualClock, createMemoryL2 } from '@agentid/core/broker';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { createTestTracing } from '@agentid/test-support/otel';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOboSessions, onBehalfOf } from '../index.js';

const O = DEMO.blueprints.orchestrator;
const HOUR = 3_600_000;
const FILES = ['api://tools/Files.Read'];
const clock = createManualClock(Date.now());
const tracing = createTestTracing();
const logs: string[] = [];
/** Every refresh token the emulator answered, and every one sent to it. */
const answered: string[] = [];
const sent: string[] = [];
let emu: Emulator;
let bp: Blueprint;

const tokenFetch = (): typeof fetch => async (url, init) => {
  const body = new URLSearchParams(String(init?.body ?? ''));
  if (body.get('refresh_token')) sent.push(body.get('refresh_token')!);
  const res = await emu.fetch(url, init);
  const text = await res.clone().text();
  const rt = /"refresh_token":"([^"]+)"/.exec(text)?.[1];
  if (rt) answered.push(rt);
  return res;
};
const newBlueprint = () =>
  createBlueprint({
    tenantId: DEMO.tenantId,
    clientId: O.appId,
    credential: secretCredential(O.secret, { silenceWarning: true }),
    authorityHost: emu.baseUrl,
    network: { fetch: tokenFetch() },
    clock,
    telemetry: {
      tracerProvider: tracing.provider,
      logger: {
        debug: (m, f) => logs.push(m + JSON.stringify(f ?? {})),
        info: (m, f) => logs.push(m + JSON.stringify(f ?? {})),
        warn: (m, f) => logs.push(m + JSON.stringify(f ?? {})),
        error: (m, f) => logs.push(m + JSON.stringify(f ?? {})),
      },
    },
  });
// The user's token lives one hour, as Entra's do.
const userToken = (user: string = DEMO.users.alice.upn) =>
  emu.issueUserToken({
    user,
    clientId: DEMO.chatApp.appId,
    scopes: [`api://${O.appId}/access_agent`],
    lifetimeSec: 3600,
  });

beforeAll(async () => {
  emu = await createEmulator({ clock, refreshTokenLifetimeSec: 3 * 3600 });
  bp = newBlueprint();
});
afterAll(() => emu.close());
beforeEach(async () => {
  await bp.invalidate('all');
  emu.counters.reset();
  tracing.reset();
  answered.length = 0;
  sent.length = 0;
});

describe('createOboSessions: an agent working for a user after the user token expired', () => {
  it('refreshes with T1 two hours later: same user, azp the agent, and each refresh sends the rotated token', async () => {
    const sessions = createOboSessions(bp);
    const agent = bp.agent(DEMO.agents.orchestrator);
    const tc = await userToken();
    const session = await sessions.start(agent, tc, FILES);
    expect(session).toMatchObject({ agentId: DEMO.agents.orchestrator, userId: DEMO.users.alice.id });
    expect(session.endsAt.getTime() - session.startedAt.getTime()).toBe(8 * HOUR);
    // The first token came with the session: a hit.
    await session.getToken(FILES);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 1, obo: 1 });

    clock.advance(2 * HOUR);
    await expect(onBehalfOf(agent, tc, FILES)).rejects.toMatchObject({ code: 'AGENTID_ASSERTION_EXPIRED' });
    const later = await session.getToken(FILES);
    expect(decodeJwtClaims(later.token)).toMatchObject({
      oid: DEMO.users.alice.id,
      azp: DEMO.agents.orchestrator,
      idtyp: 'user',
      scp: 'Files.Read',
    });
    expect(later.subject).toBe(DEMO.users.alice.id);
    clock.advance(2 * HOUR);
    await session.getToken(FILES);
    // OBO answered the first refresh token; each refresh sent the newest and got a new one.
    expect(answered).toHaveLength(3);
    expect(sent).toEqual([answered[0], answered[1]]);
    expect(emu.counters.snapshot().byGrant.refresh_token).toBe(2);
    expect(
      Object.keys(JSON.parse(brokerOf(agent).msal.getTokenCache().serialize()).RefreshToken ?? {}),
    ).toHaveLength(0);
    const span = tracing.spans().find((s) => s.name === 'agentid.obo-session');
    expect(span?.attributes).toMatchObject({
      'agentid.obo.user.id': DEMO.users.alice.id,
      'agentid.obo.session.id': session.id,
    });
  });

  it('runs concurrent refreshes of one session one at a time: each sends the token the previous one rotated', async () => {
    const sessions = createOboSessions(bp);
    const session = await sessions.start(bp.agent(DEMO.agents.orchestrator), await userToken(), FILES);
    clock.advance(2 * HOUR);
    // Three scopes, three cache misses at once; the emulator spends every refresh token it redeems.
    const scopes = [FILES, ['api://tools/.default'], ['api://tools/Files.Read', 'offline_access']];
    const tokens = await Promise.all(scopes.map((s) => session.getToken(s)));
    for (const t of tokens) expect(t.subject).toBe(DEMO.users.alice.id);
    expect(sent).toEqual(answered.slice(0, 3));
    expect(new Set(sent).size).toBe(3);
  });

  it('ends at maxSessionMs with AGENTID_SESSION_EXPIRED, without asking Entra', async () => {
    const sessions = createOboSessions(bp, { maxSessionMs: 3 * HOUR });
    const session = await sessions.start(bp.agent(DEMO.agents.orchestrator), await userToken(), FILES);
    clock.advance(2 * HOUR);
    await session.getToken(FILES);
    clock.advance(HOUR);
    emu.counters.reset();
    await expect(session.getToken(FILES)).rejects.toMatchObject({ code: 'AGENTID_SESSION_EXPIRED' });
    await expect(session.getToken(['api://tools/.default'])).rejects.toMatchObject({
      code: 'AGENTID_SESSION_EXPIRED',
    });
    expect(emu.counters.snapshot().total ?? 0).toBe(0);
  });

  it("ends when Entra expires the refresh token (AADSTS700082) or revokes the user's sessions (AADSTS50173)", async () => {
    const sessions = createOboSessions(bp);
    const agent = bp.agent(DEMO.agents.orchestrator);
    const idle = await sessions.start(agent, await userToken(), FILES);
    clock.advance(4 * HOUR); // past the emulator's 3 h inactivity window
    const expired = await idle.getToken(FILES).catch((e: unknown) => e);
    expect(expired).toMatchObject({ code: 'AGENTID_SESSION_EXPIRED', aadsts: 700082 });
    expect(inspect(expired, { depth: 8 })).not.toContain(answered[0]);

    const revoked = await sessions.start(agent, await userToken(DEMO.users.bob.upn), FILES);
    emu.revokeSignInSessions(DEMO.users.bob.upn);
    clock.advance(2 * HOUR);
    await expect(revoked.getToken(FILES)).rejects.toMatchObject({
      code: 'AGENTID_SESSION_REVOKED',
      aadsts: 50173,
    });
    // Over for good: no second refresh.
    emu.counters.reset();
    await expect(revoked.getToken(FILES)).rejects.toMatchObject({ code: 'AGENTID_SESSION_REVOKED' });
    expect(emu.counters.snapshot().total ?? 0).toBe(0);
  });

  it('is revocable: invalidate({ user }) ends all of a user’s sessions and tokens, end() and { session } one', async () => {
    const sessions = createOboSessions(bp);
    const agent = bp.agent(DEMO.agents.orchestrator);
    const a1 = await sessions.start(agent, await userToken(), FILES);
    const a2 = await sessions.start(agent, await userToken(), ['api://tools/.default']);
    const bob = await sessions.start(agent, await userToken(DEMO.users.bob.upn), FILES);
    expect(await sessions.invalidate({ user: DEMO.users.alice.id.toUpperCase() })).toBe(2);
    for (const s of [a1, a2])
      await expect(s.getToken(FILES)).rejects.toMatchObject({ code: 'AGENTID_SESSION_REVOKED' });
    await bob.getToken(FILES);
    expect(await sessions.invalidate({ session: bob.id })).toBe(1);
    await expect(bob.getToken(FILES)).rejects.toMatchObject({ code: 'AGENTID_SESSION_REVOKED' });
    const c = await sessions.start(agent, await userToken(DEMO.users.bob.upn), FILES);
    await c.end();
    await expect(c.getToken(FILES)).rejects.toMatchObject({ code: 'AGENTID_SESSION_REVOKED' });
    await expect(sessions.invalidate({} as never)).rejects.toMatchObject({ code: 'AGENTID_INVALID_OPTIONS' });
  });

  it('resumes on another replica from a shared store, which holds the refresh token in its value only', async () => {
    const l2 = createMemoryL2({ clock });
    const keys: string[] = [];
    const values: string[] = [];
    const store = {
      ...l2,
      set: (key: string, entry: Parameters<typeof l2.set>[1], ttl: number) => {
        keys.push(key);
        values.push(JSON.stringify(entry));
        return l2.set(key, entry, ttl);
      },
    };
    const one = createOboSessions(bp, { store });
    const session = await one.start(bp.agent(DEMO.agents.orchestrator), await userToken(), FILES);
    const other = newBlueprint();
    const two = createOboSessions(other, { store });
    clock.advance(2 * HOUR);
    const resumed = await two.resume(other.agent(DEMO.agents.orchestrator), session.id);
    expect(decodeJwtClaims((await resumed.getToken(FILES)).token).oid).toBe(DEMO.users.alice.id);
    // The first replica adopts the token the second rotated (the spent one would be refused).
    clock.advance(2 * HOUR);
    expect((await session.getToken(FILES)).subject).toBe(DEMO.users.alice.id);
    expect(sent).toEqual([answered[0], answered[1]]);
    expect(values.some((v) => v.includes(answered[2]!))).toBe(true);
    for (const rt of answered) expect(keys.join(' ')).not.toContain(rt);
    // A user's invalidation on one replica reaches the other at its next refresh.
    await two.invalidate({ user: DEMO.users.alice.id });
    clock.advance(2 * HOUR);
    await expect(session.getToken(FILES)).rejects.toMatchObject({ code: 'AGENTID_SESSION_REVOKED' });
    await expect(two.resume(other.agent(DEMO.agents.orchestrator), session.id)).rejects.toMatchObject({
      code: 'AGENTID_SESSION_REVOKED',
    });
  });

  it('never shows a refresh token: not in inspect, JSON, spans or logs', async () => {
    const sessions = createOboSessions(bp);
    const session = await sessions.start(bp.agent(DEMO.agents.orchestrator), await userToken(), FILES);
    clock.advance(2 * HOUR);
    await session.getToken(FILES);
    expect(answered).toHaveLength(2);
    const shown = [
      inspect(session, { depth: 10, showHidden: true }),
      inspect(sessions, { depth: 10, showHidden: true }),
      JSON.stringify(session),
      JSON.stringify(tracing.spans().map((s) => ({ a: s.attributes, e: s.events }))),
      logs.join('\n'),
    ].join('\n');
    for (const rt of answered) expect(shown).not.toContain(rt);
    expect(inspect(session)).toMatch(/^OboSession\(/);
  });

  it('refuses bad options and input with typed errors', async () => {
    for (const maxSessionMs of [0, 59_999, 24 * HOUR + 1, 1.5, Number.NaN, '1h'])
      expect(() => createOboSessions(bp, { maxSessionMs } as never)).toThrow(/maxSessionMs/);
    expect(() => createOboSessions(bp, { store: {} } as never)).toThrow(/store/);
    const sessions = createOboSessions(bp);
    const agent = bp.agent(DEMO.agents.orchestrator);
    await expect(sessions.start(agent, '', FILES)).rejects.toMatchObject({ code: 'AGENTID_UNAUTHENTICATED' });
    await expect(sessions.start(agent, 'garbage', FILES)).rejects.toMatchObject({
      code: 'AGENTID_TOKEN_MALFORMED',
    });
    await expect(sessions.start(agent, await userToken(), [])).rejects.toThrow(TypeError);
    await expect(
      sessions.start(newBlueprint().agent(DEMO.agents.orchestrator), await userToken(), FILES),
    ).rejects.toThrow(/not one of this blueprint's/);
    await expect(sessions.resume(agent, 'nope')).rejects.toMatchObject({ code: 'AGENTID_SESSION_REVOKED' });
    expect(emu.counters.snapshot().total ?? 0).toBe(0);
  });
});
