import { type Blueprint, ConfigurationError, ProvisioningError } from '@agentid/core';
import { createGraphClient, type GraphClient, odataString } from './graph-client.js';
import { SAFE_ID, sponsorBinds } from './sponsors.js';
import type {
  AgentIdentityInfo,
  AgentUserInfo,
  CreateAgentIdentityRequest,
  CreateAgentUserRequest,
  Provisioner,
  ProvisionerOptions,
} from './types.js';

const MAX_TAG = 256;

const checkId = (name: string, id: unknown): string => {
  if (typeof id !== 'string' || !SAFE_ID.test(id))
    throw new ConfigurationError(`${name} must be a directory object id`);
  return encodeURIComponent(id);
};

const checkText = (name: string, value: unknown): string => {
  if (typeof value !== 'string' || value.trim() === '') throw new ConfigurationError(`${name} is required`);
  return value;
};

function checkTags(name: string, tags: unknown): string[] {
  if (tags === undefined) return [];
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string' || t === '' || t.length > MAX_TAG))
    throw new ConfigurationError(
      `${name} must be an array of non-empty strings (at most ${MAX_TAG} characters)`,
    );
  return [...(tags as string[])];
}

const identityOf = (r: Record<string, unknown>): AgentIdentityInfo => {
  const deleted = typeof r.deletedDateTime === 'string' ? Date.parse(r.deletedDateTime) : NaN;
  return Object.freeze({
    id: String(r.appId ?? r.id),
    displayName: String(r.displayName ?? ''),
    tags: Object.freeze(
      Array.isArray(r.tags) ? r.tags.filter((t): t is string => typeof t === 'string') : [],
    ),
    ...(Number.isFinite(deleted) ? { deletedAt: deleted } : {}),
  });
};

const agentUserOf = (r: Record<string, unknown>): AgentUserInfo =>
  Object.freeze({
    id: String(r.id),
    userPrincipalName: String(r.userPrincipalName),
    identityParentId: String(r.identityParentId),
  });

/** A 404 from a delete or purge: already gone (another sweeper, a second dispose). */
export const isGone = (e: unknown): boolean => e instanceof ProvisioningError && e.status === 404;

/**
 * Creates a {@link Provisioner} for a blueprint on Microsoft Graph v1.0 (or beta): agent identities
 * (sponsors users or groups), agent users, deleted items; `OData-Version: 4.0` on every body,
 * retries of Entra's replication delay, Graph's documented Agent ID errors typed.
 *
 * @example
 * ```ts
 * const provisioner = createProvisioner(blueprint, { graphVersion: 'v1.0' });
 * const agent = await provisioner.createAgentIdentity({ displayName: 'Ticket triage', sponsors: [{ groupId }] });
 * ```
 */
