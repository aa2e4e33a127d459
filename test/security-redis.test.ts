// Hostile Redis: someone who can write to the shared Redis must not make a replica serve a token it
// should not (an invalidated one, or another key's). Every field of a stored value that decides
// whether it is served is tampered with in a real redis-server, one at a time.
import { randomBytes } from 'node:crypto';
import { createBlueprint, type L2Entry, secretCredential } from '@agentid/core';
import { cacheTags } from '@agentid/core/broker';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { createKeyring, createRedisL2, keyNamer, type RedisL2, type RedisL2Event } from '@agentid/redis';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '@agentid/test-support/redis';

const encryption = { currentKeyId: 'k1', keys: { k1: randomBytes(32) } };
const entry = (token: string, tags: string[]): L2Entry => ({
  token,
  expiresOn: Date.now() + 3_600_000,
  usableUntil: Date.now() + 3_300_000,
  refreshOn: Date.now() + 2_700_000,
  meta: { scopes: ['api://tools/.default'], subject: 'agent-1' },
  tags,
});

let redis: TestRedis;
let raw: ReturnType<typeof createClient>;
const made: RedisL2[] = [];
let ns = 0;

async function replica(namespace: string, events?: RedisL2Event[]): Promise<RedisL2> {
  const l2 = createRedisL2({
    url: redis.url,
    encryption,
    namespace,
    ...(events ? { onEvent: (e: RedisL2Event) => events.push(e) } : {}),
  });
  made.push(l2);
  await l2.ready();
  return l2;
}

/**
 * The fields of a stored value, whatever its layout: `<written>|<tags>|<sealed>` (the old one) or
 * `v2|<written>|<expires>|<tags>|<sealed>`. Lets each tamper work on either, so that these tests
 * also show what the old layout let through.
 */
function edit(
  value: string,
  change: { written?: (w: number) => number; tags?: string; expires?: (e: number) => number },
): string {
  const parts = value.split('|');
  const at = parts[0] === 'v2' ? { written: 1, expires: 2, tags: 3 } : { written: 0, expires: -1, tags: 1 };
  if (change.written) parts[at.written] = String(change.written(Number(parts[at.written])));
  if (change.tags !== undefined) parts[at.tags] = change.tags;
  if (change.expires && at.expires >= 0)
    parts[at.expires] = String(change.expires(Number(parts[at.expires])));
  return parts.join('|');
}

beforeAll(async () => {
  redis = await startRedis();
  raw = createClient({ url: redis.url });
  raw.on('error', () => undefined);
  await raw.connect();
});
afterEach(async () => {
  await Promise.all(made.splice(0).map((l2) => l2.close()));
});
afterAll(async () => {
  await raw.close();
  await redis.stop();
});

