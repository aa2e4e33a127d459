/** The layout of stored values; older layouts are refused (a miss), never served. */
export const VALUE_VERSION = 'v2';

/** The fields of a stored value that decide whether it is served. */
export interface ValueFields {
  /** When it was written, Redis time (ms). */
  readonly writtenAt: number;
  /** When it stops being served, Redis time (ms). */
  readonly expiresAt: number;
  /** Its tags' hashed names, comma-separated. */
  readonly tags: string;
}

const LAYOUT = /^v2\|(\d{1,16})\|(\d{1,16})\|([A-Za-z0-9_,-]*)\|([^|]+)$/;

/**
 * What the AES-GCM associated data binds a value to: the layout version, its Redis key name and
 * every field that decides whether it is served. A value copied under another key, or with any
 * field changed, does not decrypt.
 */
export function boundTo(keyName: string, f: ValueFields): string {
  return `${VALUE_VERSION}|${keyName}|${f.writtenAt}|${f.expiresAt}|${f.tags}`;
}

/** `v2|<written at>|<expires at>|<hashed tags>|<sealed entry>`: the fields in clear for the read script. */
export function encodeValue(f: ValueFields, sealed: string): string {
  return `${VALUE_VERSION}|${f.writtenAt}|${f.expiresAt}|${f.tags}|${sealed}`;
}

/** The fields and the sealed entry of a stored value; `undefined` for any other layout. */
export function parseValue(value: string): (ValueFields & { sealed: string }) | undefined {
  const m = LAYOUT.exec(value);
  if (m === null) return undefined;
  return { writtenAt: Number(m[1]), expiresAt: Number(m[2]), tags: m[3]!, sealed: m[4]! };
}
