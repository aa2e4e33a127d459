import { randomBytes } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import { ConfigurationError, type L2Cache, type L2Entry, type L2Lock } from '@agentid/core';
import { createClient } from 'redis';
import { type BreakerState, type CircuitBreakerOptions, createCircuitBreaker } from './breaker.js';
import { createKeyring, type DecryptFailure, type EncryptionKeys, keyNamer } from './keyring.js';

/**
 * The commands the L2 uses, as a node-redis (v4 or v5) client offers them. Pass your own client
 * when you already have one (you connect and close it); or pass `url` and the L2 owns one.
 *
 * @example
 * ```ts
 * const client = createClient({ url: 'redis://127.0.0.1:6379', disableOfflineQueue: true });
 * await client.connect();
 * createRedisL2({ client, encryption });
 * ```
 */
export interface RedisCommandClient {
  /** GET a key. */
  get(key: string): Promise<unknown>;
  /** DEL one or more keys. */
  del(keys: string | string[]): Promise<unknown>;
  /** EVAL a Lua script. */
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** node-redis' readiness flag: when `false`, calls are not attempted (they would queue or fail). */
  readonly isReady?: boolean;
}

/** The L2 operations, as named in events and span attributes. */
export type RedisL2Operation = 'get' | 'set' | 'delete' | 'lock' | 'release' | 'invalidate';

/**
 * What the L2 reports. Errors are Redis or network errors; values in Redis are ciphertext, so
 * no event carries a token.
 *
 * @example
 * ```ts
 * onEvent: (e) => { if (e.type === 'breaker') metrics.gauge('agentid_l2_open', e.state === 'open' ? 1 : 0); }
 * ```
 */
export type RedisL2Event =
  | { type: 'breaker'; state: BreakerState; previous: BreakerState }
  | { type: 'error'; operation: RedisL2Operation; error: unknown }
  | { type: 'bypass'; operation: RedisL2Operation }
  | { type: 'decrypt-failed'; reason: DecryptFailure }
  | { type: 'stale-write' }
  | { type: 'connection'; state: 'ready' | 'lost' };

/**
 * Counters since creation.
 *
 * @example
 * ```ts
 * const { hits, bypassed } = l2.stats();
 * ```
 */
export interface RedisL2Stats {
  hits: number;
  misses: number;
  writes: number;
  /** Writes refused because a newer lock holder exists (fencing). */
  staleWrites: number;
  locksGranted: number;
  locksBusy: number;
  /** Calls that failed (error or timeout). */
  errors: number;
  /** Calls not made because the breaker was open or the client not connected. */
  bypassed: number;
  /** Entries that did not decrypt (tampered, unknown key id, not ours): treated as misses. */
  decryptFailures: number;
  breakerOpens: number;
}

/**
 * Options of {@link createRedisL2}. Give `url` or `client`, and `encryption`.
 *
 * @example
 * ```ts
 * const options: RedisL2Options = { url: process.env.REDIS_URL, namespace: 'mail-agent', encryption: { currentKeyId: 'k1', keys: { k1: process.env.AGENTID_L2_KEY! } } };
 * ```
 */
export interface RedisL2Options {
  /** A Redis URL (`redis://`, `rediss://`): the L2 creates, connects and (on `close()`) closes its client. */
  url?: string;
  /** Or a client of yours; see {@link RedisCommandClient}. Set node-redis' `disableOfflineQueue: true` on it. */
  client?: RedisCommandClient;
  /** AES-256-GCM keys; entries are always encrypted. */
  encryption: EncryptionKeys;
  /** Prefix of every key. Default `agentid`. Services that must not share tokens use different namespaces. */
  namespace?: string;
  /** Keys the HMAC that names entries. Default: derived from the namespace. Set it so names cannot be confirmed by guessing. */
  hashSecret?: string | Uint8Array;
  /** A slower Redis call counts as failed. Default 500. */
  commandTimeoutMs?: number;
  breaker?: CircuitBreakerOptions;
  /** Hears breaker changes, errors, bypasses, decrypt failures and stale writes. */
  onEvent?: (event: RedisL2Event) => void;
  /** Time source of the breaker. Default `Date.now`. */
  now?: () => number;
}

