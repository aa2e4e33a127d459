import { DirectoryError, type Tenant } from './directory.js';
import type { GroupSeed } from './types.js';

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

/**
 * A security group of a tenant (it may sponsor agent identities).
 *
 * @example
 * ```ts
 * const group: Group = { id: groupId, displayName: 'Agent owners', members: [userId], tenantId };
 * ```
 */
export interface Group {
  id: string;
  displayName: string;
  members: string[];
  tenantId: string;
}

/** The tenant's groups (made on first use, so tenants built elsewhere need no change). */
export function groupsOf(t: Tenant): Map<string, Group> {
  t.groups ??= new Map();
  return t.groups;
}

/** Adds seeded groups to a tenant. */
export function addGroups(t: Tenant, seeds: readonly GroupSeed[] | undefined): void {
  for (const g of seeds ?? []) {
    if (!g || typeof g.id !== 'string' || !g.id) throw new TypeError('group id must be a non-empty string');
    groupsOf(t).set(g.id, {
      id: g.id,
      displayName: g.displayName ?? g.id,
      members: [...(g.members ?? [])],
      tenantId: t.id,
    });
  }
}

/** Sponsors as Entra checks them: 1 to 100 users or groups of the tenant, at most 5 groups. */
export function checkSponsors(t: Tenant, sponsors: unknown): asserts sponsors is string[] {
  if (!Array.isArray(sponsors) || sponsors.length === 0)
    throw new DirectoryError(
      400,
      'Request_BadRequest',
      'At least one sponsor is required for an agent identity',
    );
  if (sponsors.length > MAX_SPONSORS)
    throw new DirectoryError(
      400,
      'Request_BadRequest',
      `An agent identity can have at most ${MAX_SPONSORS} sponsors (got ${sponsors.length})`,
    );
  let groups = 0;
  for (const s of sponsors) {
    if (typeof s === 'string' && groupsOf(t).has(s)) groups++;
    else if (typeof s !== 'string' || !t.users.has(s))
      throw new DirectoryError(
        400,
        'Request_BadRequest',
        `sponsor ${String(s)} is not a user or a group in this tenant`,
      );
  }
  if (groups > MAX_GROUP_SPONSORS)
    throw new DirectoryError(
      400,
      'Request_BadRequest',
      `At most ${MAX_GROUP_SPONSORS} of an agent identity's sponsors may be groups (got ${groups})`,
    );
}
