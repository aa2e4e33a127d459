import { randomBytes } from 'node:crypto';
import { type MeterProvider, trace } from '@opentelemetry/api';
import {
  type Clock,
  ConfigurationError,
  L2UnavailableError,
  type L2Cache,
  type L2Entry,
  type L2Lock,
  type Logger,
} from '@agentid/core';
import { createClient } from 'redis';
import { type BreakerState, type CircuitBreakerOptions, createCircuitBreaker } from './breaker.js';
import { createKeyring, type DecryptFailure, type EncryptionKeys, keyNamer } from './keyring.js';
import { breakerTelemetry } from './telemetry.js';
import { GET, INVALIDATE, LOCK, RELEASE, RENEW, SET, TIME } from './scripts.js';
import { boundTo, encodeValue, parseValue } from './value.js';

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
export type RedisL2Operation = 'get' | 'set' | 'delete' | 'lock' | 'release' | 'renew' | 'invalidate';

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
  /** Leases extended by their holder while it acquired. */
  locksRenewed: number;
  /** Calls that failed (error or timeout). */
  errors: number;
  /** Calls not made because the breaker was open or the client not connected. */
  bypassed: number;
  /** Entries that did not decrypt (tampered, unknown key id, not ours, an older layout): treated as misses. */
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
  /**
   * How long calls wait for the first connection (a fresh process: the client is still
   * connecting) before they are bypassed, and the default bound of `ready()`. Default 1 000.
   */
  connectTimeoutMs?: number;
  /**
   * The lease of a lock in Redis, whatever the token store asks (its `lockLeaseMs`, 15 s). The
   * holder renews it every third of it while it acquires, so a short lease frees the waiters of
   * a holder that died sooner without letting them repeat a slow acquisition. Default: the store's.
   */
  lockLeaseMs?: number;
  breaker?: CircuitBreakerOptions;
  /** Hears breaker changes, errors, bypasses, decrypt failures and stale writes. */
  onEvent?: (event: RedisL2Event) => void;
  /** Time source of the breaker (its cooldown). Default: the system clock. */
  clock?: Clock;
  /** Where breaker transitions are logged (console, winston, pino; redacted). Default: nowhere. */
  logger?: Partial<Logger>;
  /** Where the breaker state (`agentid.cache.l2.breaker.state`) is reported. Default: the global one. */
  meterProvider?: MeterProvider;
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
  /**
   * Resolves once the client is connected; rejects with `L2UnavailableError`
   * (`AGENTID_SHARED_CACHE_UNAVAILABLE`) if it is not within `timeoutMs` (default `connectTimeoutMs`).
   * Await it at start-up so the first requests share tokens through Redis. (Calls made before
   * wait for the first connection anyway, for at most `connectTimeoutMs`.)
   */
  ready(timeoutMs?: number): Promise<void>;
  /** Counters since creation. */
  stats(): RedisL2Stats;
  /** Closes the client if the L2 created it (from `url`). */
  close(): Promise<void>;
}

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
 * with AES-256-GCM (key id in every value; the associated data binds the value to its key name, its
 * written-at, expiry and tags, so no byte that decides whether it is served can be changed), key
 * names hashed and namespaced, TTL = the token's usable lifetime, a lock with a renewed lease and
 * fencing tokens for distributed single-flight, and a circuit breaker: when Redis fails or is slow,
 * calls are bypassed (a miss, no lock) so requests fall back to L1 and a direct acquisition; never an
 * error to the caller (but an invalidation that did not reach Redis rejects). Calls made before the
 * first connection wait for it, for at most `connectTimeoutMs`.
 *
 * @example
 * ```ts
 * const l2 = createRedisL2({ url: 'redis://127.0.0.1:6379', encryption: { currentKeyId: 'k1', keys: { k1: process.env.AGENTID_L2_KEY! } } });
 * ```
 */
