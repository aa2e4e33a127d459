import { createHash } from 'node:crypto';
import { ConfigurationError, DelegationError } from '@agentid/core';
import { createMemo } from '@agentid/core/broker';
import { compactVerify, decodeProtectedHeader, SignJWT } from 'jose';
import { FACETS, type Principal } from '../validate/principal.js';
import { currentTraceparent } from '../util/trace.js';
import {
  type ChainReference,
  chainOf,
  checkChain,
  DEFAULT_MAX_HOPS,
  type DelegationActor,
  type DelegationContext,
  ENTITY_TYPES,
  type EntityType,
  freeze,
  startDelegation,
} from './context.js';
import { CHAIN_TYP, LEGACY_TYP, readActors, readPrev, toClaims } from './format.js';
import { type DelegationKey, registerKeys, resolveKey } from './keys.js';

/** The HTTP header that carries the signed delegation chain between agents. */
export const DELEGATION_HEADER = 'x-agentid-delegation';

/** The issuer of chains when none is configured. */
export const DEFAULT_CHAIN_ISSUER = 'urn:agentid:chain';

/**
 * When a chain header is required: `'agent-tokens'` refuses (`AGENTID_DELEGATION_MISSING`) a token
 * made by an agent (facet 11 in `xms_act_fct`, or `xms_par_app_azp` present) that comes without its
 * header; `'never'` starts a new chain at that token's agent instead.
 *
 * @example
 * ```ts
 * const codec = createDelegationCodec({ keys, require: 'agent-tokens' satisfies ChainRequirement });
 * ```
 */
export type ChainRequirement = 'agent-tokens' | 'never';

/**
 * Options of {@link createDelegationCodec}.
 *
 * @example
 * ```ts
 * const options: DelegationCodecOptions = { keys: [{ kid: 'k1', alg: 'ES256', privateKey, publicKey }], require: 'agent-tokens' };
 * ```
 */
export interface DelegationCodecOptions {
  /** Current key first; older keys still verify (rotation). */
  keys: readonly DelegationKey[];
  /** Default 5. */
  maxHops?: number;
  /**
   * The trust domain's name, signed as `iss` and required on every header read (default
   * `urn:agentid:chain`). A context decoded by a codec of another issuer starts a new chain here that
   * references the old one (`prev`).
   */
  issuer?: string;
  /**
   * Default `'never'`: an agent outside the fleet (one that does not speak this header) can call as a
   * first hop, but anyone forwarding an agent's token can also drop the header and so reset the chain
   * (its earlier actors, the hop count and the cycle check). Use `'agent-tokens'` when every agent
   * that calls this one sends the header. {@link DelegationDecodeOptions} overrides it per call.
   */
  require?: ChainRequirement;
  clock?: {
    /** The current time in epoch milliseconds. */
    now(): number;
  };
}

/**
 * Signs and verifies the chain header: a JWS of RFC 8693 nested actors bound to the one token it
 * travels with (`ath`, the SHA-256 of that token), to its subject, and to its acting agent (the
 * token's `azp` must be the chain's current actor), so a header that is edited, copied onto another
 * token, or sent by another agent is refused.
 *
 * @example
 * ```ts
 * const codec = createDelegationCodec({ keys: [{ kid: 'k1', alg: 'ES256', privateKey, publicKey }] });
 * headers[DELEGATION_HEADER] = await codec.encode(ctx, oboToken.token);
 * const ctx = await codec.decode(req.headers[DELEGATION_HEADER], principal, bearer);
 * ```
 */
