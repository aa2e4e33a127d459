// The shared Redis cache under failure: invalidations that cannot reach Redis, lock leases shorter
// than an acquisition (a 429 with Retry-After), and replicas used before their client connected.
// Real redis-server, the emulator, and for the cold start separate processes (built dist: run
// `npm run build -w @agentid/core -w @agentid/redis -w @agentid/emulator` first).
import { randomBytes } from 'node:crypto';
import { type Blueprint, createBlueprint, L2UnavailableError, secretCredential } from '@agentid/core';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { createRedisL2, type RedisL2, type RedisL2Event, type RedisL2Options } from '@agentid/redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  Replica,
  startRedis,
  startTcpProxy,
  type TcpProxy,
  type TestRedis,
} from '@agentid/test-support/redis';

const W = DEMO.blueprints.workers;
const SCOPE = ['api://tools/.default'];
const encryption = { currentKeyId: 'k1', keys: { k1: randomBytes(32).toString('base64') } };
let redis: TestRedis;
let emu: Emulator;
const l2s: RedisL2[] = [];
let ns = 0;

function l2(options: Partial<RedisL2Options> = {}): RedisL2 {
  const made = createRedisL2({ url: redis.url, encryption, ...options });
  l2s.push(made);
  return made;
}
const blueprint = (cache: RedisL2, network: { retries?: number } = {}): Blueprint =>
  createBlueprint({
    tenantId: DEMO.tenantId,
    clientId: W.appId,
    credential: secretCredential(W.secret, { silenceWarning: true }),
    authorityHost: emu.baseUrl,
    network: { fetch: emu.fetch, ...network },
    cache: { l2: cache },
    telemetry: { logger: { debug() {}, info() {}, warn() {}, error() {} } },
  });
const newAgent = () =>
  emu.directory.createAgentIdentity(DEMO.tenantId, {
    blueprintAppId: W.appId,
    sponsors: [DEMO.users.sponsor.id],
  }).id;
const statuses = (grant: 'leg1' | 'leg2') => emu.counters.requests({ grant }).map((r) => r.status);

beforeAll(async () => {
  redis = await startRedis();
  emu = await createEmulator();
});
afterEach(async () => {
  emu.faults.clear();
  await Promise.all(l2s.splice(0).map((x) => x.close()));
});
afterAll(async () => {
  await emu.close();
  await redis.stop();
});

describe('an invalidation that cannot reach Redis', () => {
  let proxy: TcpProxy;
  beforeAll(async () => {
    proxy = await startTcpProxy(redis.port);
  });
  afterAll(() => proxy.close());

  it('rejects with AGENTID_SHARED_CACHE_UNAVAILABLE, and the replica never serves the shared entries it covers; once Redis is back it tells the others', async () => {
    const namespace = `inv-${++ns}`;
    const agent = newAgent();
    // B reaches Redis through a proxy we can cut; A and the later replicas directly.
    const events: RedisL2Event[] = [];
    const lb = l2({
      url: proxy.url,
      namespace,
      breaker: { failureThreshold: 1, cooldownMs: 200 },
      onEvent: (e) => events.push(e),
    });
    const [la, lc] = [l2({ namespace }), l2({ namespace })];
    await Promise.all([la.ready(), lb.ready(), lc.ready()]);
    const [a, b, c] = [blueprint(la), blueprint(lb), blueprint(lc)];
    emu.counters.reset();
    const old = await a.agent(agent).getToken(SCOPE);
    expect((await b.agent(agent).getToken(SCOPE)).token).toBe(old.token);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 1, leg2: 1 });

    proxy.cut();
    for (let i = 0; i < 200 && !events.some((e) => e.type === 'connection' && e.state === 'lost'); i++)
      await new Promise((r) => setTimeout(r, 10));
    const failed = await b.invalidate({ agent }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(L2UnavailableError);
    expect(failed).toMatchObject({ code: 'AGENTID_SHARED_CACHE_UNAVAILABLE', retryable: true });
    // Why it must not pass silently: the shared entry is still there for every other replica.
    expect((await c.agent(agent).getToken(SCOPE)).token).toBe(old.token);

    // Redis is reachable again (the breaker half-opens after its cooldown): B does not serve the
    // old token from Redis, it first tells Redis of the invalidation, then acquires anew.
    proxy.restore();
    await lb.ready(5_000);
    await new Promise((r) => setTimeout(r, 250));
    const renewed = await b.agent(agent).getToken(SCOPE);
    expect(renewed.token).not.toBe(old.token);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 2, leg2: 2 });
    // ...and the invalidation reached the others: a fresh replica gets B's new token, not the old one.
    const ld = l2({ namespace });
    await ld.ready();
    expect((await blueprint(ld).agent(agent).getToken(SCOPE)).token).toBe(renewed.token);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 2, leg2: 2 });
  });
});

