import { createMemo } from '@agentid/core/broker';

/** @internal */
export interface BearerReader {
  /** The token of a header whose token was validated before, if it is remembered. */
  known(header: string | readonly string[] | undefined): string | undefined;
  /** Called once the token of `header` (from `parseAuthorizationHeader`) has been validated. */
  remember(header: string | readonly string[] | undefined, token: string): void;
}

interface RememberedHeader {
  readonly header: string;
  readonly token: string;
}

const INDEX_CHARS = 32;
const indexOf = (header: string): string =>
  header.length > INDEX_CHARS ? header.slice(-INDEX_CHARS) : header;

/**
 * Parsing a header is a pure function of its value, and a client sends the same header with every
 * request of a session: headers whose token was validated are remembered. Two costs are saved per
 * request: the syntax check over the whole header, and hashing a new token string in the caches
 * keyed by the token downstream (the remembered token string was hashed when it was first used as
 * a key). The index is the header's last characters (the token's signature); a hit requires the
 * whole header to be equal. Core's bounded memo (`createMemo`, two generations, every operation
 * O(1)) holds them: at most `maxEntries` headers and `maxChars` characters (a generation rotates
 * once it reaches a quarter of `maxChars`, and a header longer than that quarter is not remembered,
 * so a generation never holds more than half).
 * @internal
 */
export function createBearerReader(maxEntries = 10_000, maxChars = 16 * 1024 * 1024): BearerReader {
  const maxHeaderChars = Math.floor(maxChars / 4);
  const remembered = createMemo<string, RememberedHeader>({
    maxEntries: Math.max(1, Math.floor(maxEntries / 2)),
    maxBytes: Math.max(1, maxHeaderChars),
    sizeOf: (_index, entry) => entry.header.length,
  });
  return {
    known(header) {
      if (typeof header !== 'string') return undefined;
      const hit = remembered.get(indexOf(header));
      return hit !== undefined && hit.header === header ? hit.token : undefined;
    },
    remember(header, token) {
      if (typeof header !== 'string' || header.length > maxHeaderChars) return;
      remembered.set(indexOf(header), { header, token });
    },
  };
}