export function createProvisioner(blueprint: Blueprint, options: ProvisionerOptions = {}): Provisioner {
  const graph: GraphClient = createGraphClient(blueprint, options);
  const v = graph.version;
  const bindBase = `${graph.base}/${v}`;
  const paths =
    v === 'v1.0'
      ? {
          agentIdentity: '/servicePrincipals/microsoft.graph.agentIdentity',
          agentUser: '/users/microsoft.graph.agentUser',
        }
      : { agentIdentity: '/serviceprincipals/Microsoft.Graph.AgentIdentity', agentUser: '/users' };

  async function findAgentUser(agentIdentityId: string): Promise<AgentUserInfo | undefined> {
    checkId('findAgentUser: agentIdentityId', agentIdentityId);
    const filter = encodeURIComponent(`identityParentId eq ${odataString(agentIdentityId)}`);
    const found = await graph.list(`/users/microsoft.graph.agentUser?$filter=${filter}`);
    return found[0] ? agentUserOf(found[0]) : undefined;
  }

  async function purgeDeletedItem(id: string): Promise<void> {
    await graph.call('DELETE', `/directory/deletedItems/${checkId('purgeDeletedItem: id', id)}`);
  }

  return Object.freeze({
    graphVersion: v,
    async createBlueprintPrincipal() {
      const r = await graph.call(
        'POST',
        '/serviceprincipals/microsoft.graph.agentIdentityBlueprintPrincipal',
        {
          '@odata.type': '#microsoft.graph.agentIdentityBlueprintPrincipal',
          appId: blueprint.clientId,
        },
      );
      return Object.freeze({ id: String(r.id), appId: String(r.appId ?? blueprint.clientId) });
    },
    async createAgentIdentity(request: CreateAgentIdentityRequest) {
      if (request === null || typeof request !== 'object')
        throw new ConfigurationError('createAgentIdentity: request must be an object');
      const displayName = checkText('createAgentIdentity: displayName', request.displayName);
      const sponsors = sponsorBinds('createAgentIdentity: sponsors', request.sponsors, bindBase);
      const owners = (request.owners ?? []).map(
        (o, i) => `${bindBase}/users/${checkId(`createAgentIdentity: owners[${i}]`, o)}`,
      );
      const tags = checkTags('createAgentIdentity: tags', request.tags);
      const r = await graph.call('POST', paths.agentIdentity, {
        displayName,
        agentIdentityBlueprintId: blueprint.clientId,
        'sponsors@odata.bind': sponsors,
        ...(owners.length ? { 'owners@odata.bind': owners } : {}),
        ...(tags.length ? { tags } : {}),
      });
      return identityOf(r);
    },
    async listAgentIdentities(filter: { tag?: string } = {}) {
      const tag =
        filter.tag === undefined ? undefined : checkTags('listAgentIdentities: tag', [filter.tag])[0];
      const clauses = [`agentIdentityBlueprintId eq ${odataString(blueprint.clientId)}`];
      if (tag !== undefined) clauses.push(`tags/any(t:t eq ${odataString(tag)})`);
      const filterText = encodeURIComponent(clauses.join(' and '));
      const found = await graph.list(
        `/servicePrincipals/microsoft.graph.agentIdentity?$filter=${filterText}`,
      );
      return found.map(identityOf);
    },
    async deleteAgentIdentity(id: string, deleteOptions: { purge?: boolean } = {}) {
      const safe = checkId('deleteAgentIdentity: id', id);
      await graph.call('DELETE', `/servicePrincipals/${safe}`);
      await blueprint.invalidate({ agent: id });
      if (deleteOptions.purge) await purgeDeletedItem(id);
    },
    async createAgentUser(request: CreateAgentUserRequest) {
      if (request === null || typeof request !== 'object')
        throw new ConfigurationError('createAgentUser: request must be an object');
      if (
        typeof request.userPrincipalName !== 'string' ||
        !/^[^@\s]+@[^@\s]+$/.test(request.userPrincipalName)
      )
        throw new ConfigurationError('createAgentUser: userPrincipalName must be a UPN');
      const displayName = checkText('createAgentUser: displayName', request.displayName);
      checkId('createAgentUser: agentIdentityId', request.agentIdentityId);
      const mailNickname =
        request.mailNickname === undefined
          ? request.userPrincipalName.split('@')[0]!
          : checkText('createAgentUser: mailNickname', request.mailNickname);
      try {
        const r = await graph.call('POST', paths.agentUser, {
          '@odata.type': 'microsoft.graph.agentUser',
          displayName,
          userPrincipalName: request.userPrincipalName,
          mailNickname,
          accountEnabled: true,
          identityParentId: request.agentIdentityId,
        });
        return agentUserOf(r);
      } catch (error) {
        // Graph answers a second agent user for the same parent with a plain 400 (no documented
        // code): ask Graph whether the parent already has one rather than guess from the text.
        if (!(error instanceof ProvisioningError) || error.status !== 400) throw error;
        const existing = await findAgentUser(request.agentIdentityId).catch(() => undefined);
        if (!existing) throw error;
        throw new ProvisioningError(
          'AGENTID_AGENT_USER_EXISTS',
          `Agent identity ${request.agentIdentityId} already has its agent user ${existing.id} (at most one per agent identity): use it, or delete it first`,
          { status: 400, cause: error, ...(error.error !== undefined ? { error: error.error } : {}) },
        );
      }
    },
    findAgentUser,
    async deleteAgentUser(id: string, deleteOptions: { purge?: boolean } = {}) {
      await graph.call('DELETE', `/users/${checkId('deleteAgentUser: id', id)}`);
      await blueprint.invalidate({ user: id });
      if (deleteOptions.purge) await purgeDeletedItem(id);
    },
    async listDeletedAgentIdentities() {
      const found = await graph.list('/directory/deletedItems/microsoft.graph.agentIdentity');
      return found
        .filter(
          (r) =>
            r.agentIdentityBlueprintId === undefined || r.agentIdentityBlueprintId === blueprint.clientId,
        )
        .map(identityOf);
    },
    async restoreDeletedItem(id: string) {
      await graph.call(
        'POST',
        `/directory/deletedItems/${checkId('restoreDeletedItem: id', id)}/restore`,
        {},
      );
    },
    purgeDeletedItem,
  });
}
