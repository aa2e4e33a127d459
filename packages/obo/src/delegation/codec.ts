import { createHash, createSecretKey, type KeyObject } from 'node:crypto';
import { ConfigurationError, DelegationError } from '@agentid/core';
import { createMemo } from '@agentid/core/broker';
import { compactVerify, decodeProtectedHeader, SignJWT } from 'jose';
import { FACETS, type Principal } from '../validate/principal.js';
import { currentTraceparent } from '../util/trace.js';
import { checkChain, DEFAULT_MAX_HOPS, type DelegationContext, freeze, startDelegation } from './context.js';

/** The HTTP header that carries the signed delegation chain between agents. */
export const DELEGATION_HEADER = 'x-agentid-delegation';

/**
 * A key of the agent fleet: a shared secret (HS256, at least 32 bytes) or an asymmetric key pair
 * (`privateKey` to sign, `publicKey` to verify; PS256 or ES256). The first key signs; all verify.
 *
 * @example
 * ```ts
 * const key: DelegationKey = { kid: '2026-11', secret: process.env.AGENTID_DELEGATION_KEY! };
 * ```
 */
export type DelegationKey =
  | { kid: string; secret: string | Uint8Array }
  | { kid: string; alg: 'PS256' | 'ES256'; privateKey?: KeyObject; publicKey: KeyObject };

/**
 * Options of {@link createDelegationCodec}.
 *
 * @example
 * ```ts
 * const options: DelegationCodecOptions = { keys: [{ kid: 'k1', secret }], maxHops: 4 };
 * ```
 */
export interface DelegationCodecOptions {
  /** Current key first; older keys still verify (rotation). */
  keys: readonly DelegationKey[];
  /** Default 5. */
  maxHops?: number;
  /**
   * Refuse (`AGENTID_DELEGATION_INVALID`) an agent-made token (facet 11 in `xms_act_fct`, or
   * `xms_par_app_azp` present) that comes without the chain header, instead of starting a new chain
   * at its agent. Default `false`: an agent outside the fleet (one that does not speak this header)
   * can then call as a first hop, but anyone forwarding an agent's token can also drop the header
   * and so reset the chain (its earlier actors, the hop count and the cycle check). Turn it on when
   * every agent that calls this one sends the header. {@link DelegationDecodeOptions} overrides it per call.
   */
  requireChain?: boolean;
  clock?: {
    /** The current time in epoch milliseconds. */
    now(): number;
  };
}

/**
 * Signs and verifies the chain header. Each header is bound to the one token it travels with (the
 * SHA-256 of that token is signed in), to its user, and to its acting agent (the token's `azp` must be
 * the chain's last actor), so a header that is edited, copied onto another token, or sent by another
 * agent is refused.
 *
 * @example
 * ```ts
 * const codec = createDelegationCodec({ keys: [{ kid: 'k1', secret }] });
 * headers[DELEGATION_HEADER] = await codec.encode(ctx, oboToken.token);
 * const ctx = await codec.decode(req.headers[DELEGATION_HEADER], principal, bearer);
 * ```
 */
export interface DelegationCodec {
  readonly maxHops: number;
  /** Signs `context` bound to `token` (the token sent with it) into a header value. */
  encode(ctx: DelegationContext, boundToken: string): Promise<string>;
  /**
   * A missing header gives the chain implied by the token ({@link startDelegation}), unless
   * `requireChain` is on and the token was made by an agent.
   */
  decode(
    header: string | readonly string[] | undefined,
    principal: Principal,
    boundToken: string,
    options?: DelegationDecodeOptions,
  ): Promise<DelegationContext>;
}

/**
 * Per-call options of {@link DelegationCodec.decode}.
 *
 * @example
 * ```ts
 * const ctx = await codec.decode(req.headers[DELEGATION_HEADER], principal, bearer, { requireChain: true });
 * ```
 */
export interface DelegationDecodeOptions {
  /** Overrides the codec's {@link DelegationCodecOptions.requireChain} for this call. */
  requireChain?: boolean;
}

/** Made by an agent identity (agent OBO or agent user), per PROTOCOL.md: facet 11, or a parent blueprint named. */
const agentMade = (p: Principal): boolean =>
  p.actorFacets.includes(FACETS.AGENT_IDENTITY) || p.parentAppId !== undefined;

const TTL_SEC = 3600;
const MAX_HEADER = 8 * 1024;
const hashToken = (t: string): string => createHash('sha256').update(t, 'utf8').digest('base64url');

