import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { ConfigurationError } from '@agentid/core';

/**
 * Encryption keys for entries at rest: AES-256-GCM keys (32 bytes, or base64/base64url of 32
 * bytes) by key id. New entries are written with `currentKeyId`; entries written with any other
 * listed key are still read, so keys rotate without a cold cache: add the new key, make it
 * current, and drop the old one once its entries have expired (at most a token lifetime).
 *
 * @example
 * ```ts
 * const encryption: EncryptionKeys = { currentKeyId: '2026-11', keys: { '2026-11': process.env.AGENTID_L2_KEY!, '2026-10': process.env.AGENTID_L2_KEY_OLD! } };
 * ```
 */
export interface EncryptionKeys {
  currentKeyId: string;
  keys: Readonly<Record<string, string | Uint8Array>>;
}

/** Why an entry could not be read (counted, then treated as a miss). */
export type DecryptFailure = 'format' | 'unknown-key' | 'tampered';

/** The result of {@link Keyring.open}. */
export type Opened = { ok: true; plaintext: string; keyId: string } | { ok: false; reason: DecryptFailure };

/**
 * Seals and opens entries. The Redis key name is bound to the ciphertext as additional
 * authenticated data, so an entry copied under another key does not open.
 *
 * @example
 * ```ts
 * const ring = createKeyring(encryption);
 * const sealed = ring.seal(json, redisKey);
 * ```
 */
export interface Keyring {
  readonly currentKeyId: string;
  /** Encrypts `plaintext` with the current key, bound to `boundTo` (the Redis key name). */
  seal(plaintext: string, boundTo: string): string;
  /** Decrypts an entry sealed for `boundTo`; a failure reason instead of throwing. */
  open(sealed: string, boundTo: string): Opened;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const VERSION = 'v1';

function keyBytes(id: string, value: string | Uint8Array): Buffer {
  let bytes: Buffer;
  if (typeof value === 'string') {
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value))
      throw new ConfigurationError(`encryption key '${id}' must be base64 or base64url of 32 bytes`);
    bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  } else if (value instanceof Uint8Array) {
    bytes = Buffer.from(value);
  } else {
    throw new ConfigurationError(`encryption key '${id}' must be 32 bytes (a Uint8Array, or base64 text)`);
  }
  if (bytes.length !== 32)
    throw new ConfigurationError(
      `encryption key '${id}' must be 32 bytes for AES-256-GCM, got ${bytes.length}`,
    );
  return bytes;
}

/**
 * Validates {@link EncryptionKeys} and returns a {@link Keyring}. Errors name the key id, never
 * the key.
 *
 * @example
 * ```ts
 * const ring = createKeyring({ currentKeyId: 'k1', keys: { k1: randomBytes(32) } });
 * ```
 */
export function createKeyring(options: EncryptionKeys): Keyring {
  if (!options || typeof options !== 'object' || !options.keys || typeof options.keys !== 'object') {
    throw new ConfigurationError(
      'encryption: { currentKeyId, keys: { [id]: 32-byte key } } is required (entries are encrypted at rest)',
    );
  }
  const keys = new Map<string, Buffer>();
  for (const [id, value] of Object.entries(options.keys)) {
    if (!KEY_ID.test(id))
      throw new ConfigurationError(
        `encryption key id '${id.slice(0, 64)}' must be 1-64 characters of A-Z a-z 0-9 . _ -`,
      );
    keys.set(id, keyBytes(id, value));
  }
  const current = options.currentKeyId;
  if (typeof current !== 'string' || !keys.has(current))
    throw new ConfigurationError(
      `encryption.currentKeyId must name one of the keys (${[...keys.keys()].join(', ') || 'none given'})`,
    );
  const currentKey = keys.get(current)!;
  const aad = (keyId: string, boundTo: string) => Buffer.from(`${VERSION}|${keyId}|${boundTo}`, 'utf8');
  return {
    currentKeyId: current,
    seal(plaintext, boundTo) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', currentKey, iv);
      cipher.setAAD(aad(current, boundTo));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return `${VERSION}.${current}.${iv.toString('base64url')}.${body.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
    },
    open(sealed, boundTo) {
      const parts = typeof sealed === 'string' ? sealed.split('.') : [];
      if (parts.length !== 5 || parts[0] !== VERSION) return { ok: false, reason: 'format' };
      const [, keyId, ivText, bodyText, tagText] = parts as [string, string, string, string, string];
      const key = keys.get(keyId);
      if (key === undefined) return { ok: false, reason: 'unknown-key' };
      const iv = Buffer.from(ivText, 'base64url');
      const tag = Buffer.from(tagText, 'base64url');
      if (iv.length !== 12 || tag.length !== 16) return { ok: false, reason: 'format' };
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAAD(aad(keyId, boundTo));
        decipher.setAuthTag(tag);
        const plaintext = Buffer.concat([
          decipher.update(Buffer.from(bodyText, 'base64url')),
          decipher.final(),
        ]).toString('utf8');
        return { ok: true, plaintext, keyId };
      } catch {
        return { ok: false, reason: 'tampered' };
      }
    },
  };
}

/**
 * The Redis key name of a cache key: `<namespace>:{<hmac>}:<kind>`. The HMAC (SHA-256, keyed with
 * `hashSecret`, else with a value derived from the namespace) hides the tenant, client, user and
 * scopes a cache key is made of; the braces keep an entry, its lock and its fencing counter in one
 * Redis Cluster slot.
 *
 * @example
 * ```ts
 * const name = keyNamer('myapp', secret)('k', 'entry'); // 'myapp:{Qm9...}:t'
 * ```
 */
export function keyNamer(
  namespace: string,
  hashSecret?: string | Uint8Array,
): (cacheKey: string, kind: 'entry' | 'lock' | 'fence') => string {
  const secret = hashSecret ?? createHash('sha256').update(`agentid-redis-key-names\0${namespace}`).digest();
  const suffix = { entry: 't', lock: 'lock', fence: 'fence' } as const;
  return (cacheKey, kind) =>
    `${namespace}:{${createHmac('sha256', secret).update(cacheKey).digest('base64url')}}:${suffix[kind]}`;
}
