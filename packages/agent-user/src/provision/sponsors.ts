import { ConfigurationError } from '@agentid/core';

/**
 * A sponsor of an agent identity: a user object id (a plain string), `{ userId }` or `{ groupId }`.
 *
 * @example
 * ```ts
 * const sponsors: SponsorRef[] = [sponsorUserId, { groupId: agentOwnersGroupId }];
 * ```
 */
export type SponsorRef = string | { readonly userId: string } | { readonly groupId: string };

/**
 * Most sponsors an agent identity may have (Entra's limit).
 *
 * @example
 * ```ts
 * if (sponsors.length > MAX_SPONSORS) throw new Error('too many sponsors');
 * ```
 */
export const MAX_SPONSORS = 100;
/**
 * Most of an agent identity's sponsors that may be groups (Entra's limit).
 *
 * @example
 * ```ts
 * const groups = sponsors.filter((s) => typeof s === 'object' && 'groupId' in s).length;
 * if (groups > MAX_GROUP_SPONSORS) throw new Error('too many group sponsors');
 * ```
 */
export const MAX_GROUP_SPONSORS = 5;

export const SAFE_ID = /^[0-9A-Za-z@._-]{1,200}$/;

/** Checks sponsors up front (1 to 100, at most 5 groups, ids only) and makes the `sponsors@odata.bind` list. */
export function sponsorBinds(name: string, sponsors: unknown, bindBase: string): string[] {
  if (!Array.isArray(sponsors) || sponsors.length === 0)
    throw new ConfigurationError(`${name} must list at least one sponsor (a user or group object id)`);
  if (sponsors.length > MAX_SPONSORS)
    throw new ConfigurationError(
      `${name} may list at most ${MAX_SPONSORS} sponsors (got ${sponsors.length})`,
    );
  let groups = 0;
  const binds = sponsors.map((s: unknown, i) => {
    const ref = typeof s === 'string' ? { userId: s } : (s as Record<string, unknown> | null);
    const user = ref?.userId;
    const group = ref?.groupId;
    const id = typeof user === 'string' && group === undefined ? user : group;
    if (typeof id !== 'string' || !SAFE_ID.test(id) || (user !== undefined && group !== undefined))
      throw new ConfigurationError(
        `${name}[${i}] must be a user object id, { userId } or { groupId } with a directory object id`,
      );
    if (group !== undefined) groups++;
    return `${bindBase}/${group !== undefined ? 'groups' : 'users'}/${id}`;
  });
  if (groups > MAX_GROUP_SPONSORS)
    throw new ConfigurationError(`${name} may list at most ${MAX_GROUP_SPONSORS} groups (got ${groups})`);
  return binds;
}
