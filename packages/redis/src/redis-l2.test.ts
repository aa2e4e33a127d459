import { randomBytes } from 'node:crypto';
import { createBlueprint, type L2Entry, secretCredential } from '@agentid/core';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestTracing } from '@agentid/test-support/otel';
import { createRedisL2, type RedisL2, type RedisL2Event } from './redis-l2.js';
import { freePort, startRedis, type TestRedis } from '@agentid/test-support/redis';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';

const encryption = { currentKeyId: 'k1', keys: { k1: randomBytes(32) } };
const entry = (token: string, extra: Partial<L2Entry> = {}): L2Entry => ({
  token,
  expiresOn: Date.now() + 3_600_000,
  usableUntil: Date.now() + 3_300_000,
  refreshOn: Date.now() + 2_700_000,
  meta: { scopes: ['api://tools/.default'], subject: 'agent-1' },
  ...extra,
});

let redis: TestRedis;
let raw: ReturnType<typeof createClient>;
const l2s: RedisL2[] = [];
function l2(options: Partial<Parameters<typeof createRedisL2>[0]> = {}): RedisL2 {
  const made = createRedisL2({ url: redis.url, encryption, ...options } as Parameters<
    typeof createRedisL2
  >[0]);
  l2s.push(made);
  return made;
}
async function ready(made: RedisL2): Promise<void> {
  // The client connects in the background; the first calls before that are bypassed.
  for (let i = 0; i < 200 && (await made.get('warm-up')) === undefined && made.stats().misses === 0; i++)
    await new Promise((r) => setTimeout(r, 10));
}

beforeAll(async () => {
  redis = await startRedis();
  raw = createClient({ url: redis.url });
  raw.on('error', () => undefined);
  await raw.connect();
});
afterEach(async () => {
  await Promise.all(l2s.splice(0).map((x) => x.close()));
});
afterAll(async () => {
  await raw.close();
  await redis.stop();
});