/**
 * An {@link L2Cache} on Redis, with its counters, breaker state and `close()`.
 *
 * @example
 * ```ts
 * const l2 = createRedisL2({ url, encryption });
 * const blueprint = createBlueprint({ ..., cache: { l2 } });
 * process.on('SIGTERM', () => l2.close());
 * ```
 */
export interface RedisL2 extends L2Cache {
  readonly breakerState: BreakerState;
  /** Counters since creation. */
  stats(): RedisL2Stats;
  /** Closes the client if the L2 created it (from `url`). */
  close(): Promise<void>;
}

/** The value is a token's lock owner id; returns the new fencing token, or false when held. */
const LOCK = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local fence = redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return fence
end
return false`;

/** Deletes the lock only if we still own it (a holder whose lease lapsed must not free another's). */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Refuses a write under a fencing token older than the newest grant for the key. The stored value
 * is `<written at, Redis time ms>|<hashed tag names>|<sealed entry>`: the server's clock, so tag
 * invalidations from replicas with skewed clocks compare correctly.
 */
const SET = `
if ARGV[3] ~= '' then
  local current = tonumber(redis.call('GET', KEYS[2]) or '0')
  if current > tonumber(ARGV[3]) then return 0 end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], now .. '|' .. ARGV[4] .. '|' .. ARGV[1], 'PX', ARGV[2])
return 1`;

/** Reads an entry unless one of its tags was invalidated at or after it was written (one round trip). */
const GET = `
local v = redis.call('GET', KEYS[1])
if not v then return false end
local p1 = string.find(v, '|', 1, true)
if not p1 then return v end
local p2 = string.find(v, '|', p1 + 1, true)
if not p2 then return v end
local written = tonumber(string.sub(v, 1, p1 - 1)) or 0
for tag in string.gmatch(string.sub(v, p1 + 1, p2 - 1), '[^,]+') do
  local at = redis.call('GET', ARGV[1] .. tag)
  if at and tonumber(at) >= written then return false end
