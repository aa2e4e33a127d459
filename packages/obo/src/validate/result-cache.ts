import { createMemo } from '@agentid/core/broker';
import type { KeySource } from './jwks.js';
import type { Principal } from './principal.js';

/** A validated token's principal, with what every hit re-checks. @internal */
export interface ValidatedEntry {
  /** The whole token: a hit requires this exact string. */
  readonly token: string;
  readonly principal: Principal;
  /** `exp`, and the later of `nbf` and `iat`, in epoch milliseconds. */
  readonly expMs: number;
  readonly nbfMs: number;
  /** Lower-cased scopes and roles, for the per-call any-of checks. */
  readonly scopes: ReadonlySet<string>;
  readonly roles: ReadonlySet<string>;
  /** The key set and kid that verified the token: a hit needs the key still listed. */
  readonly keys?: KeySource;
  readonly kid?: string;
  /** The key set's generation when the kid was last seen in it (a hit compares it, then looks the kid up when it moved). */
  keysGeneration?: number;
}

/** @internal */
export interface ResultCache {
  get(token: string): ValidatedEntry | undefined;
  set(entry: ValidatedEntry): void;
  delete(token: string): void;
}

// Looking a token up by itself hashes the whole string (about 1.5 ns per character, so 2-4 µs for an
// Entra token, on every request: each request's header is a new string). The index is the token's
// last characters (its signature), which are unique per token; a hit still requires the whole token to
// be equal, so two tokens sharing the index never share a result.
const INDEX_CHARS = 32;
const indexOf = (token: string): string => (token.length > INDEX_CHARS ? token.slice(-INDEX_CHARS) : token);

/**
 * A bounded cache of validations, keyed (in effect) by the full token: core's bounded memo
 * (`createMemo`: two generations, every operation O(1), a token in use survives every rotation),
 * indexed by the token's signature, each entry holding the whole token a hit must equal. Each
 * generation holds half of `maxEntries`, so at most `maxEntries` are held.
 * @internal
 */
export function createResultCache(maxEntries: number): ResultCache {
  const memo = createMemo<string, ValidatedEntry>({ maxEntries: Math.max(1, Math.floor(maxEntries / 2)) });
  return {
    get(token) {
      const entry = memo.get(indexOf(token));
      return entry !== undefined && entry.token === token ? entry : undefined;
    },
    set(entry) {
      memo.set(indexOf(entry.token), entry);
    },
    delete(token) {
      const key = indexOf(token);
      if (memo.get(key)?.token === token) memo.delete(key);
    },
  };
}