interface Resolved {
  kid: string;
  alg: string;
  sign?: KeyObject;
  verify: KeyObject;
}

function resolveKey(k: DelegationKey): Resolved {
  if (!k || typeof k.kid !== 'string' || k.kid === '')
    throw new ConfigurationError('createDelegationCodec: every key needs a kid');
  if ('secret' in k) {
    const bytes = typeof k.secret === 'string' ? Buffer.from(k.secret, 'utf8') : Buffer.from(k.secret);
    if (bytes.length < 32)
      throw new ConfigurationError(`createDelegationCodec: key ${k.kid} is shorter than 32 bytes`);
    const key = createSecretKey(bytes);
    return { kid: k.kid, alg: 'HS256', sign: key, verify: key };
  }
  if (k.alg !== 'PS256' && k.alg !== 'ES256')
    throw new ConfigurationError(`createDelegationCodec: key ${k.kid} must use PS256 or ES256`);
  return { kid: k.kid, alg: k.alg, verify: k.publicKey, ...(k.privateKey ? { sign: k.privateKey } : {}) };
}

/** A header whose signature verified, with what every later use of it is checked against. */
interface Verified {
  readonly header: string;
  /** The token the header was verified with (its `ath` is that token's SHA-256). */
  readonly boundToken: string;
  readonly exp: number;
  readonly sub: string;
  readonly tid: string;
  /** Checked with {@link checkChain} once (the hop limit is fixed per codec). */
  readonly actors: readonly string[];
  readonly upn: string | undefined;
  readonly tp: string | undefined;
  /** The last context built from it, and for which principal. */
  last?: { principal: Principal; ctx: DelegationContext };
}

// Indexed by the header's last characters (its signature): looking a header up by itself would hash
// all of it on every request. A hit requires the whole header to be equal.
const INDEX_CHARS = 32;
const indexOf = (header: string): string =>
  header.length > INDEX_CHARS ? header.slice(-INDEX_CHARS) : header;

const refuse = (message: string, cause?: unknown): DelegationError =>
  new DelegationError('AGENTID_DELEGATION_INVALID', message, cause === undefined ? {} : { cause });

/**
 * Creates a {@link DelegationCodec}.
 *
 * @example
 * ```ts
 * const codec = createDelegationCodec({ keys: [{ kid: 'k1', secret: process.env.DELEGATION_KEY! }] });
 * ```
 */
