import type { ClaimsSummary } from './claims.js';

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

// A Date whose setters throw: a frozen AccessToken would otherwise still expose mutable Dates,
// and one caller's `expiresOn.setTime(...)` would change the token every other caller holds.
class ImmutableDate extends Date {}
for (const name of Object.getOwnPropertyNames(Date.prototype)) {
  if (name.startsWith('set')) {
    Object.defineProperty(ImmutableDate.prototype, name, {
      value() {
        throw new TypeError(`AccessToken dates are immutable (${name})`);
      },
    });
  }
}
const frozenDate = (ms: number): Date => Object.freeze(new ImmutableDate(ms));

// Summaries read back from an L2 (JSON) are plain mutable objects: freeze a copy (arrays are
// the only nested values) and leave the caller's object alone.
function freezeSummary(summary: ClaimsSummary): ClaimsSummary {
  if (Object.isFrozen(summary)) return summary;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(summary))
    copy[key] = Array.isArray(value) ? Object.freeze([...value]) : value;
  return Object.freeze(copy) as unknown as ClaimsSummary;
}

/**
 * Everything about a token except the token itself and its times.
 *
 * @example
 * ```ts
 * const meta: AccessTokenMeta = { scopes: ['https://graph.microsoft.com/.default'], subject: agentId, actor: agentId, tenantId };
 * ```
 */
export interface AccessTokenMeta {
  readonly scopes: readonly string[];
  /** Who the token is about (`oid`): agent identity, user, or agent user. */
  readonly subject?: string;
  /** Who acts (`azp`): the agent identity. */
  readonly actor?: string;
  readonly tenantId?: string;
  readonly claims?: ClaimsSummary;
}

/**
 * Input of `createAccessToken`. Times are `Date`s or epoch milliseconds.
 *
 * @example
 * ```ts
 * const init: AccessTokenInit = { token, expiresOn: Date.now() + 3_600_000, scopes: ['api://x/.default'] };
 * ```
 */
export interface AccessTokenInit extends AccessTokenMeta {
  readonly token: string;
  readonly expiresOn: Date | number;
  /** When to refresh ahead of expiry; defaults to `expiresOn`. */
  readonly refreshOn?: Date | number;
}

/**
 * An issued access token. Immutable. The raw token is only reachable through the `token`
 * getter: it is kept in a private field, so it never shows up in `toString()`,
 * `JSON.stringify`, `console.log`/`util.inspect`, `Object.keys` or `{ ...spread }`.
 * `expiresOnTimestamp`/`refreshAfterTimestamp` make it usable where `@azure/core-auth`'s
 * `AccessToken` is expected. Create it with `createAccessToken`.
 *
 * @example
 * ```ts
 * const t = createAccessToken({ token: jwt, expiresOn: exp, scopes });
 * fetch(url, { headers: { authorization: `Bearer ${t.token}` } });
 * console.log(`${t}`); // AccessToken(subject=…, actor=…, expiresOn=2026-…)
 * ```
 */
export class AccessToken implements AccessTokenMeta {
  readonly #token: string;
  readonly tokenType = 'Bearer' as const;
  readonly expiresOn: Date;
  readonly refreshOn: Date;
  readonly expiresOnTimestamp: number;
  readonly refreshAfterTimestamp: number;
  readonly scopes: readonly string[];
  declare readonly subject?: string;
  declare readonly actor?: string;
  declare readonly tenantId?: string;
  declare readonly claims?: ClaimsSummary;

  /** @internal Use `createAccessToken`. */
  constructor(init: AccessTokenInit) {
    if (typeof init?.token !== 'string' || init.token === '')
      throw new TypeError('token must be a non-empty string');
    const expires = +init.expiresOn;
    const refresh = init.refreshOn === undefined ? expires : +init.refreshOn;
    if (!Number.isFinite(expires)) throw new TypeError('expiresOn must be a valid Date or epoch ms');
    if (!Number.isFinite(refresh)) throw new TypeError('refreshOn must be a valid Date or epoch ms');
    if (!Array.isArray(init.scopes) || init.scopes.some((s) => typeof s !== 'string')) {
      throw new TypeError('scopes must be an array of strings');
    }
    this.#token = init.token;
    this.expiresOn = frozenDate(expires);
    this.refreshOn = frozenDate(Math.min(refresh, expires));
    this.expiresOnTimestamp = expires;
    this.refreshAfterTimestamp = this.refreshOn.getTime();
    this.scopes = Object.isFrozen(init.scopes) ? init.scopes : Object.freeze([...init.scopes]);
    if (init.subject !== undefined) this.subject = init.subject;
    if (init.actor !== undefined) this.actor = init.actor;
    if (init.tenantId !== undefined) this.tenantId = init.tenantId;
    if (init.claims !== undefined) this.claims = freezeSummary(init.claims);
    Object.freeze(this);
  }

  /** The raw bearer token. Handle with care: never log it. */
  get token(): string {
    return this.#token;
  }

  /** Whether the token has expired at `now` (epoch ms). */
  isExpired(now: number = Date.now()): boolean {
    return now >= this.expiresOnTimestamp;
  }

  /** A log-safe description, e.g. `AccessToken(subject=…, actor=…, expiresOn=…)`. */
  toString(): string {
    return `AccessToken(subject=${this.subject ?? '-'}, actor=${this.actor ?? '-'}, expiresOn=${this.expiresOn.toISOString()})`;
  }

  /** A log-safe plain object: every field except the token. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {
      tokenType: this.tokenType,
      scopes: this.scopes,
      expiresOn: this.expiresOn.toISOString(),
      refreshOn: this.refreshOn.toISOString(),
    };
    if (this.subject !== undefined) out['subject'] = this.subject;
    if (this.actor !== undefined) out['actor'] = this.actor;
    if (this.tenantId !== undefined) out['tenantId'] = this.tenantId;
    if (this.claims !== undefined) out['claims'] = this.claims;
    return out;
  }

  /** `console.log` and `util.inspect` show the same as `toString()`. */
  [INSPECT](): string {
    return this.toString();
  }
}

/**
 * Creates a frozen {@link AccessToken}. Throws `TypeError` on an empty token, invalid times or
 * non-string scopes. `refreshOn` is clamped to `expiresOn`.
 *
 * @example
 * ```ts
 * const t = createAccessToken({ token: jwt, expiresOn: new Date(exp * 1000), scopes: ['api://x/.default'], subject: oid, actor: azp, tenantId: tid });
 * ```
 */
export function createAccessToken(init: AccessTokenInit): AccessToken {
  return new AccessToken(init);
}

/**
 * Type guard for tokens made by `createAccessToken`.
 *
 * @example
 * ```ts
 * if (isAccessToken(value)) use(value.token);
 * ```
 */
export function isAccessToken(value: unknown): value is AccessToken {
  return value instanceof AccessToken;
}
