/** @internal */
export interface BearerReader {
  /** The token of a header whose token was validated before, if it is remembered. */
  known(header: string | readonly string[] | undefined): string | undefined;
  /** Called once the token of `header` (from `parseAuthorizationHeader`) has been validated. */
  remember(header: string | readonly string[] | undefined, token: string): void;
}

const INDEX_CHARS = 32;
const indexOf = (header: string): string => (header.length > INDEX_CHARS ? header.slice(-INDEX_CHARS) : header);

/**
 * Parsing a header is a pure function of its value, and a client sends the same header with every
 * request of a session: headers whose token was validated are remembered. Two costs are saved per
 * request: the syntax check over the whole header, and hashing a new token string in the caches
 * keyed by the token downstream (the remembered token string was hashed when it was first used as
 * a key). The index is the header's last characters (the token's signature); a hit requires the
 * whole header to be equal. Two generations of Maps (the young one becomes the old one when full,
 * the previous old one is dropped whole), so every operation is O(1) and at most `maxEntries`
 * headers and `maxChars` characters are held.
 * @internal
 */
export function createBearerReader(maxEntries = 10_000, maxChars = 16 * 1024 * 1024): BearerReader {
  const perGeneration = Math.max(1, Math.floor(maxEntries / 2));
  const charsPerGeneration = maxChars / 2;
  let young = new Map<string, { header: string; token: string }>();
  let old = new Map<string, { header: string; token: string }>();
  let chars = 0;
  const put = (key: string, entry: { header: string; token: string }) => {
    if (young.size >= perGeneration || chars + entry.header.length > charsPerGeneration) {
      old = young;
      young = new Map();
      chars = 0;
    }
    old.delete(key);
    const replaced = young.get(key);
    if (replaced !== undefined) chars -= replaced.header.length;
    young.set(key, entry);
    chars += entry.header.length;
  };
  return {
    known(header) {
      if (typeof header !== 'string') return undefined;
      const key = indexOf(header);
      let hit = young.get(key);
      if (hit === undefined) {
        hit = old.get(key);
        // What is still in use moves to the young generation, so it outlives the next rotation.
        if (hit !== undefined && hit.header === header) put(key, hit);
      }
      return hit !== undefined && hit.header === header ? hit.token : undefined;
    },
    remember(header, token) {
      if (typeof header !== 'string' || header.length > charsPerGeneration) return;
      put(indexOf(header), { header, token });
    },
  };
}