export function createDelegationCodec(options: DelegationCodecOptions): DelegationCodec {
  if (!options || !Array.isArray(options.keys) || options.keys.length === 0)
    throw new ConfigurationError('createDelegationCodec: keys must list at least one key');
  const keys = options.keys.map(resolveKey);
  const byKid = new Map(keys.map((k) => [k.kid, k]));
  const maxHops = options.maxHops ?? DEFAULT_MAX_HOPS;
  if (!Number.isInteger(maxHops) || maxHops < 1)
    throw new ConfigurationError('createDelegationCodec: maxHops must be a positive integer');
  if (options.requireChain !== undefined && typeof options.requireChain !== 'boolean')
    throw new ConfigurationError('createDelegationCodec: requireChain must be a boolean');
  const requireChain = options.requireChain === true;
  const now = () => Math.floor((options.clock?.now() ?? Date.now()) / 1000);
  const signer = keys[0]!;
  // Verified headers, so that a caller repeating one costs a lookup instead of a signature check and a
  // token hash; bounded by count and bytes (two generations of 5,000 entries and 32 MiB each).
  // Only headers that verified are kept.
  const verified = createMemo<string, Verified>({
    maxEntries: 5_000,
    maxBytes: 32 * 1024 * 1024,
    sizeOf: (_index, v) => v.header.length + v.boundToken.length + 256,
  });

  // Checked on every use of a header, verified just now or before: its lifetime, the token it
  // travels with, the user and the sender (in the order of a first verification).
  function checkUse(v: Verified, principal: Principal, boundToken: string): void {
    if (v.exp < now() - 60) throw refuse('The delegation header has expired');
    // Equal strings have equal hashes; another token cannot have the SHA-256 that the header signs.
    if (v.boundToken !== boundToken) throw refuse('The delegation header belongs to another token');
    if (v.sub !== principal.oid.toLowerCase() || v.tid !== principal.tid.toLowerCase())
      throw refuse('The delegation header names another user');
    if (!principal.azp || v.actors[v.actors.length - 1] !== principal.azp.toLowerCase())
      throw refuse('The last actor of the delegation chain is not the client that obtained the token');
  }

  /** Everything about a header not seen before; remembered when it passes. */
  async function verify(value: string, principal: Principal, boundToken: string): Promise<Verified> {
    let kid: unknown;
    try {
      kid = decodeProtectedHeader(value).kid;
    } catch (e) {
      throw refuse('The delegation header is not a compact JWS', e);
    }
    const key = typeof kid === 'string' ? byKid.get(kid) : undefined;
    if (!key) throw refuse('The delegation header is signed with an unknown key');
    let claims: Record<string, unknown>;
    try {
      const r = await compactVerify(value, key.verify, { algorithms: [key.alg] });
      claims = JSON.parse(new TextDecoder().decode(r.payload)) as Record<string, unknown>;
    } catch (e) {
      throw refuse('The delegation header signature does not verify', e);
    }
    if (typeof claims.exp !== 'number' || claims.exp < now() - 60)
      throw refuse('The delegation header has expired');
    if (claims.ath !== hashToken(boundToken)) throw refuse('The delegation header belongs to another token');
    // Object ids are GUIDs: compared case-insensitively, as the actors are.
    if (
      typeof claims.sub !== 'string' ||
      claims.sub.toLowerCase() !== principal.oid.toLowerCase() ||
      String(claims.tid).toLowerCase() !== principal.tid.toLowerCase()
    ) {
      throw refuse('The delegation header names another user');
    }
    const actors =
      Array.isArray(claims.act) && claims.act.every((a) => typeof a === 'string' && a !== '')
        ? (claims.act as string[]).map((a) => a.toLowerCase())
        : undefined;
    if (!actors || actors.length === 0) throw refuse('The delegation header has no actors');
    checkChain(actors, maxHops);
    const v: Verified = {
      header: value,
      boundToken,
      exp: claims.exp,
      sub: claims.sub.toLowerCase(),
      tid: String(claims.tid).toLowerCase(),
      actors: Object.freeze(actors),
      upn: typeof claims.upn === 'string' ? claims.upn : undefined,
      tp: typeof claims.tp === 'string' ? claims.tp : undefined,
    };
    checkUse(v, principal, boundToken);
    verified.set(indexOf(value), v);
    return v;
  }

  const codec: DelegationCodec = {
    maxHops,
    async encode(ctx: DelegationContext, boundToken: string) {
      if (!signer.sign)
        throw new ConfigurationError(
          `createDelegationCodec: key ${signer.kid} has no private key to sign with`,
        );
      if (typeof boundToken !== 'string' || boundToken === '')
        throw new TypeError('encode: boundToken must be the token the header travels with');
      checkChain(ctx.actors, maxHops);
      const t = now();
      return new SignJWT({
        tid: ctx.user.tid,
        act: ctx.actors.map((a) => a.toLowerCase()),
        ath: hashToken(boundToken),
        ...(ctx.user.upn ? { upn: ctx.user.upn } : {}),
        ...((currentTraceparent() ?? ctx.traceparent) ? { tp: currentTraceparent() ?? ctx.traceparent } : {}),
      })
        .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: 'agentid-delegation+jwt' })
        .setSubject(ctx.user.oid)
        .setIssuedAt(t)
        .setExpirationTime(t + TTL_SEC)
        .sign(signer.sign);
    },
    async decode(header, principal, boundToken, call) {
      if (header === undefined || (Array.isArray(header) && header.length === 0)) {
        if ((call?.requireChain ?? requireChain) && agentMade(principal)) {
          throw refuse(
            'The token was obtained by an agent but came without its delegation chain header (requireChain)',
          );
        }
        return startDelegation(principal);
      }
      if (Array.isArray(header) && header.length > 1) throw refuse('More than one delegation header');
      const value = Array.isArray(header) ? header[0] : header;
      if (typeof value !== 'string' || value === '' || value.length > MAX_HEADER)
        throw refuse('The delegation header is empty or too long');
      const known = verified.get(indexOf(value));
      let v: Verified;
      if (known !== undefined && known.header === value) {
        v = known;
        checkUse(v, principal, boundToken);
      } else v = await verify(value, principal, boundToken);
      if (v.last?.principal === principal) return v.last.ctx;
      const upn = v.upn ?? principal.upn;
      const ctx = freeze({ oid: principal.oid, tid: principal.tid, ...(upn ? { upn } : {}) }, v.actors, v.tp);
      if (Object.isFrozen(principal)) v.last = { principal, ctx };
      return ctx;
    },
  };
  return Object.freeze(codec);
}