describe('a tampered value in the shared Redis is never served', () => {
  /** Writes one tagged entry, invalidates its tag, and returns the Redis name and the stored value. */
  async function invalidatedEntry(namespace: string): Promise<{ name: string; value: string }> {
    const writer = await replica(namespace);
    await writer.set('k', entry('invalidated-token', ['agent:x']), 60_000);
    await new Promise((r) => setTimeout(r, 5));
    await writer.invalidateTag!('agent:x');
    const name = keyNamer(namespace)('k', 'entry');
    const value = (await raw.get(name)) as string;
    expect(value).toBeTruthy();
    // As written: invalidated, a miss for everyone.
    expect(await (await replica(namespace)).get('k')).toBeUndefined();
    return { name, value };
  }

  it.each([
    ['a written-at moved past the invalidation', { written: (w: number) => w + 3_600_000 }],
    ['the tags emptied', { tags: '' }],
    ['the tags replaced by another (never invalidated) tag', { tags: 'A'.repeat(43) }],
  ])('%s: a fresh replica refuses it, counted as a decrypt failure', async (_name, change) => {
    const namespace = `tamper-${++ns}`;
    const { name, value } = await invalidatedEntry(namespace);
    const pttl = await raw.pTTL(name);
    await raw.set(name, edit(value, change), { PX: pttl });
    const events: RedisL2Event[] = [];
    const fresh = await replica(namespace, events);
    expect(await fresh.get('k')).toBeUndefined();
    expect(fresh.stats()).toMatchObject({ hits: 0, misses: 1, decryptFailures: 1 });
    expect(events).toContainEqual({ type: 'decrypt-failed', reason: 'tampered' });
  });

  it('an expiry pushed out (and the key made persistent): refused', async () => {
    const namespace = `tamper-${++ns}`;
    const writer = await replica(namespace);
    await writer.set('k', entry('short-lived', []), 60_000);
    const name = keyNamer(namespace)('k', 'entry');
    const value = (await raw.get(name)) as string;
    expect(value.startsWith('v2|')).toBe(true);
    await raw.set(name, edit(value, { expires: (e) => e + 86_400_000 }));
    const fresh = await replica(namespace);
    expect(await fresh.get('k')).toBeUndefined();
    expect(fresh.stats()).toMatchObject({ hits: 0, decryptFailures: 1 });
  });

  it("a value copied under another key's name: refused", async () => {
    const namespace = `tamper-${++ns}`;
    const writer = await replica(namespace);
    await writer.set('agent-x-key', entry('token-of-x', []), 60_000);
    await writer.set('agent-y-key', entry('token-of-y', []), 60_000);
    const name = keyNamer(namespace);
    await raw.set(name('agent-y-key', 'entry'), (await raw.get(name('agent-x-key', 'entry'))) as string, {
      PX: 60_000,
    });
    const fresh = await replica(namespace);
    expect(await fresh.get('agent-y-key')).toBeUndefined();
    expect((await fresh.get('agent-x-key'))?.token).toBe('token-of-x');
    expect(fresh.stats()).toMatchObject({ hits: 1, decryptFailures: 1 });
  });

  it('a value in the old layout (written-at and tags outside the authenticated data): refused cleanly as a miss', async () => {
    const namespace = `tamper-${++ns}`;
    const name = keyNamer(namespace)('k', 'entry');
    // Exactly what the previous version wrote: <written at>|<hashed tags>|<sealed, bound to the key name only>.
    const sealed = createKeyring(encryption).seal(JSON.stringify(entry('old-layout-token', [])), name);
    await raw.set(name, `${Date.now() + 3_600_000}||${sealed}`, { PX: 60_000 });
    const events: RedisL2Event[] = [];
    const fresh = await replica(namespace, events);
    expect(await fresh.get('k')).toBeUndefined();
    expect(fresh.stats()).toMatchObject({ hits: 0, misses: 1, decryptFailures: 1 });
    expect(events).toContainEqual({ type: 'decrypt-failed', reason: 'format' });
  });

  describe('end to end: blueprints and the emulator', () => {
    let emu: Emulator;
    beforeAll(async () => {
      emu = await createEmulator();
    });
    afterAll(() => emu.close());
    const blueprint = (l2: RedisL2) =>
      createBlueprint({
        tenantId: DEMO.tenantId,
        clientId: DEMO.blueprints.workers.appId,
        credential: secretCredential(DEMO.blueprints.workers.secret, { silenceWarning: true }),
        authorityHost: emu.baseUrl,
        network: { fetch: emu.fetch },
        cache: { l2 },
      });

    it('after invalidate({ agent }), values replayed with a later written-at and no tags do not give a fresh replica the invalidated token', async () => {
      const namespace = `tamper-${++ns}`;
      const a = blueprint(await replica(namespace));
      const old = await a.agent(DEMO.agents.mail).getToken(['api://tools/.default']);
      const names = (await raw.keys(`${namespace}:*:t`)) as string[];
      // The agent's token and its exchange token (T1).
      expect(names).toHaveLength(2);
      const values = await Promise.all(names.map(async (n) => [n, (await raw.get(n)) as string] as const));
      await new Promise((r) => setTimeout(r, 5));
      await a.invalidate({ agent: DEMO.agents.mail });
      for (const [n, v] of values)
        await raw.set(n, edit(v, { written: (w) => w + 3_600_000, tags: '' }), { PX: 60_000 });
      const l2 = await replica(namespace);
      const fresh = await blueprint(l2).agent(DEMO.agents.mail).getToken(['api://tools/.default']);
      expect(fresh.token).not.toBe(old.token);
      expect(l2.stats().hits).toBe(0);
      expect(l2.stats().decryptFailures).toBeGreaterThanOrEqual(2);
      // The invalidation itself is recorded under a hashed tag name: no agent id in Redis.
      for (const k of (await raw.keys(`${namespace}:*`)) as string[])
        expect(k).not.toContain(cacheTags.agent(DEMO.agents.mail));
    });
  });
});
