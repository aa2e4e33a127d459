import { createSecretKey, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigurationError } from '@agentid/core';

/**
 * A key of the agent fleet: a shared secret (HS256, at least 32 bytes) or an asymmetric key pair
 * (`privateKey` to sign, `publicKey` to verify; PS256 or ES256). The first key signs; all verify.
 * Only asymmetric keys can be published ({@link exportChainJwks}) for services outside the fleet.
 *
 * @example
 * ```ts
 * const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
 * const key: DelegationKey = { kid: '2026-11', alg: 'ES256', privateKey, publicKey };
 * ```
 */
export type DelegationKey =
  | { kid: string; secret: string | Uint8Array }
  | { kid: string; alg: 'PS256' | 'ES256'; privateKey?: KeyObject; publicKey: KeyObject };

/** A key ready for jose. @internal */
export interface ResolvedKey {
  kid: string;
  alg: string;
  sign?: KeyObject;
  verify: KeyObject;
  /** Asymmetric keys only. */
  publicKey?: KeyObject;
}

/**
 * A JSON Web Key Set (RFC 7517) of public keys.
 *
 * @example
 * ```ts
 * const jwks: ChainJwks = exportChainJwks(keys);
 * ```
 */
export interface ChainJwks {
  readonly keys: ReadonlyArray<Readonly<Record<string, unknown>>>;
}

/** @internal */
export function resolveKey(k: DelegationKey, where = 'createDelegationCodec'): ResolvedKey {
  if (!k || typeof k.kid !== 'string' || k.kid === '')
    throw new ConfigurationError(`${where}: every key needs a kid`);
  if ('secret' in k) {
    const bytes = typeof k.secret === 'string' ? Buffer.from(k.secret, 'utf8') : Buffer.from(k.secret);
    if (bytes.length < 32) throw new ConfigurationError(`${where}: key ${k.kid} is shorter than 32 bytes`);
    const key = createSecretKey(bytes);
    return { kid: k.kid, alg: 'HS256', sign: key, verify: key };
  }
  if (k.alg !== 'PS256' && k.alg !== 'ES256')
    throw new ConfigurationError(`${where}: key ${k.kid} must use PS256 or ES256`);
  if (!k.publicKey || typeof (k.publicKey as Partial<KeyObject>).export !== 'function')
    throw new ConfigurationError(`${where}: key ${k.kid} needs a publicKey (a KeyObject)`);
  return {
    kid: k.kid,
    alg: k.alg,
    verify: k.publicKey,
    publicKey: k.publicKey,
    ...(k.privateKey ? { sign: k.privateKey } : {}),
  };
}

// The keys of each codec, for exportChainJwks(codec) (the codec object itself exposes no key).
const keysOfCodec = new WeakMap<object, readonly ResolvedKey[]>();

/** @internal */
export function registerKeys(codec: object, keys: readonly ResolvedKey[]): void {
  keysOfCodec.set(codec, keys);
}

/**
 * The public keys of a chain codec (or of a key list) as a JWKS, for services that verify chains
 * without agentid (the standalone verifier). Shared secrets (HS256) are never exported; a source with
 * no asymmetric key is a `ConfigurationError`.
 *
 * @example
 * ```ts
 * await writeFile('chain-jwks.json', JSON.stringify(exportChainJwks(codec)));
 * ```
 */
export function exportChainJwks(source: object | readonly DelegationKey[]): ChainJwks {
  const keys = Array.isArray(source)
    ? (source as readonly DelegationKey[]).map((k) => resolveKey(k, 'exportChainJwks'))
    : keysOfCodec.get(source);
  if (!keys) throw new ConfigurationError('exportChainJwks: pass a delegation codec or its keys');
  const published = keys.filter((k) => k.publicKey !== undefined);
  if (published.length === 0)
    throw new ConfigurationError(
      'exportChainJwks: no asymmetric key to publish (shared secrets stay private; add a PS256 or ES256 key)',
    );
  return Object.freeze({
    keys: Object.freeze(
      published.map((k) => {
        const jwk = k.publicKey!.export({ format: 'jwk' }) as Record<string, unknown>;
        // Only the public members (a KeyObject given as publicKey could be a private key).
        const pub = Object.fromEntries(
          Object.entries(jwk).filter(([name]) => ['kty', 'crv', 'x', 'y', 'n', 'e'].includes(name)),
        );
        return Object.freeze({ ...pub, kid: k.kid, alg: k.alg, use: 'sig' });
      }),
    ),
  });
}

/**
 * A request handler (node:http, Express, Connect) that serves {@link exportChainJwks} of `source`
 * as JSON, for example at `/.well-known/agentid-chain-jwks.json`. GET and HEAD only.
 *
 * @example
 * ```ts
 * app.get('/.well-known/agentid-chain-jwks.json', chainJwksHandler(codec));
 * ```
 */
export function chainJwksHandler(
  source: object | readonly DelegationKey[],
  options: { maxAgeSec?: number } = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const maxAge = options.maxAgeSec ?? 300;
  if (!Number.isInteger(maxAge) || maxAge < 0)
    throw new ConfigurationError('chainJwksHandler: options.maxAgeSec must be a non-negative integer');
  const body = JSON.stringify(exportChainJwks(source));
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    res
      .writeHead(200, {
        'content-type': 'application/json',
        'cache-control': `public, max-age=${maxAge}`,
        'content-length': Buffer.byteLength(body),
      })
      .end(req.method === 'HEAD' ? undefined : body);
  };
}
