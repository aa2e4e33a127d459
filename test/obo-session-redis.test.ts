// Long-running OBO sessions on a shared Redis: one replica starts a session from a user's request,
// another resumes it two hours later (the user's token long expired) and keeps acting for the
// user; a revocation on one replica ends the session on the other at its next refresh. Real
// redis-server and the emulator; the refresh token is never in a Redis key nor in clear in a value.
import { randomBytes } from 'node:crypto';
import { createBlueprint, decodeJwtClaims, secretCredential, type Blueprint } from '@agentid/core';
import { createManualClock } from '@agentid/core/broker';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { createOboSessions } from '@agentid/obo';
import { createRedisL2, type RedisL2 } from '@agentid/redis';
import { startRedis, type TestRedis } from '@agentid/test-support/redis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const O = DEMO.blueprints.orchestrator;
const HOUR = 3_600_000;
const FILES = ['api://tools/Files.Read'];
const clock = createManualClock(Date.now());
const refreshTokens: string[] = [];
let redis: TestRedis;
let raw: ReturnType<typeof createClient>;
let emu: Emulator;
const l2s: RedisL2[] = [];

/** A replica: its own blueprint (L1, MSAL clients) on the shared Redis, which also keeps its sessions. */
async function replica(): Promise<{ bp: Blueprint; l2: RedisL2 }> {
  const l2 = createRedisL2({
    url: redis.url,
    encryption: { currentKeyId: 'k1', keys: { k1: KEY } },
    namespace: 'sessions',
  });
  l2s.push(l2);
  await l2.ready();
  const bp = createBlueprint({
    tenantId: DEMO.tenantId,
    clientId: O.appId,
    credential: secretCredential(O.secret, { silenceWarning: true }),
    authorityHost: emu.baseUrl,
    network: {
      fetch: async (url, init) => {
        const res = await emu.fetch(url, init);
        const rt = /"refresh_token":"([^"]+)"/.exec(await res.clone().text())?.[1];
        if (rt) refreshTokens.push(rt);
        return res;
      },
    },
    cache: { l2 },
    clock,
  });
  return { bp, l2 };
}
const KEY = randomBytes(32).toString('base64');

beforeAll(async () => {
  redis = await startRedis();
  raw = createClient({ url: redis.url });
  raw.on('error', () => undefined);
  await raw.connect();
  emu = await createEmulator({ clock });
});
afterAll(async () => {
  await Promise.all(l2s.map((l) => l.close()));
  await raw.close();
  await redis.stop();
  await emu.close();
});

/** Every key name and stored value in Redis, as text. */
async function everythingInRedis(): Promise<string> {
  const out: string[] = [];
  for (const key of await raw.keys('*')) {
    out.push(key);
    const type = await raw.type(key);
    if (type === 'string') out.push(String(await raw.get(key)));
    else if (type === 'hash') out.push(JSON.stringify(await raw.hGetAll(key)));
    else if (type === 'zset') out.push(JSON.stringify(await raw.zRange(key, 0, -1)));
  }
  return out.join('\n');
}

describe('OBO sessions on a shared Redis', () => {
  it('resume on another replica hours later, stay encrypted, and end everywhere when revoked', async () => {
    const a = await replica();
    const b = await replica();
    const sessionsA = createOboSessions(a.bp, { store: a.l2 });
    const sessionsB = createOboSessions(b.bp, { store: b.l2 });
    const tc = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      clientId: DEMO.chatApp.appId,
      scopes: [`api://${O.appId}/access_agent`],
    });
    const session = await sessionsA.start(a.bp.agent(DEMO.agents.orchestrator), tc, FILES);

    clock.advance(2 * HOUR);
    const resumed = await sessionsB.resume(b.bp.agent(DEMO.agents.orchestrator), session.id);
    const t = await resumed.getToken(FILES);
    expect(decodeJwtClaims(t.token)).toMatchObject({
      oid: DEMO.users.alice.id,
      azp: DEMO.agents.orchestrator,
    });
    expect(emu.counters.snapshot().byGrant.refresh_token).toBe(1);

    const stored = await everythingInRedis();
    expect(stored).toContain('sessions');
    expect(refreshTokens.length).toBeGreaterThanOrEqual(2);
    for (const rt of refreshTokens) expect(stored).not.toContain(rt);
    expect(stored).not.toContain(DEMO.users.alice.id);

    // Revoked on B: A, which holds the session in memory, ends it at its next refresh.
    await sessionsB.invalidate({ user: DEMO.users.alice.id });
    clock.advance(2 * HOUR);
    await expect(session.getToken(FILES)).rejects.toMatchObject({ code: 'AGENTID_SESSION_REVOKED' });
    expect(emu.counters.snapshot().byGrant.refresh_token).toBe(1);
  });
});
