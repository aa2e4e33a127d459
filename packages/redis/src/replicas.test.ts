// Several replicas of one agent service, each in its own process with its own L1, sharing one
// real redis-server and one emulator (over HTTP). Uses the built packages: `npm run build` first.
import { randomBytes } from 'node:crypto';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Replica, startRedis, type TestRedis } from '@agentid/test-support/redis';

const AUTHORITY = 'https://login.agentid.test';
const SCOPE = 'api://reports/.default';

let emu: Emulator;
let redis: TestRedis;
let emulatorUrl: string;
const encryption = { currentKeyId: 'k1', keys: { k1: randomBytes(32).toString('base64') } };
const replicas: Replica[] = [];

async function startReplicas(n: number): Promise<Replica[]> {
  const config = {
    redisUrl: redis.url,
    encryption,
    emulatorUrl,
    authorityHost: AUTHORITY,
    tenantId: DEMO.tenantId,
    clientId: DEMO.blueprints.workers.appId,
    secret: DEMO.blueprints.workers.secret,
  };
  const started = await Promise.all(Array.from({ length: n }, () => Replica.start(config)));
  replicas.push(...started);
  return started;
}

function newAgents(n: number): string[] {
  return Array.from(
    { length: n },
    () =>
      emu.directory.createAgentIdentity(DEMO.tenantId, {
        blueprintAppId: DEMO.blueprints.workers.appId,
        sponsors: [DEMO.users.sponsor.id],
      }).id,
  );
}

beforeAll(async () => {
  redis = await startRedis();
  emu = await createEmulator({ inProcessBaseUrl: AUTHORITY });
  emulatorUrl = (await emu.listen({ https: false })).httpUrl!;
});
afterAll(async () => {
  await Promise.all(replicas.map((r) => r.close()));
  await emu.close();
  await redis.stop();
});

describe('replicas sharing one Redis (separate processes)', () => {
  it('8 replicas x 50 agents, all cold at once: the token endpoint sees exactly 50 leg-1 and 50 leg-2 requests', async () => {
    const group = await startReplicas(8);
    // Let every client connect (bypassed calls before that would make direct requests).
    await new Promise((r) => setTimeout(r, 300));
    const agents = newAgents(50);
    emu.counters.reset();
    const replies = await Promise.all(group.map((r) => r.send({ cmd: 'tokens', agents, scope: SCOPE })));
    for (const reply of replies) {
      expect(reply.error).toBeUndefined();
      expect(reply.failures).toEqual([]);
      expect(reply.ok).toBe(50);
    }
    if (process.env.AGENTID_DEBUG)
      console.log(JSON.stringify(replies.map((r) => ({ ...r.l2, l2Hits: r.store!.l2Hits }))));
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 50, leg2: 50 });
    // 400 calls, 50 acquisitions: the other 350 were served from Redis.
    expect(replies.reduce((n, r) => n + r.store!.l2Hits, 0)).toBe(350);
    expect(replies.reduce((n, r) => n + r.l2!.bypassed + r.l2!.errors, 0)).toBe(0);
  }, 60_000);

  it('killing Redis mid-run loses no request; once it is back, the replicas use it again', async () => {
    const group = replicas.length >= 4 ? replicas.slice(0, 4) : await startReplicas(4);
    const agents = newAgents(20);
    const rounds = 12;
    let killed = false;
    const kill = (n: number) => {
      if (n >= 3 && !killed) {
        killed = true;
        void redis.kill();
      }
    };
    const replies = await Promise.all(
      group.map((r) => r.send({ cmd: 'loop', agents, scope: SCOPE, rounds, pauseMs: 20 }, kill)),
    );
    expect(killed).toBe(true);
    // Nothing hangs: every round (20 agents) finished well inside one lock lease (15 s).
    for (const reply of replies) expect(Math.max(...reply.roundMs!)).toBeLessThan(10_000);
    for (const reply of replies) {
      expect(reply.error).toBeUndefined();
      expect(reply.failures).toEqual([]);
      expect(reply.ok).toBe(rounds * agents.length);
    }
    // Redis was really gone for part of the run: calls were bypassed and the breaker opened.
    expect(replies.some((r) => r.l2!.breakerOpens > 0)).toBe(true);
    expect(replies.reduce((n, r) => n + r.l2!.bypassed, 0)).toBeGreaterThan(0);

    // Back again: after the breaker's cooldown, a cold key is shared through Redis once more.
    await redis.restart();
    const fresh = newAgents(5);
    // Each replica reconnects (backoff up to 2 s) and its breaker closes after a trial call.
    for (const r of group) {
      const until = Date.now() + 15_000;
      while ((await r.send({ cmd: 'probe' })).breaker !== 'closed' && Date.now() < until)
        await new Promise((res) => setTimeout(res, 100));
    }
    emu.counters.reset();
    const after = await Promise.all(group.map((r) => r.send({ cmd: 'tokens', agents: fresh, scope: SCOPE })));
    for (const reply of after) expect(reply.ok).toBe(5);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 5, leg2: 5 });
  }, 60_000);
});
