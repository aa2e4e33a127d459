import type { GraphOptions } from './graph-client.js';
import type { SponsorRef } from './sponsors.js';

/**
 * Options of {@link createProvisioner}.
 *
 * @example
 * ```ts
 * const options: ProvisionerOptions = { graphBaseUrl: emu.baseUrl, graphVersion: 'v1.0' };
 * ```
 */
export type ProvisionerOptions = GraphOptions;

/**
 * An agent identity as Graph returns it.
 *
 * @example
 * ```ts
 * const { id, tags } = await provisioner.createAgentIdentity({ displayName: 'Ticket triage', sponsors: [sponsorId] });
 * ```
 */
export interface AgentIdentityInfo {
  /** The agent identity's id (its client id for tokens: `blueprint.agent(id)`). */
  readonly id: string;
  readonly displayName: string;
  /** The service principal's `tags` (ephemeral agents carry `agentid:ephemeral`). */
  readonly tags: readonly string[];
  /** When it was soft-deleted (epoch ms), for items listed from deleted items. */
  readonly deletedAt?: number;
}

/**
 * An agent user as Graph returns it.
 *
 * @example
 * ```ts
 * const { id, userPrincipalName } = await provisioner.createAgentUser({ agentIdentityId, userPrincipalName, displayName });
 * ```
 */
export interface AgentUserInfo {
  readonly id: string;
  readonly userPrincipalName: string;
  readonly identityParentId: string;
}

/**
 * What {@link Provisioner.createAgentIdentity} takes.
 *
 * @example
 * ```ts
 * const request: CreateAgentIdentityRequest = { displayName: 'Ticket triage', sponsors: [sponsorId, { groupId }], tags: ['team:support'] };
 * ```
 */
export interface CreateAgentIdentityRequest {
  displayName: string;
  /** 1 to 100 sponsors, users or groups (at most 5 groups). */
  sponsors: readonly SponsorRef[];
  /** Owner user ids (optional). */
  owners?: readonly string[];
  /** `tags` of the service principal. */
  tags?: readonly string[];
}

/**
 * What {@link Provisioner.createAgentUser} takes.
 *
 * @example
 * ```ts
 * const request: CreateAgentUserRequest = { agentIdentityId, userPrincipalName: 'triage@contoso.com', displayName: 'Triage' };
 * ```
 */
export interface CreateAgentUserRequest {
  agentIdentityId: string;
  /** A UPN in a verified domain of the tenant. */
  userPrincipalName: string;
  displayName: string;
  /** Default: the UPN's local part. */
  mailNickname?: string;
}

/**
 * Graph calls a blueprint may make for its own agents, authorized by its own app token.
 *
 * @example
 * ```ts
 * const p = createProvisioner(blueprint);
 * const agent = await p.createAgentIdentity({ displayName: 'Ticket triage', sponsors: [sponsorId] });
 * await p.createAgentUser({ agentIdentityId: agent.id, userPrincipalName: 'triage@contoso.com', displayName: 'Triage' });
 * ```
 */
export interface Provisioner {
  /** The Graph API version in use (`v1.0` unless `graphVersion: 'beta'`). */
  readonly graphVersion: 'v1.0' | 'beta';
  /** Creates the blueprint's principal in its tenant (required before its first agent identity). */
  createBlueprintPrincipal(): Promise<{ id: string; appId: string }>;
  /** Creates an agent identity under the blueprint, with sponsors (users or groups). */
  createAgentIdentity(request: CreateAgentIdentityRequest): Promise<AgentIdentityInfo>;
  /** The blueprint's active agent identities, optionally only those with a tag. */
  listAgentIdentities(filter?: { tag?: string }): Promise<AgentIdentityInfo[]>;
  /** Soft-deletes an agent identity (and drops its cached tokens); `purge: true` also removes it from deleted items. Its agent user is not deleted by Entra: delete it first. */
  deleteAgentIdentity(id: string, options?: { purge?: boolean }): Promise<void>;
  /** One agent user per agent identity: a second one fails with `AGENTID_AGENT_USER_EXISTS`. */
  createAgentUser(request: CreateAgentUserRequest): Promise<AgentUserInfo>;
  /** The agent user of an agent identity (looked up by `identityParentId`), if it has one. */
  findAgentUser(agentIdentityId: string): Promise<AgentUserInfo | undefined>;
  /** Deletes an agent user; `purge: true` also removes it from deleted items. */
  deleteAgentUser(id: string, options?: { purge?: boolean }): Promise<void>;
  /** The blueprint's soft-deleted agent identities (they count toward the 250 limit until purged). */
  listDeletedAgentIdentities(): Promise<AgentIdentityInfo[]>;
  /** Restores a soft-deleted agent identity or agent user. */
  restoreDeletedItem(id: string): Promise<void>;
  /** Permanently deletes a soft-deleted object (`DELETE /directory/deletedItems/{id}`). */
  purgeDeletedItem(id: string): Promise<void>;
}
