import { ConfigurationError, MalformedResponseError, TokenPolicyError } from '../errors/agent-id-error.js';
import { assertNumber } from '../util/validate.js';

/**
 * Options of {@link createLifetimePolicy}. All in seconds except the fraction.
 *
 * @example
 * ```ts
 * const options: LifetimePolicyOptions = { maxLifetimeSec: 1800, minRemainingSec: 120 };
 * ```
 */
export interface LifetimePolicyOptions {
  /** Never keep a token longer than this after issue, whatever the server says. Default 3600. */
  maxLifetimeSec?: number;
  /** Never hand out a token with less validity left than this. Default 300. */
  minRemainingSec?: number;
  /** Assume our clock and the resource's may differ by this much. Default 60. */
  clockSkewSec?: number;
  /** Without `refresh_in`, refresh once this fraction of the usable window has passed. Default 0.5. */
  refreshAheadFraction?: number;
}

/**
 * What the token endpoint said, and when we received it.
 *
 * @example
 * ```ts
 * const input: TokenTimesInput = { issuedAt: clock.now(), expiresInSec: 3599, refreshInSec: 1800 };
 * ```
 */
export interface TokenTimesInput {
  /** Epoch ms, read from the clock when the response was received. */
  issuedAt: number;
  /** `expires_in`. */
  expiresInSec: number;
  /** `refresh_in`, when the server sent one. */
  refreshInSec?: number;
}

/**
 * The times the cache works with, all in epoch ms: `refreshOn <= usableUntil < expiresOn`.
 *
 * @example
 * ```ts
 * if (now < times.refreshOn) serveFromCache();
 * ```
 */
export interface TokenTimes {
  /** The effective expiry: the server's expiry, capped at `issuedAt + maxLifetime`. */
  expiresOn: number;
  /** The last instant the token is handed out: `expiresOn - minRemaining - clockSkew`. */
  usableUntil: number;
  /** From here on, serve the token but refresh it in the background. */
  refreshOn: number;
}

/**
 * A validated lifetime policy.
 *
 * @example
 * ```ts
 * const times = policy.compute({ issuedAt: Date.now(), expiresInSec: 3599 });
 * ```
 */
export interface LifetimePolicy {
  readonly maxLifetimeSec: number;
  readonly minRemainingSec: number;
  readonly clockSkewSec: number;
  readonly refreshAheadFraction: number;
  /** See {@link createLifetimePolicy} for the arithmetic. Throws TokenPolicyError. */
  compute(input: TokenTimesInput): TokenTimes;
}

/**
 * Creates a {@link LifetimePolicy}. Options are validated up front (`TypeError` naming the
 * option). The arithmetic of `compute({ issuedAt, expiresInSec, refreshInSec })`, in ms:
 *
 * ```
 * expiresOn   = min(issuedAt + expiresIn, issuedAt + maxLifetime)   // cap long-lived (CAE) tokens
 * usableUntil = expiresOn - minRemaining - clockSkew                 // never handed out later
 * refreshOn   = issuedAt + refreshIn            if that is before usableUntil
 *             = issuedAt + fraction × (usableUntil - issuedAt)       otherwise
 * ```
 * A token with `usableUntil <= issuedAt` (it lives no longer than minRemaining + clockSkew) is
 * rejected with {@link TokenPolicyError} (`AGENTID_TOKEN_LIFETIME`); a non-numeric `expires_in`
 * with `AGENTID_MALFORMED_RESPONSE`. With the defaults, a 3600 s token is usable for 3240 s and
 * refreshed from 1620 s on; fraction 1 disables refresh-ahead.
 *
 * @example
 * ```ts
 * const policy = createLifetimePolicy({ minRemainingSec: 120 });
 * const { usableUntil, refreshOn } = policy.compute({ issuedAt: clock.now(), expiresInSec: 3599 });
 * ```
 */
export function createLifetimePolicy(options: LifetimePolicyOptions = {}): LifetimePolicy {
  const {
    maxLifetimeSec = 3600,
    minRemainingSec = 300,
    clockSkewSec = 60,
    refreshAheadFraction = 0.5,
  } = options;
  assertNumber('maxLifetimeSec', maxLifetimeSec, { min: 1 });
  assertNumber('minRemainingSec', minRemainingSec, { min: 0 });
  assertNumber('clockSkewSec', clockSkewSec, { min: 0 });
  assertNumber('refreshAheadFraction', refreshAheadFraction, { min: 0, max: 1 });
  if (minRemainingSec + clockSkewSec >= maxLifetimeSec) {
    throw new ConfigurationError(
      `maxLifetimeSec (${maxLifetimeSec}) must exceed minRemainingSec + clockSkewSec (${minRemainingSec + clockSkewSec}): no token could ever be used`,
    );
  }
  const maxLifetimeMs = maxLifetimeSec * 1000;
  const marginMs = (minRemainingSec + clockSkewSec) * 1000;

  function compute({ issuedAt, expiresInSec, refreshInSec }: TokenTimesInput): TokenTimes {
    assertNumber('issuedAt', issuedAt);
    if (typeof expiresInSec !== 'number' || !Number.isFinite(expiresInSec)) {
      throw new MalformedResponseError('The token response has no numeric expires_in');
    }
    const expiresOn = issuedAt + Math.min(expiresInSec * 1000, maxLifetimeMs);
    const usableUntil = expiresOn - marginMs;
    if (usableUntil <= issuedAt) {
      throw new TokenPolicyError(
        `The issued token lives ${expiresInSec} s; the lifetime policy needs more than ${marginMs / 1000} s (minRemainingSec + clockSkewSec)`,
      );
    }
    const fromFraction = Math.floor(issuedAt + refreshAheadFraction * (usableUntil - issuedAt));
    let refreshOn = fromFraction;
    if (typeof refreshInSec === 'number' && Number.isFinite(refreshInSec)) {
      // refresh_in is the server's hint; it only counts if it leaves time to refresh while the
      // token is still usable. A hint of 0 or less means "refresh as soon as possible".
      const hinted = issuedAt + Math.max(0, refreshInSec * 1000);
      if (hinted < usableUntil) refreshOn = hinted;
    }
    return { expiresOn, usableUntil, refreshOn };
  }

  return Object.freeze({ maxLifetimeSec, minRemainingSec, clockSkewSec, refreshAheadFraction, compute });
}