export interface DelegationCodec {
  readonly maxHops: number;
  /** The `iss` this codec signs and requires. */
  readonly issuer: string;
  /** Signs `context` bound to `token` (the token sent with it) into a header value. */
  encode(ctx: DelegationContext, boundToken: string): Promise<string>;
  /**
   * A missing header gives the chain implied by the token ({@link startDelegation}), unless
   * `require` is `'agent-tokens'` and the token was made by an agent.
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
 * const ctx = await codec.decode(req.headers[DELEGATION_HEADER], principal, bearer, { require: 'agent-tokens' });
 * ```
 */
export interface DelegationDecodeOptions {
  /** Overrides the codec's {@link DelegationCodecOptions.require} for this call. */
  require?: ChainRequirement;
}

/** Made by an agent identity (agent OBO or agent user), per PROTOCOL.md: facet 11, or a parent blueprint named. */
const agentMade = (p: Principal): boolean =>
  p.actorFacets.includes(FACETS.AGENT_IDENTITY) || p.parentAppId !== undefined;

const TTL_SEC = 3600;
const MAX_HEADER = 8 * 1024;
const sha256 = (t: string): string => createHash('sha256').update(t, 'utf8').digest('base64url');

/** A header whose signature verified, with what every later use of it is checked against. */
interface Verified {
  readonly header: string;
  /** The token the header was verified with (its `ath` is that token's SHA-256). */
  readonly boundToken: string;
  readonly exp: number;
  readonly sub: string;
  readonly subType: EntityType;
  readonly tid: string;
  /** Checked with {@link checkChain} once (the hop limit is fixed per codec). */
  readonly chain: readonly DelegationActor[];
  readonly upn: string | undefined;
  readonly tp: string | undefined;
  readonly prev: ChainReference | undefined;
  readonly source: ChainReference;
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

function checkOptions(options: DelegationCodecOptions): void {
  if (!options || !Array.isArray(options.keys) || options.keys.length === 0)
    throw new ConfigurationError('createDelegationCodec: keys must list at least one key');
  const { maxHops, issuer, require } = options;
  if (maxHops !== undefined && (!Number.isInteger(maxHops) || maxHops < 1))
    throw new ConfigurationError('createDelegationCodec: maxHops must be a positive integer');
  if (issuer !== undefined && (typeof issuer !== 'string' || issuer === ''))
    throw new ConfigurationError('createDelegationCodec: issuer must be a non-empty string');
  if (require !== undefined && require !== 'agent-tokens' && require !== 'never')
    throw new ConfigurationError("createDelegationCodec: require must be 'agent-tokens' or 'never'");
}

/**
 * Creates a {@link DelegationCodec}.
 *
 * @example
 * ```ts
 * const codec = createDelegationCodec({ keys: [{ kid: 'k1', secret: process.env.DELEGATION_KEY! }], require: 'agent-tokens' });
 * ```
 */
export function createDelegationCodec(options: DelegationCodecOptions): DelegationCodec {
  checkOptions(options);
  const keys = options.keys.map((k) => resolveKey(k));
  const byKid = new Map(keys.map((k) => [k.kid, k]));
  const maxHops = options.maxHops ?? DEFAULT_MAX_HOPS;
  const issuer = options.issuer ?? DEFAULT_CHAIN_ISSUER;
  const required = options.require ?? 'never';
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
  // travels with, the subject and the sender (in the order of a first verification).
  function checkUse(v: Verified, principal: Principal, boundToken: string): void {
    if (v.exp < now() - 60) throw refuse('The delegation header has expired');
    // Equal strings have equal hashes; another token cannot have the SHA-256 that the header signs.
    if (v.boundToken !== boundToken) throw refuse('The delegation header belongs to another token');
    if (v.sub !== principal.oid.toLowerCase() || v.tid !== principal.tid.toLowerCase())
      throw refuse('The delegation header names another subject');
    if (!principal.azp || v.chain[v.chain.length - 1]!.id !== principal.azp.toLowerCase())
      throw refuse('The current actor of the delegation chain is not the client that obtained the token');
  }

  /** Everything about a header not seen before; remembered when it passes. */
  async function verify(value: string, principal: Principal, boundToken: string): Promise<Verified> {
    let protectedHeader: { kid?: unknown; typ?: unknown };
    try {
      protectedHeader = decodeProtectedHeader(value);
    } catch (e) {
      throw refuse('The delegation header is not a compact JWS', e);
    }
    if (protectedHeader.typ === LEGACY_TYP)
      throw refuse(
        `The delegation header is in the first agentid format (${LEGACY_TYP}); this version reads only ${CHAIN_TYP} (RFC 8693 nested actors): update the sender`,
      );
    if (protectedHeader.typ !== CHAIN_TYP) throw refuse(`The delegation header's typ is not ${CHAIN_TYP}`);
    const kid = protectedHeader.kid;
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
    if (claims.iss !== issuer) throw refuse('The delegation header was issued by another trust domain');
    if (claims.ath !== sha256(boundToken)) throw refuse('The delegation header belongs to another token');
    const subType = claims.sub_profile ?? 'user';
    if (
      typeof claims.sub !== 'string' ||
      typeof claims.tid !== 'string' ||
      !ENTITY_TYPES.has(String(subType))
    )
      throw refuse('The delegation header lacks its subject (sub, tid, sub_profile)');
    const chain = readActors(claims.act);
    if (chain.length === 0) throw refuse('The delegation header has no actors');
    checkChain(
      chain.map((a) => a.id),
      maxHops,
    );
    const v: Verified = {
      header: value,
      boundToken,
      exp: claims.exp,
      sub: claims.sub.toLowerCase(),
      subType: subType as EntityType,
      tid: claims.tid.toLowerCase(),
      chain: Object.freeze(chain.map((a) => Object.freeze(a))),
      upn: typeof claims.upn === 'string' ? claims.upn : undefined,
      tp: typeof claims.tp === 'string' ? claims.tp : undefined,
      prev: readPrev(claims.prev),
      source: Object.freeze({ iss: issuer, hash: sha256(value) }),
    };
    checkUse(v, principal, boundToken);
    verified.set(indexOf(value), v);
    return v;
  }

  const codec: DelegationCodec = {
    maxHops,
    issuer,
    async encode(ctx: DelegationContext, boundToken: string) {
      if (!signer.sign)
        throw new ConfigurationError(
          `createDelegationCodec: key ${signer.kid} has no private key to sign with`,
        );
      if (typeof boundToken !== 'string' || boundToken === '')
        throw new TypeError('encode: boundToken must be the token the header travels with');
      let chain = chainOf(ctx);
      let prev = ctx.prev;
      // A context read from another trust domain's chain: this domain starts its own chain at the
      // current actor, referencing the old one (its issuer and hash), instead of re-signing actors it
      // did not verify itself.
      if (ctx.source !== undefined && ctx.source.iss !== issuer) {
        chain = chain.slice(-1);
        prev = ctx.source;
      }
      checkChain(
        chain.map((a) => a.id),
        maxHops,
      );
      const t = now();
      const tp = currentTraceparent() ?? ctx.traceparent;
      return new SignJWT({ ...toClaims(ctx, issuer, sha256(boundToken), tp, chain, prev) })
        .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: CHAIN_TYP })
        .setIssuedAt(t)
        .setExpirationTime(t + TTL_SEC)
        .sign(signer.sign);
    },
    async decode(header, principal, boundToken, call) {
      if (header === undefined || (Array.isArray(header) && header.length === 0)) {
        if ((call?.require ?? required) === 'agent-tokens' && agentMade(principal)) {
          throw new DelegationError(
            'AGENTID_DELEGATION_MISSING',
            `The token was obtained by an agent but came without its ${DELEGATION_HEADER} header, and this service requires one (require: 'agent-tokens')`,
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
      const user = {
        oid: principal.oid,
        tid: principal.tid,
        ...(upn ? { upn } : {}),
        ...(v.subType !== 'user' ? { type: v.subType } : {}),
      };
      const ctx = freeze(user, v.chain, v.tp, v.prev, v.source);
      if (Object.isFrozen(principal)) v.last = { principal, ctx };
      return ctx;
    },
  };
  Object.freeze(codec);
  registerKeys(codec, keys);
  return codec;
}