describe('lock leases shorter than an acquisition', () => {
  it('a 429 whose Retry-After outlasts the lease: the holder renews it, K replicas make exactly one request per leg', async () => {
    const namespace = `lease-${++ns}`;
    const agent = newAgent();
    const K = 4;
    // Lease 300 ms, Retry-After 1 s on each leg: without renewal the lease lapses and a waiter
    // takes the lock and asks again.
    const caches = Array.from({ length: K }, () => l2({ namespace, lockLeaseMs: 300 }));
    await Promise.all(caches.map((x) => x.ready()));
    const replicas = caches.map((x) => blueprint(x));
    emu.counters.reset();
    emu.faults.add({ kind: 'status', status: 429, retryAfterSec: 1, grant: 'leg1', times: 1 });
    emu.faults.add({ kind: 'status', status: 429, retryAfterSec: 1, grant: 'leg2', times: 1 });
    const tokens = await Promise.all(replicas.map((r) => r.agent(agent).getToken(SCOPE)));
    expect(new Set(tokens.map((t) => t.token)).size).toBe(1);
    // One request per leg, answered 429 once and retried after Retry-After by the same holder.
    expect(statuses('leg1')).toEqual([429, 200]);
    expect(statuses('leg2')).toEqual([429, 200]);
    expect(caches.reduce((n, x) => n + x.stats().locksRenewed, 0)).toBeGreaterThan(0);
    expect(caches.reduce((n, x) => n + x.stats().bypassed + x.stats().errors, 0)).toBe(0);
  }, 30_000);
});

describe('fresh replica processes used at once (cold start)', () => {
  let httpEmu: Emulator;
  const replicas: Replica[] = [];
  const AUTHORITY = 'https://login.agentid.test';
  beforeAll(async () => {
    httpEmu = await createEmulator({ inProcessBaseUrl: AUTHORITY });
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    await httpEmu.close();
  });

  it('4 processes created from a url and used at once: one request per leg per agent, nothing bypassed', async () => {
    const emulatorUrl = (await httpEmu.listen({ https: false })).httpUrl!;
    const agents = Array.from(
      { length: 5 },
      () =>
        httpEmu.directory.createAgentIdentity(DEMO.tenantId, {
          blueprintAppId: W.appId,
          sponsors: [DEMO.users.sponsor.id],
        }).id,
    );
    const config = {
      redisUrl: redis.url,
      encryption,
      emulatorUrl,
      authorityHost: AUTHORITY,
      tenantId: DEMO.tenantId,
      clientId: W.appId,
      secret: W.secret,
      coldAgents: agents,
      scope: 'api://reports/.default',
    };
    httpEmu.counters.reset();
    const started = await Promise.all(Array.from({ length: 4 }, () => Replica.start(config)));
    replicas.push(...started);
    for (const r of started) {
      expect(r.first.cold?.failures).toEqual([]);
      expect(r.first.cold?.ok).toBe(agents.length);
      expect(r.first.cold?.l2?.bypassed).toBe(0);
    }
    expect(httpEmu.counters.snapshot().byGrant).toEqual({ leg1: agents.length, leg2: agents.length });
  }, 60_000);
});

describe('ready()', () => {
  it('resolves once connected; rejects with AGENTID_SHARED_CACHE_UNAVAILABLE when Redis cannot be reached within the bound', async () => {
    await expect(l2({ namespace: 'ready' }).ready()).resolves.toBeUndefined();
    const down = l2({ url: `redis://127.0.0.1:${await freePort()}`, connectTimeoutMs: 200 });
    const t0 = Date.now();
    const error = await down.ready().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(L2UnavailableError);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    // First use of an L2 that cannot connect waits at most the bound, then bypasses (a miss).
    const t1 = Date.now();
    expect(
      await l2({ url: `redis://127.0.0.1:${await freePort()}`, connectTimeoutMs: 200 }).get('k'),
    ).toBeUndefined();
    expect(Date.now() - t1).toBeLessThan(1_000);
    expect(() => l2({ connectTimeoutMs: 0 })).toThrow(/connectTimeoutMs/);
    expect(() => l2({ lockLeaseMs: 1 })).toThrow(/lockLeaseMs/);
  });
});