end
return string.sub(v, p2 + 1)`;

/** Records "every entry with this tag written until now is invalid", on the server's clock. */
const INVALIDATE = `
local t = redis.call('TIME')
redis.call('SET', KEYS[1], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), 'PX', ARGV[1])
return 1`;

/** Longer than any token's lifetime: a tag invalidation must outlive the entries it covers. */
const TAG_TTL_MS = String(48 * 3600 * 1000);

const FENCE_TTL_MS = String(24 * 3600 * 1000);
const NAMESPACE = /^[A-Za-z0-9._-]{1,64}$/;

class RedisUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnavailable';
  }
}

/** One reconnect delay: exponential from 50 ms to 2 s, with jitter so replicas do not reconnect in step. */
function reconnectDelay(retries: number): number {
  const base = Math.min(50 * 2 ** Math.min(retries, 10), 2_000);
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/**
 * Creates a Redis {@link L2Cache} for `createBlueprint({ cache: { l2 } })`: entries encrypted
 * with AES-256-GCM (key id in every value, AAD binds the value to its key), key names hashed and
 * namespaced, TTL = the token's usable lifetime, a lock with a lease and fencing tokens for
 * distributed single-flight, and a circuit breaker: when Redis fails or is slow, calls are bypassed
 * (a miss, no lock) so requests fall back to L1 and a direct acquisition; never an error to the caller.
 *
 * @example
 * ```ts
 * const l2 = createRedisL2({ url: 'redis://127.0.0.1:6379', encryption: { currentKeyId: 'k1', keys: { k1: process.env.AGENTID_L2_KEY! } } });
 * ```
 */
export function createRedisL2(options: RedisL2Options): RedisL2 {
  if (!options || typeof options !== 'object') throw new ConfigurationError('createRedisL2: options are required');
  if ((options.url === undefined) === (options.client === undefined)) throw new ConfigurationError('createRedisL2: give exactly one of url or client');
  const namespace = options.namespace ?? 'agentid';
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) throw new ConfigurationError('createRedisL2: namespace must be 1-64 characters of A-Z a-z 0-9 . _ -');
  const timeoutMs = options.commandTimeoutMs ?? 500;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new ConfigurationError('createRedisL2: commandTimeoutMs must be a positive number');
  const ring = createKeyring(options.encryption);
  const name = keyNamer(namespace, options.hashSecret);
  const tagPrefix = `${namespace}:tag:`;
  const tagName = (tag: string) => name(`tag\0${tag}`, 'entry').slice(namespace.length + 2, -3);
  const now = options.now ?? Date.now;
  const emit = (event: RedisL2Event) => {
    try {
      options.onEvent?.(event);
    } catch {
      // A listener's failure is not the L2's.
    }
  };
  const stats: RedisL2Stats = { hits: 0, misses: 0, writes: 0, staleWrites: 0, locksGranted: 0, locksBusy: 0, errors: 0, bypassed: 0, decryptFailures: 0, breakerOpens: 0 };
  const breaker = createCircuitBreaker(options.breaker ?? {}, now, (state, previous) => {
    if (state === 'open') stats.breakerOpens += 1;
    emit({ type: 'breaker', state, previous });
  });

  let client: RedisCommandClient;
  let owned: ReturnType<typeof createClient> | undefined;
  if (options.url !== undefined) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new ConfigurationError('createRedisL2: url must be a redis:// or rediss:// URL');
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new ConfigurationError('createRedisL2: url must be a redis:// or rediss:// URL');
    owned = createClient({
      url: options.url,
      // Fail fast while disconnected instead of queueing: the breaker and L1 take over.
      disableOfflineQueue: true,
      socket: { connectTimeout: Math.max(timeoutMs, 1_000), reconnectStrategy: reconnectDelay },
    });
    owned.on('error', () => {
      // Reported through failing calls; node-redis would otherwise crash on an unhandled 'error'.
    });
    owned.on('ready', () => emit({ type: 'connection', state: 'ready' }));
    owned.on('end', () => emit({ type: 'connection', state: 'lost' }));
    owned.on('reconnecting', () => emit({ type: 'connection', state: 'lost' }));
    owned.connect().catch(() => undefined);
    client = owned as unknown as RedisCommandClient;
  } else {
    client = options.client!;
    if (!client || typeof client.get !== 'function' || typeof client.eval !== 'function' || typeof client.del !== 'function') {
      throw new ConfigurationError('createRedisL2: client must be a node-redis client (get, del, eval)');
    }
  }

  function note(operation: RedisL2Operation, reason: 'breaker-open' | 'not-connected' | 'error') {
    const span = trace.getActiveSpan();
    span?.setAttribute('agentid.l2.degraded', true);
    span?.addEvent('agentid.l2.bypass', { 'agentid.l2.operation': operation, 'agentid.l2.reason': reason });
  }

  /** Runs one Redis call under the breaker and the timeout; BYPASS when not attempted. */
  const BYPASS = Symbol('bypass');
  async function run<T>(operation: RedisL2Operation, fn: () => Promise<T>): Promise<T | typeof BYPASS> {
    // A release is always attempted while connected, even with the breaker open: a lock left
    // behind makes every peer wait out the lease.
    if (client.isReady === false || (operation !== 'release' && !breaker.allow())) {
      if (client.isReady === false && breaker.state === 'closed') breaker.failure();
      stats.bypassed += 1;
      emit({ type: 'bypass', operation });
      note(operation, breaker.state === 'closed' ? 'not-connected' : 'breaker-open');
      return BYPASS;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new RedisUnavailable(`Redis ${operation} timed out after ${timeoutMs} ms`)), timeoutMs);
          timer.unref?.();
        }),
      ]);
      breaker.success();
      return result;
    } catch (error) {
      breaker.failure();
      stats.errors += 1;
      emit({ type: 'error', operation, error });
      note(operation, 'error');
      throw error instanceof Error ? error : new RedisUnavailable(`Redis ${operation} failed`);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    get breakerState() {
      return breaker.state;
    },
    stats: () => ({ ...stats }),
    async get(key) {
      const entryKey = name(key, 'entry');
      const raw = await run('get', () => client.eval(GET, { keys: [entryKey], arguments: [tagPrefix] }));
      if (raw === BYPASS) return undefined;
      if (raw === null || raw === undefined || raw === false) {
        stats.misses += 1;
        return undefined;
      }
      const opened = ring.open(String(raw), entryKey);
      if (!opened.ok) {
        stats.decryptFailures += 1;
        stats.misses += 1;
        emit({ type: 'decrypt-failed', reason: opened.reason });
        return undefined;
      }
      try {
        const entry = JSON.parse(opened.plaintext) as L2Entry;
        stats.hits += 1;
        return entry;
      } catch {
        stats.decryptFailures += 1;
        stats.misses += 1;
        emit({ type: 'decrypt-failed', reason: 'format' });
        return undefined;
      }
    },
    async set(key, entry, ttlMs) {
      if (!(ttlMs > 0)) return;
      const entryKey = name(key, 'entry');
      const sealed = ring.seal(JSON.stringify(entry), entryKey);
      const fence = entry.fencingToken === undefined ? '' : String(entry.fencingToken);
      const tags = (entry.tags ?? []).map(tagName).join(',');
      const r = await run('set', () => client.eval(SET, { keys: [entryKey, name(key, 'fence')], arguments: [sealed, String(Math.ceil(ttlMs)), fence, tags] }));
      if (r === BYPASS) return;
      if (Number(r) === 1) stats.writes += 1;
      else {
        stats.staleWrites += 1;
        emit({ type: 'stale-write' });
      }
    },
    async delete(key) {
      const r = await run('delete', () => client.del(name(key, 'entry')));
      // An invalidation that did not reach Redis must not pass silently: the entry is still there.
      if (r === BYPASS) throw new RedisUnavailable('Redis unavailable: the entry could not be deleted');
    },
    async invalidateTag(tag) {
      const r = await run('invalidate', () => client.eval(INVALIDATE, { keys: [tagPrefix + tagName(tag)], arguments: [TAG_TTL_MS] }));
      if (r === BYPASS) throw new RedisUnavailable('Redis unavailable: the tag could not be invalidated');
    },
    async lock(key, leaseMs): Promise<L2Lock | undefined> {
      const lockKey = name(key, 'lock');
      const owner = randomBytes(16).toString('hex');
      const lease = String(Math.max(1, Math.ceil(leaseMs)));
      const r = await run('lock', () => client.eval(LOCK, { keys: [lockKey, name(key, 'fence')], arguments: [owner, lease, FENCE_TTL_MS] }));
      // Bypassed: no lock, so the caller acquires directly (the core store treats `undefined` from
      // a failed lock call the same way).
      if (r === BYPASS) throw new RedisUnavailable('Redis unavailable: no lock');
      if (r === null || r === undefined || r === false) {
        stats.locksBusy += 1;
        return undefined;
      }
      stats.locksGranted += 1;
      const fencingToken = Number(r);
      return {
        fencingToken,
        release: async () => {
          await run('release', () => client.eval(RELEASE, { keys: [lockKey], arguments: [owner] }));
        },
      };
    },
    async close() {
      if (owned === undefined) return;
      const c = owned;
      owned = undefined;
      try {
        if (c.isOpen) await c.close();
      } catch {
        c.destroy();
      }
    },
  };
}