export function createRedisL2(options: RedisL2Options): RedisL2 {
  if (!options || typeof options !== 'object')
    throw new ConfigurationError('createRedisL2: options are required');
  if ((options.url === undefined) === (options.client === undefined))
    throw new ConfigurationError('createRedisL2: give exactly one of url or client');
  const namespace = options.namespace ?? 'agentid';
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace))
    throw new ConfigurationError('createRedisL2: namespace must be 1-64 characters of A-Z a-z 0-9 . _ -');
  const timeoutMs = options.commandTimeoutMs ?? 500;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0))
    throw new ConfigurationError('createRedisL2: commandTimeoutMs must be a positive number');
  const connectTimeoutMs = options.connectTimeoutMs ?? 1_000;
  if (!(Number.isFinite(connectTimeoutMs) && connectTimeoutMs > 0))
    throw new ConfigurationError('createRedisL2: connectTimeoutMs must be a positive number');
  const fixedLeaseMs = options.lockLeaseMs;
  if (fixedLeaseMs !== undefined && !(Number.isFinite(fixedLeaseMs) && fixedLeaseMs >= 10))
    throw new ConfigurationError('createRedisL2: lockLeaseMs must be a number >= 10');
  const ring = createKeyring(options.encryption);
  const name = keyNamer(namespace, options.hashSecret);
  const tagPrefix = `${namespace}:tag:`;
  const tagName = (tag: string) => name(`tag\0${tag}`, 'entry').slice(namespace.length + 2, -3);
  if (options.clock !== undefined && (options.clock === null || typeof options.clock.now !== 'function'))
    throw new ConfigurationError('createRedisL2: clock must be an object with a now() method');
  const clock: Clock = options.clock ?? { now: () => Date.now() };
  const emit = (event: RedisL2Event) => {
    try {
      options.onEvent?.(event);
    } catch {
      // A listener's failure is not the L2's.
    }
  };
  const stats: RedisL2Stats = {
    hits: 0,
    misses: 0,
    writes: 0,
    staleWrites: 0,
    locksGranted: 0,
    locksBusy: 0,
    locksRenewed: 0,
    errors: 0,
    bypassed: 0,
    decryptFailures: 0,
    breakerOpens: 0,
  };
  const observed = breakerTelemetry(
    {
      namespace,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.meterProvider ? { meterProvider: options.meterProvider } : {}),
    },
    () => breaker.state,
  );
  const breaker = createCircuitBreaker(options.breaker ?? {}, clock, (state, previous) => {
    if (state === 'open') stats.breakerOpens += 1;
    observed.changed(state, previous);
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
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
      throw new ConfigurationError('createRedisL2: url must be a redis:// or rediss:// URL');
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
    if (
      !client ||
      typeof client.get !== 'function' ||
      typeof client.eval !== 'function' ||
      typeof client.del !== 'function'
    ) {
      throw new ConfigurationError('createRedisL2: client must be a node-redis client (get, del, eval)');
    }
  }

  /** Whether the client becomes ready within `ms` (polled: a client of the caller's has no events we rely on). */
  function waitReady(ms: number, stopOnError: boolean): Promise<boolean> {
    if (client.isReady !== false) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        clearInterval(poll);
        owned?.off('ready', onReady);
        owned?.off('error', onError);
        resolve(ok);
      };
      const onReady = () => done(true);
      // A refused first connection: Redis is down, waiting longer only delays the fallback.
      const onError = () => done(false);
      const timer = setTimeout(() => done(client.isReady !== false), ms);
      const poll = setInterval(() => client.isReady !== false && done(true), 10);
      timer.unref?.();
      poll.unref?.();
      owned?.on('ready', onReady);
      if (stopOnError) owned?.on('error', onError);
    });
  }
  // Until the first connection (or `connectTimeoutMs`), calls wait for it instead of bypassing:
  // otherwise K fresh replicas would each acquire what one of them could have shared.
  let firstConnect: Promise<boolean> | undefined = waitReady(connectTimeoutMs, true);
  void firstConnect.then(() => (firstConnect = undefined));

  function note(operation: RedisL2Operation, reason: 'breaker-open' | 'not-connected' | 'error') {
    const span = trace.getActiveSpan();
    span?.setAttribute('agentid.l2.degraded', true);
    span?.addEvent('agentid.l2.bypass', { 'agentid.l2.operation': operation, 'agentid.l2.reason': reason });
  }

  /** Runs one Redis call under the breaker and the timeout; BYPASS when not attempted. */
  const BYPASS = Symbol('bypass');
  async function run<T>(operation: RedisL2Operation, fn: () => Promise<T>): Promise<T | typeof BYPASS> {
    if (client.isReady === false && firstConnect !== undefined) await firstConnect;
    // A release or renewal is always attempted while connected, even with the breaker open: a
    // lock left behind makes every peer wait out the lease, a lock lost makes them repeat the work.
    if (client.isReady === false || (operation !== 'release' && operation !== 'renew' && !breaker.allow())) {
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
          timer = setTimeout(
            () => reject(new RedisUnavailable(`Redis ${operation} timed out after ${timeoutMs} ms`)),
            timeoutMs,
          );
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
    async ready(ms = connectTimeoutMs) {
      if (!(Number.isFinite(ms) && ms >= 0))
        throw new ConfigurationError('ready: timeoutMs must be a number >= 0');
      if (!(await waitReady(ms, false)))
        throw new L2UnavailableError(`Redis did not become ready within ${ms} ms`);
    },
    async get(key) {
      const entryKey = name(key, 'entry');
      const raw = await run('get', () => client.eval(GET, { keys: [entryKey], arguments: [tagPrefix] }));
      if (raw === BYPASS) return undefined;
      if (raw === null || raw === undefined || raw === false) {
        stats.misses += 1;
        return undefined;
      }
      const refuse = (reason: DecryptFailure) => {
        stats.decryptFailures += 1;
        stats.misses += 1;
        emit({ type: 'decrypt-failed', reason });
        return undefined;
      };
      const [value, redisNow] = Array.isArray(raw) ? (raw as unknown[]) : [];
      const fields = typeof value === 'string' ? parseValue(value) : undefined;
      if (fields === undefined) return refuse('format');
      // Every field the read script decided on is authenticated here.
      const opened = ring.open(fields.sealed, boundTo(entryKey, fields));
      if (!opened.ok) return refuse(opened.reason);
      if (!(Number(redisNow) < fields.expiresAt)) {
        stats.misses += 1;
        return undefined;
      }
      try {
        const entry = JSON.parse(opened.plaintext) as L2Entry;
        stats.hits += 1;
        return entry;
      } catch {
        return refuse('format');
      }
    },
    async set(key, entry, ttlMs) {
      if (!(ttlMs > 0)) return;
      const entryKey = name(key, 'entry');
      const fence = entry.fencingToken === undefined ? '' : String(entry.fencingToken);
      const tags = (entry.tags ?? []).map(tagName).join(',');
      const ttl = Math.ceil(ttlMs);
      const r = await run('set', async () => {
        // Redis' clock, sealed into the value: a replayed value cannot claim to be newer than it is.
        const writtenAt = Number(await client.eval(TIME, { keys: [], arguments: [] }));
        if (!Number.isSafeInteger(writtenAt)) throw new RedisUnavailable('Redis TIME gave no time');
        const fields = { writtenAt, expiresAt: writtenAt + ttl, tags };
        const value = encodeValue(fields, ring.seal(JSON.stringify(entry), boundTo(entryKey, fields)));
        return client.eval(SET, {
          keys: [entryKey, name(key, 'fence')],
          arguments: [value, String(ttl), fence, String(writtenAt)],
        });
      });
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
      const r = await run('invalidate', () =>
        client.eval(INVALIDATE, { keys: [tagPrefix + tagName(tag)], arguments: [TAG_TTL_MS] }),
      );
      if (r === BYPASS) throw new RedisUnavailable('Redis unavailable: the tag could not be invalidated');
    },
    async lock(key, leaseMs): Promise<L2Lock | undefined> {
      const lockKey = name(key, 'lock');
      const owner = randomBytes(16).toString('hex');
      const leaseNumber = Math.max(1, Math.ceil(fixedLeaseMs ?? leaseMs));
      const lease = String(leaseNumber);
      const r = await run('lock', () =>
        client.eval(LOCK, { keys: [lockKey, name(key, 'fence')], arguments: [owner, lease, FENCE_TTL_MS] }),
      );
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
        leaseMs: leaseNumber,
        release: async () => {
          await run('release', () => client.eval(RELEASE, { keys: [lockKey], arguments: [owner] }));
        },
        renew: async () => {
          const renewed = await run('renew', () =>
            client.eval(RENEW, { keys: [lockKey], arguments: [owner, lease] }),
          );
          if (renewed === BYPASS)
            throw new RedisUnavailable('Redis unavailable: the lock could not be renewed');
          if (Number(renewed) !== 1) return false;
          stats.locksRenewed += 1;
          return true;
        },
      };
    },
    async close() {
      observed.close();
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
