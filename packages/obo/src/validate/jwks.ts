import { TokenValidationError } from '@agentid/core';
import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from 'jose';
import type { ResolvedOptions } from './options.js';

const MAX_SETS = 64;

/**
 * One remote key set per tenant (jose's: cached, one reload in flight at a time, cooldown between
 * reloads, so an unknown `kid` costs at most one fetch per cooldown). Fetch failures become
 * `AGENTID_JWKS`; an unknown `kid` after a reload stays jose's no-matching-key error.
 */
export function createJwksResolver(o: ResolvedOptions): (tid: string) => JWTVerifyGetKey {
  const sets = new Map<string, JWTVerifyGetKey>();
  return (tid) => {
    const key = tid.toLowerCase();
    let set = sets.get(key);
    if (!set) {
      if (sets.size >= MAX_SETS) sets.delete(sets.keys().next().value!);
      const remote = createRemoteJWKSet(new URL(o.jwksUri(tid)), {
        cooldownDuration: o.cooldownMs,
        cacheMaxAge: o.cacheMaxAgeMs,
        timeoutDuration: o.timeoutMs,
        [customFetch]: (url, init) => o.fetch(url, init),
      });
      set = async (header, token) => {
        try {
          return await remote(header, token);
        } catch (e) {
          const code = (e as { code?: string }).code;
          if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw e;
          throw new TokenValidationError('AGENTID_JWKS', `Could not fetch the signing keys of tenant ${tid}`, { cause: e });
        }
      };
      sets.set(key, set);
    }
    return set;
  };
}
