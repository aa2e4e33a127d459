import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, exportJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type { Clock } from '../context.js';

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: JWK;
}

/** Options for a key set. */
export interface KeySetOptions {
  /** How many retired keys stay in the JWKS after a rotation (tokens they signed stay verifiable). */
  keepRetired?: number;
  /** Time of the certificate checks (`currentDate`). Default: the system clock. */
  clock?: Clock;
}

function makeKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(12).toString('base64url');
  return { kid, privateKey, publicKey, jwk: {} };
}

/**
 * RS256 signing keys that rotate: the newest signs, the JWKS lists it and the retired ones
 * kept for verification, as Entra publishes several keys at once.
 */
export class KeySet {
  private keys: SigningKey[] = [];
  private readonly keepRetired: number;
  private readonly clock: Clock;

  private constructor(opts: KeySetOptions) {
    this.keepRetired = opts.keepRetired ?? 1;
    this.clock = opts.clock ?? { now: () => Date.now() };
  }

  static async create(opts: KeySetOptions = {}): Promise<KeySet> {
    const ks = new KeySet(opts);
    await ks.rotate();
    return ks;
  }

  /** Makes a new signing key current; drops keys older than `keepRetired`. */
  async rotate(opts: { dropRetired?: boolean } = {}): Promise<string> {
    const k = makeKey();
    k.jwk = { ...(await exportJWK(k.publicKey)), kid: k.kid, use: 'sig', alg: 'RS256', kty: 'RSA' };
    this.keys = [k, ...this.keys].slice(0, opts.dropRetired ? 1 : 1 + this.keepRetired);
    return k.kid;
  }

  get currentKid(): string {
    return this.current.kid;
  }

  private get current(): SigningKey {
    const k = this.keys[0];
    if (!k) throw new Error('key set is empty');
    return k;
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => ({ ...k.jwk })) };
  }

  async sign(claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
    const k = this.current;
    return new SignJWT(claims)
      .setProtectedHeader({ typ: 'JWT', ...header, alg: 'RS256', kid: k.kid })
      .sign(k.privateKey);
  }

  /** Verifies a token signed by one of these keys; throws on a bad signature, unknown kid or bad time. */
  async verify(
    token: string,
    opts: { audience?: string | string[]; clockToleranceSec?: number } = {},
  ): Promise<JWTPayload> {
    const { kid } = decodeProtectedHeader(token);
    const k = this.keys.find((x) => x.kid === kid);
    if (!k) throw new Error('unknown signing key');
    const { payload } = await jwtVerify(token, k.publicKey, {
      algorithms: ['RS256'],
      currentDate: new Date(this.clock.now()),
      clockTolerance: opts.clockToleranceSec ?? 0,
      ...(opts.audience ? { audience: opts.audience } : {}),
    });
    return payload;
  }
}
