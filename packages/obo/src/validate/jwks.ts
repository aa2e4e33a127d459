import { TokenValidationError } from '@agentid/core';
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { ResolvedOptions } from './options.js';

/** Distinct JWKS URLs kept (only a per-tenant `jwks.uri` makes more than one); the home tenant's is never evicted. */
const MAX_SOURCES = 64;
/** Entra's key sets are a few KB; anything far larger is not a key set. */
const MAX_JWKS_BYTES = 512 * 1024;

/**
 * One remote key set. Loads are single-flight; an unknown `kid` reloads at most once per cooldown;
 * a failed load is remembered for `failureCacheMs`, so that while the JWKS is unreachable a flood
 * of tokens costs one fetch per period, not one each. `generation` changes whenever a load changes
 * the set of kids, so that validations cached under a key can be dropped once the key is gone.
 * @internal
 */
export interface KeySource {
  /** jose's key resolver over the loaded keys. Fetch failures are `AGENTID_JWKS`. */
  readonly getKey: JWTVerifyGetKey;
  /** Bumped by every load that adds or removes a kid. */
  readonly generation: number;
  /** Whether the last loaded key set still lists `kid`. */
  has(kid: string): boolean;
  /** Reloads in the background when the keys are older than `cacheMaxAgeMs` (validations served from cache call it). */
  refreshIfStale(now: number): void;
}

function createKeySource(url: string, o: ResolvedOptions): KeySource {
  let local: ReturnType<typeof createLocalJWKSet> | undefined;
  let kids: ReadonlySet<string> = new Set();
  let loadedAt = -Infinity;
  let failedAt = -Infinity;
  let failure: unknown;
  let pending: Promise<void> | undefined;
  let generation = 0;
  const failed = (cause: unknown): TokenValidationError =>
    new TokenValidationError('AGENTID_JWKS', 'Could not fetch the signing keys of the token issuer', {
      cause,
    });

  async function fetchKeys(): Promise<void> {
    let json: JSONWebKeySet;
    try {
      const res = await o.fetch(url, {
        method: 'GET',
        redirect: 'manual',
        headers: { accept: 'application/json, application/jwk-set+json' },
        signal: AbortSignal.timeout(o.timeoutMs),
      });
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => undefined);
        throw new Error(`The JWKS endpoint answered HTTP ${res.status}`);
      }
      const text = await res.text();
      if (text.length > MAX_JWKS_BYTES) throw new Error('The JWKS response is too large');
      json = JSON.parse(text) as JSONWebKeySet;
      const next = createLocalJWKSet(json);
      const nextKids = new Set(
        (json.keys ?? []).map((k) => k.kid).filter((k): k is string => typeof k === 'string'),
      );
      if (nextKids.size !== kids.size || [...nextKids].some((k) => !kids.has(k))) generation++;
      local = next;
      kids = nextKids;
      loadedAt = o.now();
      failure = undefined;
    } catch (e) {
      failedAt = o.now();
      failure = e;
      throw failed(e);
    }
  }

  const load = (): Promise<void> => {
    if (pending) return pending;
    if (failure !== undefined && o.now() - failedAt < o.failureCacheMs)
      return Promise.reject(failed(failure));
    const p = fetchKeys().finally(() => {
      if (pending === p) pending = undefined;
    });
    pending = p;
    return p;
  };

  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (!local || o.now() - loadedAt >= o.cacheMaxAgeMs) await load();
    try {
      return await local!(header, token);
    } catch (e) {
      // A kid not seen yet (a rotation): reload once per cooldown, then answer from the new set.
      if ((e as { code?: string }).code !== 'ERR_JWKS_NO_MATCHING_KEY' || o.now() - loadedAt < o.cooldownMs)
        throw e;
      await load();
      return local!(header, token);
    }
  };

  return {
    getKey,
    get generation() {
      return generation;
    },
    has: (kid) => kids.has(kid),
    refreshIfStale(now) {
      if (pending === undefined && local !== undefined && now - loadedAt >= o.cacheMaxAgeMs)
        load().catch(() => undefined);
    },
  };
}

/**
 * The key set for a token's tenant. Entra signs the tokens of every tenant of an authority host with
 * the same keys, so by default one key set (the home tenant's JWKS) serves all tenants: a token naming
 * an unknown tenant costs no fetch of its own, and cannot push the home tenant's keys out. A
 * `jwks.uri(tid)` that names per-tenant URLs gets one source per distinct URL (bounded, the home
 * tenant's kept).
 * @internal
 */
export function createJwksResolver(o: ResolvedOptions): (tid: string) => KeySource {
  const homeUrl = o.jwksUri(o.tenantId);
  const home = createKeySource(homeUrl, o);
  if (!o.jwksUriPerTenant) return () => home;
  const others = new Map<string, KeySource>();
  return (tid) => {
    const url = o.jwksUri(tid);
    if (url === homeUrl) return home;
    let source = others.get(url);
    if (source === undefined) {
      if (others.size >= MAX_SOURCES - 1) others.delete(others.keys().next().value!);
      source = createKeySource(url, o);
    } else others.delete(url);
    others.set(url, source);
    return source;
  };
}