describe('createRedisL2 on a real redis-server', () => {
  it('stores entries encrypted under hashed, namespaced names with the given TTL', async () => {
    const cache = l2({ namespace: 'enc-test' });
    await ready(cache);
    const cacheKey = 'v1|tenant-x|client-y|obo|user:alice-oid|api://tools/Mail.Read';
    await cache.set(cacheKey, entry('eyJ.secret-token.sig'), 60_000);
    const got = await cache.get(cacheKey);
    expect(got?.token).toBe('eyJ.secret-token.sig');
    expect(got?.meta.subject).toBe('agent-1');
    const keys = await raw.keys('enc-test:*');
    expect(keys).toHaveLength(1);
    const [name] = keys as [string];
    for (const clear of ['alice-oid', 'tenant-x', 'Mail.Read', 'client-y']) expect(name).not.toContain(clear);
    const stored = (await raw.get(name)) as string;
    // v2|<written at>|<expires at> (Redis time)|<hashed tags>|<sealed>: nothing readable but the times.
    expect(stored).toMatch(/^v2\|\d{13}\|\d{13}\|\|v1\.k1\./);
    expect(stored).not.toContain('secret-token');
    expect(stored).not.toContain('agent-1');
    const ttl = await raw.pTTL(name);
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    await cache.set('tagged', entry('t', { tags: ['user:alice-oid', 'agent:a-1'] }), 60_000);
    const [taggedName] = (await raw.keys('enc-test:*')).filter((k) => k !== name) as [string];
    const taggedValue = (await raw.get(taggedName)) as string;
    expect(taggedValue).toMatch(/^v2\|\d{13}\|\d{13}\|[A-Za-z0-9_-]{43},[A-Za-z0-9_-]{43}\|v1\.k1\./);
    expect(taggedValue).not.toContain('alice');
    await cache.delete('tagged');
    await cache.delete(cacheKey);
    expect(await raw.exists(name)).toBe(0);
    expect(await cache.get(cacheKey)).toBeUndefined();
    // Non-positive TTLs are not written.
    await cache.set('k0', entry('t'), 0);
    expect(await cache.get('k0')).toBeUndefined();
  });

  it('reads entries written with a rotated-out key; tampered, foreign and unknown-key values are misses', async () => {
    const events: RedisL2Event[] = [];
    const old = l2({ namespace: 'rot' });
    await ready(old);
    await old.set('k', entry('old-token'), 60_000);
    const k2 = randomBytes(32);
    const rotated = l2({
      namespace: 'rot',
      encryption: { currentKeyId: 'k2', keys: { k2, k1: encryption.keys.k1 } },
      onEvent: (e) => events.push(e),
    });
    await ready(rotated);
    expect((await rotated.get('k'))?.token).toBe('old-token');
    await rotated.set('k', entry('new-token'), 60_000);
    const [name] = (await raw.keys('rot:*')) as [string];
    expect((await raw.get(name)) as string).toMatch(/^v2\|\d{13}\|\d{13}\|\|v1\.k2\./);
    // A replica that only has the old key cannot read the new entry: a miss, not an error.
    expect(await old.get('k')).toBeUndefined();
    // Tampered and foreign values.
    await raw.set(name, 'not-ours');
    expect(await rotated.get('k')).toBeUndefined();
    const sealed = (await rotated.set('k', entry('again'), 60_000), (await raw.get(name)) as string);
    await raw.set(name, sealed.slice(0, -4) + 'AAAA');
    expect(await rotated.get('k')).toBeUndefined();
    expect(rotated.stats().decryptFailures).toBe(2);
    expect(
      events.filter((e) => e.type === 'decrypt-failed').map((e) => (e as { reason: string }).reason),
    ).toEqual(['format', 'tampered']);
  });

  it('lock: one holder at a time, increasing fencing tokens, release only by the holder, lease expiry', async () => {
    const a = l2({ namespace: 'lock' });
    const b = l2({ namespace: 'lock' });
    await Promise.all([ready(a), ready(b)]);
    const first = await a.lock!('k', 10_000);
    expect(first?.fencingToken).toBeGreaterThan(0);
    expect(await b.lock!('k', 10_000)).toBeUndefined();
    await first!.release();
    const second = await b.lock!('k', 150);
    expect(second!.fencingToken).toBe(first!.fencingToken + 1);
    await new Promise((r) => setTimeout(r, 250)); // the lease lapses
    const third = await a.lock!('k', 10_000);
    expect(third!.fencingToken).toBe(first!.fencingToken + 2);
    // The lapsed holder's release does not free the new holder's lock.
    await second!.release();
    expect(await b.lock!('k', 10_000)).toBeUndefined();
    expect(b.stats()).toMatchObject({ locksGranted: 1, locksBusy: 2 });
    await third!.release();
  });

  it('fencing: a write under an older fencing token than the newest grant is refused', async () => {
    const events: RedisL2Event[] = [];
    const a = l2({ namespace: 'fence', onEvent: (e) => events.push(e) });
    await ready(a);
    const old = await a.lock!('k', 50);
    await new Promise((r) => setTimeout(r, 100));
    const current = await a.lock!('k', 10_000);
    await a.set('k', entry('stale', { fencingToken: old!.fencingToken }), 60_000);
    expect(await a.get('k')).toBeUndefined();
    await a.set('k', entry('fresh', { fencingToken: current!.fencingToken }), 60_000);
    expect((await a.get('k'))?.token).toBe('fresh');
    expect(a.stats()).toMatchObject({ staleWrites: 1, writes: 1 });
    expect(events.some((e) => e.type === 'stale-write')).toBe(true);
    await current!.release();
  });

  it('validates its options with typed errors', () => {
    expect(() => createRedisL2({ encryption } as never)).toThrow(/exactly one of url or client/);
    expect(() => createRedisL2({ url: 'http://x', encryption })).toThrow(/redis:\/\//);
    expect(() => createRedisL2({ url: redis.url, encryption, namespace: 'a:b' })).toThrow(/namespace/);
    expect(() => createRedisL2({ url: redis.url, encryption, commandTimeoutMs: 0 })).toThrow(
      /commandTimeoutMs/,
    );
    expect(() => createRedisL2({ url: redis.url, encryption, clock: { now: 0 } as never })).toThrow(
      /clock must be an object with a now\(\) method/,
    );
    expect(() => createRedisL2({ client: {} as never, encryption })).toThrow(/node-redis client/);
    expect(() => createRedisL2({ url: redis.url } as never)).toThrow(
      expect.objectContaining({ code: 'AGENTID_INVALID_OPTIONS' }),
    );
  });

  it("works with a client of the caller's own (node-redis), which it does not close", async () => {
    const cache = createRedisL2({ client: raw, encryption, namespace: 'own' });
    await cache.set('k', entry('t-own'), 10_000);
    expect((await cache.get('k'))?.token).toBe('t-own');
    await cache.close();
    expect(raw.isReady).toBe(true);
  });
});

describe('two replicas (blueprints) sharing the Redis L2 with the emulator', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await createEmulator();
  });
  afterAll(() => emu.close());
  const blueprint = (cache: RedisL2, tracerProvider?: ReturnType<typeof createTestTracing>['provider']) =>
    createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: DEMO.blueprints.workers.appId,
      credential: secretCredential(DEMO.blueprints.workers.secret, { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: emu.fetch },
      cache: { l2: cache },
      ...(tracerProvider ? { telemetry: { tracerProvider } } : {}),
    });

  it('the second replica is served from Redis: one request per leg, the right subject', async () => {
    emu.counters.reset();
    const [ca, cb] = [l2({ namespace: 'bp' }), l2({ namespace: 'bp' })];
    await Promise.all([ready(ca), ready(cb)]);
    const [a, b] = [blueprint(ca), blueprint(cb)];
    const t1 = await a.agent(DEMO.agents.mail).getToken(['api://tools/.default']);
    const t2 = await b.agent(DEMO.agents.mail).getToken(['api://tools/.default']);
    expect(t2.token).toBe(t1.token);
    expect(t2.subject).toBe(DEMO.agents.mail);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 1, leg2: 1 });
    expect(b.stats().l2Hits).toBe(1);
    // An agent invalidation on one replica reaches the shared entry: a new replica misses.
    await a.invalidate({ agent: DEMO.agents.mail });
    const cc = l2({ namespace: 'bp' });
    await ready(cc);
    const c = blueprint(cc);
    const t3 = await c.agent(DEMO.agents.mail).getToken(['api://tools/.default']);
    expect(t3.token).not.toBe(t1.token);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 2, leg2: 2 });
    // ...and the token written after the invalidation is shared again.
    const d = blueprint(l2({ namespace: 'bp' }));
    await ready(l2s.at(-1)!);
    expect((await d.agent(DEMO.agents.mail).getToken(['api://tools/.default'])).token).toBe(t3.token);
    // 'all' drops every entry of this blueprint from the shared cache.
    await c.invalidate('all');
    const e = blueprint(l2({ namespace: 'bp' }));
    await ready(l2s.at(-1)!);
    expect((await e.agent(DEMO.agents.mail).getToken(['api://tools/.default'])).token).not.toBe(t3.token);
  });

  it('Redis unreachable: requests still succeed (L1 + direct), the breaker opens, spans say the L2 was bypassed', async () => {
    const tracing = createTestTracing();
    try {
      emu.counters.reset();
      const events: RedisL2Event[] = [];
      const logged: Record<string, unknown>[] = [];
      const reader = new PeriodicExportingMetricReader({
        exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
        exportIntervalMillis: 3_600_000,
      });
      const down = createRedisL2({
        url: `redis://127.0.0.1:${await freePort()}`,
        encryption,
        breaker: { failureThreshold: 2, cooldownMs: 60_000 },
        onEvent: (e) => events.push(e),
        meterProvider: new MeterProvider({ readers: [reader] }),
        logger: { warn: (message: string, fields?: object) => void logged.push({ message, ...fields }) },
      });
      l2s.push(down);
      const bp = blueprint(down, tracing.provider);
      const agents = [DEMO.agents.mail, DEMO.agents.calendar, DEMO.agents.reporter];
      const tokens = await Promise.all(agents.map((a) => bp.agent(a).getToken(['api://reports/.default'])));
      expect(tokens.map((t) => t.subject)).toEqual(agents);
      expect(down.breakerState).toBe('open');
      expect(down.stats().bypassed).toBeGreaterThan(0);
      expect(events.some((e) => e.type === 'breaker' && e.state === 'open')).toBe(true);
      // The breaker's state as a metric (1 for the current state) and its opening logged.
      const { resourceMetrics } = await reader.collect();
      const gauge = resourceMetrics.scopeMetrics
        .flatMap((m) => m.metrics)
        .find((m) => m.descriptor.name === 'agentid.cache.l2.breaker.state');
      expect(
        Object.fromEntries(gauge!.dataPoints.map((p) => [p.attributes['agentid.breaker.state'], p.value])),
      ).toEqual({ closed: 0, open: 1, half_open: 0 });
      expect(logged).toContainEqual(
        expect.objectContaining({ state: 'open', previous: 'closed', namespace: 'agentid' }),
      );
      const degraded = tracing.spans().filter((s) => s.attributes['agentid.l2.degraded'] === true);
      expect(degraded.length).toBeGreaterThan(0);
      expect(degraded[0]!.events.some((e) => e.name === 'agentid.l2.bypass')).toBe(true);
      // L1 still serves: no more requests for the same tokens.
      const before = emu.counters.tokenRequests();
      await Promise.all(agents.map((a) => bp.agent(a).getToken(['api://reports/.default'])));
      expect(emu.counters.tokenRequests()).toBe(before);
    } finally {
      await tracing.close();
    }
  });
});
