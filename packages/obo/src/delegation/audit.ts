import { createHash } from 'node:crypto';
import { decodeJwtClaims, DelegationError } from '@agentid/core';
import { decodeJwt } from 'jose';
import { toPrincipal } from '../validate/principal.js';
import { chainOf, type DelegationContext, freeze, startDelegation } from './context.js';
import { readActors, readPrev } from './format.js';

/**
 * The chain in a flat, queryable form: the same keys as the span attributes of each hop, so that
 * logs and traces are searched alike (`agentid.chain` contains an agent id; `agentid.chain.depth` > 3).
 * Arrays are in chain order (first = the agent the subject called); a blueprint not known is `''`.
 *
 * @example
 * ```ts
 * log.info({ ...chainAttributes(ctx) }, 'tool call');
 * ```
 */
export type ChainAttributes = {
  readonly 'agentid.chain': readonly string[];
  readonly 'agentid.chain.depth': number;
  readonly 'agentid.chain.tenants': readonly string[];
  readonly 'agentid.chain.blueprints': readonly string[];
  readonly 'agentid.chain.subject': string;
  readonly 'agentid.chain.subject_profile': string;
  /** The hash of the other trust domain's chain that this one continues. */
  readonly 'agentid.chain.prev'?: string;
  readonly 'agentid.chain.prev_iss'?: string;
};

// Every span and audit event of a request reads its chain's attributes: one object per frozen context.
const memo = new WeakMap<DelegationContext, ChainAttributes>();

/**
 * The flat attributes of a chain ({@link ChainAttributes}), for spans, audit events and logs.
 *
 * @example
 * ```ts
 * span.setAttributes(chainAttributes(ctx));
 * ```
 */
export function chainAttributes(ctx: DelegationContext): ChainAttributes {
  const known = memo.get(ctx);
  if (known) return known;
  const chain = chainOf(ctx);
  const attributes: ChainAttributes = Object.freeze({
    'agentid.chain': Object.freeze(chain.map((a) => a.id)),
    'agentid.chain.depth': chain.length,
    'agentid.chain.tenants': Object.freeze(chain.map((a) => a.tenantId)),
    'agentid.chain.blueprints': Object.freeze(chain.map((a) => a.blueprintId ?? '')),
    'agentid.chain.subject': ctx.user.oid.toLowerCase(),
    'agentid.chain.subject_profile': ctx.user.type ?? 'user',
    ...(ctx.prev ? { 'agentid.chain.prev': ctx.prev.hash, 'agentid.chain.prev_iss': ctx.prev.iss } : {}),
  });
  if (Object.isFrozen(ctx)) memo.set(ctx, attributes);
  return attributes;
}

/**
 * The chain of one request (its bearer token and its chain header, if any) as {@link ChainAttributes},
 * for the service's own logs. It reads, it does not authorize: call it after the codec (or the
 * standalone verifier) accepted the request. It checks that the header is bound to this token (`ath`)
 * and is well formed (`AGENTID_DELEGATION_INVALID` otherwise); without a header, the chain is the one
 * the token implies (its agent, when an agent obtained it). Never returns the token or the header.
 *
 * @example
 * ```ts
 * log.info({ ...auditChain(bearer, req.headers['x-agentid-delegation']) }, 'request');
 * ```
 */
export function auditChain(token: string, header?: string | readonly string[]): ChainAttributes {
  const claims = decodeJwtClaims(token) as Record<string, unknown>;
  const principal = toPrincipal(claims, String(claims.oid ?? claims.sub ?? ''), String(claims.tid ?? ''));
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === '') return chainAttributes(startDelegation(principal));
  let chainClaims: Record<string, unknown>;
  try {
    chainClaims = decodeJwt(value as string);
  } catch (e) {
    throw new DelegationError('AGENTID_DELEGATION_INVALID', 'The delegation header is not a compact JWS', {
      cause: e,
    });
  }
  if (chainClaims.ath !== createHash('sha256').update(token, 'utf8').digest('base64url'))
    throw new DelegationError('AGENTID_DELEGATION_INVALID', 'The delegation header belongs to another token');
  const type = chainClaims.sub_profile;
  const ctx = freeze(
    {
      oid: String(chainClaims.sub ?? principal.oid),
      tid: String(chainClaims.tid ?? principal.tid),
      ...(type === 'agent_user' || type === 'agent_identity' || type === 'application' ? { type } : {}),
    },
    readActors(chainClaims.act),
    undefined,
    readPrev(chainClaims.prev),
  );
  return chainAttributes(ctx);
}
