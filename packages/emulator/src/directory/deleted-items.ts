import {
  type AgentIdentity,
  type AgentUser,
  type Directory,
  DirectoryError,
  type Tenant,
} from './directory.js';

/**
 * How long Entra keeps a soft-deleted object before removing it for good (30 days).
 *
 * @example
 * ```ts
 * clock.advance(DELETED_RETENTION_MS); // the emulator's deleted items are gone
 * ```
 */
export const DELETED_RETENTION_MS = 30 * 24 * 3600 * 1000;

/** A soft-deleted agent identity or agent user. */
export type DeletedItem = AgentIdentity | AgentUser;

export const isDeletedAgentUser = (item: DeletedItem): item is AgentUser => 'identityParentId' in item;

/** The tenant's deleted items of one kind, oldest first. */
export function listDeleted(d: Directory, t: Tenant, kind: 'agentIdentity' | 'agentUser'): DeletedItem[] {
  return [...d.deletedItems.values()]
    .filter((i) => i.tenantId === t.id && isDeletedAgentUser(i) === (kind === 'agentUser'))
    .sort((a, b) => (a.deletedAt ?? 0) - (b.deletedAt ?? 0));
}

/** A deleted item of the tenant, or a 404 (another tenant's looks as absent as an unknown id). */
export function deletedItem(d: Directory, t: Tenant, id: string): DeletedItem {
  const item = d.deletedItems.get(id);
  if (!item || item.tenantId !== t.id)
    throw new DirectoryError(404, 'Request_ResourceNotFound', `Deleted item '${id}' does not exist`);
  return item;
}

/** Restores a soft-deleted agent identity or agent user as it was (an agent user's parent must exist). */
export function restoreDeleted(d: Directory, t: Tenant, id: string): DeletedItem {
  const item = deletedItem(d, t, id);
  if (isDeletedAgentUser(item)) {
    const parent = t.agents.get(item.identityParentId);
    if (!parent)
      throw new DirectoryError(
        400,
        'Request_BadRequest',
        `The agent identity ${item.identityParentId} of this agent user no longer exists`,
      );
    for (const u of t.agentUsers.values())
      if (u.identityParentId === item.identityParentId)
        throw new DirectoryError(
          400,
          'Request_BadRequest',
          `Agent identity ${item.identityParentId} already has an agent user; at most one is allowed`,
        );
    t.agentUsers.set(item.id, item);
  } else {
    item.deleted = false;
  }
  delete item.deletedAt;
  d.deletedItems.delete(id);
  return item;
}

/** Removes for good what has been deleted for longer than the retention period. */
export function expireDeleted(d: Directory, now: number): void {
  for (const item of [...d.deletedItems.values()]) {
    if (item.deletedAt === undefined || now - item.deletedAt < DELETED_RETENTION_MS) continue;
    d.purgeDeleted(item.tenantId, item.id);
  }
}
