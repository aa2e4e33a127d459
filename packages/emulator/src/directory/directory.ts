import { DEFAULT_BLOCKED_ROLES, GRAPH_APP_ID, GRAPH_RESOURCE, isGuid, newId } from '../ids.js';
import { addGroups, checkSponsors, type Group } from './groups.js';
import type {
  AgentIdentitySeed,
  AppRoleAssignmentSeed,
  BlueprintPrincipalSeed,
  CredentialSeed,
  DelegatedGrantSeed,
  DirectorySeed,
  ExternalIssuerSeed,
  ManagedIdentitySeed,
  ResourceSeed,
  TenantSeed,
  UserSeed,
} from './types.js';

/** Most active (or soft-deleted) agent identities one blueprint may have. */
export const MAX_AGENTS_PER_BLUEPRINT = 250;
/** Most resource apps a blueprint may declare inheritable permissions for. */
export const MAX_INHERITABLE_RESOURCES = 10;

/** A failed directory change, shaped for Graph's error body. */
export class DirectoryError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'DirectoryError';
  }
}

export interface Resource {
  appId: string;
  displayName: string;
  identifierUri: string | undefined;
  scopes: Set<string>;
  appRoles: Set<string>;
  tokenVersion: 1 | 2;
  tokenLifetimeSec: number | undefined;
}

export interface Client {
  kind: 'blueprint' | 'app' | 'agent';
  appId: string;
  tenantId: string;
  enabled: boolean;
  credentials: Required<CredentialSeed>;
  publicClient: boolean;
}

export interface Blueprint extends Resource, Client {
  kind: 'blueprint';
  /** The tenant where the blueprint application is registered (its credentials live there). */
  homeTenantId: string;
  principalId: string | undefined;
  inheritable: Map<string, { scopes: Set<string>; roles: Set<string> }>;
  /** The application object id (Graph-made blueprints; a seeded one is addressed by its app id). */
  objectId?: string;
  /** Apps and users that own it (the creator of a Graph-made one): they may manage it. */
  owners?: string[];
}

export interface App extends Resource, Client {
  kind: 'app';
}

export interface AgentIdentity {
  id: string;
  displayName: string;
  blueprintAppId: string;
  tenantId: string;
  sponsors: string[];
  enabled: boolean;
  deleted: boolean;
  /** `tags` of the service principal (Graph), e.g. a marker for ephemeral agents. */
  tags?: string[];
  owners?: string[];
  /** Epoch ms of creation (Graph-made ones) and of the soft delete. */
  createdAt?: number;
  deletedAt?: number;
}

export interface AgentUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  identityParentId: string;
  tenantId: string;
  /** The blueprint of its parent, kept so that its blueprint can still manage it once the parent is purged. */
  blueprintAppId?: string;
  deletedAt?: number;
}

export interface User extends UserSeed {
  tenantId: string;
  displayName: string;
}

export interface Tenant {
  id: string;
  domain: string;
  blueprints: Map<string, Blueprint>;
  apps: Map<string, App>;
  resources: Map<string, Resource>;
  agents: Map<string, AgentIdentity>;
  agentUsers: Map<string, AgentUser>;
  users: Map<string, User>;
  managedIdentities: Map<string, ManagedIdentitySeed>;
  delegatedGrants: DelegatedGrantSeed[];
  appRoleAssignments: AppRoleAssignmentSeed[];
  /** Security groups (sponsors of agent identities may be groups). */
  groups?: Map<string, Group>;
}

const lower = (s: string): string => s.toLowerCase();

function toResource(seed: ResourceSeed): Resource {
  return {
    appId: seed.appId,
    displayName: seed.displayName ?? seed.appId,
    identifierUri: seed.identifierUri,
    scopes: new Set(seed.scopes ?? []),
    appRoles: new Set(seed.appRoles ?? []),
    tokenVersion: seed.tokenVersion ?? 2,
    tokenLifetimeSec: seed.tokenLifetimeSec,
  };
}

function toCredentials(c: CredentialSeed | undefined): Required<CredentialSeed> {
  return {
    secrets: [...(c?.secrets ?? [])],
    certificates: [...(c?.certificates ?? [])],
    trustedSubjects: [...(c?.trustedSubjects ?? [])],
    federated: (c?.federated ?? []).map((f) => ({
      ...f,
      audiences: f.audiences ?? ['api://AzureADTokenExchange'],
    })),
  };
}

function graphResource(): Resource {
  return toResource({
    appId: GRAPH_APP_ID,
    displayName: 'Microsoft Graph',
    identifierUri: GRAPH_RESOURCE,
    scopes: [
      'User.Read',
      'Mail.Read',
      'Mail.Send',
      'Calendars.Read',
      'Files.Read',
      'AgentIdentity.ReadWrite.All',
      'AgentIdentityBlueprint.Create',
      'AgentIdUser.ReadWrite.All',
    ],
    appRoles: [
      'AgentIdentity.CreateAsManager',
      'AgentIdUser.ReadWrite.IdentityParentedBy',
      'AgentIdentityBlueprint.Create',
      'AgentIdentity.Create.All',
      'AgentIdentity.DeleteRestore.All',
      'User.Read.All',
      ...DEFAULT_BLOCKED_ROLES,
    ],
  });
}

/**
 * The emulator's directory: tenants and everything in them. One model serves the token
 * endpoint, the Graph subset and the tests that seed or inspect it.
 */
export class Directory {
  readonly tenants = new Map<string, Tenant>();
  readonly externalIssuers: ExternalIssuerSeed[];
  readonly blockedRoles: Set<string>;
  readonly deletedItems = new Map<string, AgentIdentity | AgentUser>();

  constructor(seed: DirectorySeed) {
    if (!seed || !Array.isArray(seed.tenants)) throw new TypeError('seed.tenants must be an array');
    this.externalIssuers = [...(seed.externalIssuers ?? [])];
    this.blockedRoles = new Set([...DEFAULT_BLOCKED_ROLES, ...(seed.blockedRoles ?? [])].map(lower));
    for (const t of seed.tenants) this.addTenant(t);
  }

  /** Adds a tenant and everything in it, validating the rules Entra enforces. */
  addTenant(seed: TenantSeed): Tenant {
    if (!seed.id || !isGuid(seed.id)) throw new TypeError(`tenant id must be a GUID: ${String(seed.id)}`);
    if (this.tenants.has(seed.id)) throw new TypeError(`duplicate tenant ${seed.id}`);
    const t: Tenant = {
      id: seed.id,
      domain: seed.domain ?? `${seed.id.slice(0, 8)}.onmicrosoft.com`,
      blueprints: new Map(),
      apps: new Map(),
      resources: new Map([[GRAPH_APP_ID, graphResource()]]),
      agents: new Map(),
      agentUsers: new Map(),
      users: new Map(),
      managedIdentities: new Map(),
      delegatedGrants: [],
      appRoleAssignments: [],
    };
    this.tenants.set(t.id, t);
    for (const u of seed.users ?? [])
      t.users.set(u.id, { ...u, tenantId: t.id, displayName: u.displayName ?? u.userPrincipalName });
    for (const r of seed.resources ?? []) t.resources.set(r.appId, toResource(r));
    for (const a of seed.apps ?? []) {
      t.apps.set(a.appId, {
        ...toResource(a),
        kind: 'app',
        tenantId: t.id,
        enabled: a.enabled ?? true,
        credentials: toCredentials(a.credentials),
        publicClient: a.publicClient ?? false,
      });
    }
    for (const b of seed.blueprints ?? []) {
      const inheritable = new Map<string, { scopes: Set<string>; roles: Set<string> }>();
      for (const p of b.inheritablePermissions ?? []) {
        const blocked = (p.roles ?? []).find((r) => this.isBlockedRole(r));
        if (blocked)
          throw new DirectoryError(
            400,
            'Request_BadRequest',
            `role ${blocked} is high-privilege and can never be granted to agents`,
          );
        inheritable.set(p.resourceAppId, { scopes: new Set(p.scopes ?? []), roles: new Set(p.roles ?? []) });
      }
      if (inheritable.size > MAX_INHERITABLE_RESOURCES) {
        throw new DirectoryError(
          400,
          'Request_BadRequest',
          `blueprint ${b.appId}: at most ${MAX_INHERITABLE_RESOURCES} resource apps may have inheritable permissions`,
        );
      }
      t.blueprints.set(b.appId, {
        ...toResource({
          ...b,
          identifierUri: b.identifierUri ?? `api://${b.appId}`,
          scopes: b.scopes ?? ['access_agent'],
        }),
        kind: 'blueprint',
        tenantId: t.id,
        homeTenantId: t.id,
        enabled: b.enabled ?? true,
        credentials: toCredentials(b.credentials),
        publicClient: false,
        principalId: b.hasPrincipal === false ? undefined : (b.principalId ?? newId()),
        inheritable,
      });
    }
    for (const p of seed.blueprintPrincipals ?? []) this.addBlueprintPrincipal(t.id, p);
    for (const m of seed.managedIdentities ?? []) t.managedIdentities.set(m.id, m);
    addGroups(t, seed.groups);
    for (const a of seed.agents ?? []) this.createAgentIdentity(t.id, a);
    for (const u of seed.agentUsers ?? []) this.createAgentUser(t.id, u);
    for (const g of seed.delegatedGrants ?? []) t.delegatedGrants.push({ ...g, scopes: [...g.scopes] });
    for (const r of seed.appRoleAssignments ?? []) this.assignAppRole(t.id, r);
    return t;
  }

  /**
   * Adds a multi-tenant blueprint to a customer tenant (what admin consent does): its principal
   * there. The application (credentials, scopes, inheritable permissions) stays the one of its
   * home tenant, shared; the principal has its own object id and enabled state.
   */
  addBlueprintPrincipal(tenantId: string, seed: BlueprintPrincipalSeed): Blueprint {
    const t = this.mustTenant(tenantId);
    const home = [...this.tenants.values()]
      .map((x) => x.blueprints.get(seed.appId))
      .find((b) => b !== undefined && b.homeTenantId === b.tenantId);
    if (!home)
      throw new DirectoryError(
        400,
        'Request_BadRequest',
        `blueprint ${seed.appId} is not registered in any tenant (register it in its home tenant first)`,
      );
    const existing = t.blueprints.get(seed.appId);
    if (existing?.principalId)
      throw new DirectoryError(
        409,
        'Request_MultipleObjectsWithSameKeyValue',
        `blueprint ${seed.appId} already has a principal in tenant ${t.id}`,
      );
    if (existing) {
      existing.principalId = seed.principalId ?? newId();
      return existing;
    }
    const principal: Blueprint = {
      ...home,
      tenantId: t.id,
      enabled: seed.enabled ?? true,
      principalId: seed.principalId ?? newId(),
    };
    t.blueprints.set(seed.appId, principal);
    return principal;
  }

  /** A tenant by id or domain. */
  tenant(idOrDomain: string): Tenant | undefined {
    const byId = this.tenants.get(idOrDomain);
    if (byId) return byId;
    const d = lower(idOrDomain);
    for (const t of this.tenants.values()) if (lower(t.domain) === d) return t;
    return undefined;
  }

  /** Finds which tenant holds a client (blueprint, app or agent identity), wherever it is. */
  locateClient(clientId: string): { tenant: Tenant; kind: 'blueprint' | 'app' | 'agent' } | undefined {
    for (const t of this.tenants.values()) {
      if (t.blueprints.has(clientId)) return { tenant: t, kind: 'blueprint' };
      if (t.apps.has(clientId)) return { tenant: t, kind: 'app' };
      const a = t.agents.get(clientId);
      if (a && !a.deleted) return { tenant: t, kind: 'agent' };
    }
    return undefined;
  }

  /** Whether an app role may never be granted to an agent identity. */
  isBlockedRole(role: string): boolean {
    return this.blockedRoles.has(lower(role));
  }

  /** Every app that can be a token's audience: resources, blueprints and plain apps. */
  *audiences(t: Tenant): Iterable<Resource> {
    yield* t.resources.values();
    yield* t.blueprints.values();
    yield* t.apps.values();
  }

  /** Resolves `api://x`, `https://graph.microsoft.com` or an app id to a resource. */
  findResource(t: Tenant, id: string): Resource | undefined {
    const key = lower(id.replace(/\/$/, ''));
    for (const r of this.audiences(t)) {
      if (lower(r.appId) === key || (r.identifierUri && lower(r.identifierUri) === key)) return r;
    }
    return undefined;
  }

  /** An agent identity's effective app roles on a resource: assignments plus inherited, never blocked ones. */
  appRolesFor(t: Tenant, principalId: string, resource: Resource): string[] {
    const roles = new Set<string>();
    for (const a of t.appRoleAssignments)
      if (a.principalId === principalId && a.resourceAppId === resource.appId) roles.add(a.role);
    const agent = t.agents.get(principalId);
    if (agent) {
      const inh = t.blueprints.get(agent.blueprintAppId)?.inheritable.get(resource.appId);
      for (const r of inh?.roles ?? []) roles.add(r);
      for (const r of roles) if (this.isBlockedRole(r)) roles.delete(r);
    }
    return [...roles].filter((r) => resource.appRoles.has(r)).sort();
  }

  /** Delegated scopes consented for a client acting for a user on a resource (admin or user consent, plus inherited). */
  delegatedScopesFor(t: Tenant, clientId: string, userId: string, resource: Resource): Set<string> {
    const scopes = new Set<string>();
    for (const g of t.delegatedGrants) {
      if (g.clientId !== clientId || g.resourceAppId !== resource.appId) continue;
      if (g.principalId !== undefined && g.principalId !== userId) continue;
      for (const s of g.scopes) scopes.add(s);
    }
    const agent = t.agents.get(clientId);
    if (agent)
      for (const s of t.blueprints.get(agent.blueprintAppId)?.inheritable.get(resource.appId)?.scopes ?? [])
        scopes.add(s);
    return scopes;
  }

  /** Grants an app role of a resource to a principal. */
  assignAppRole(tenantId: string, r: AppRoleAssignmentSeed): void {
    const t = this.mustTenant(tenantId);
    if (t.agents.has(r.principalId) && this.isBlockedRole(r.role)) {
      throw new DirectoryError(
        400,
        'Request_BadRequest',
        `role ${r.role} is high-privilege and can never be granted to agents`,
      );
    }
    t.appRoleAssignments.push({ ...r });
  }

  /**
   * Creates an agent identity as Graph does: sponsors (users or groups) required, at most 250 per
   * blueprint, soft-deleted ones counted (`enforceLimit: false` for delegated admin calls, which don't count).
   */
  createAgentIdentity(
    tenantId: string,
    seed: Omit<AgentIdentitySeed, 'id'> & {
      id?: string;
      tags?: string[];
      owners?: string[];
      createdAt?: number;
    },
    { enforceLimit = true }: { enforceLimit?: boolean } = {},
  ): AgentIdentity {
    const t = this.mustTenant(tenantId);
    const bp = t.blueprints.get(seed.blueprintAppId);
    if (!bp)
      throw new DirectoryError(
        400,
        'Request_BadRequest',
        `agentIdentityBlueprintId ${seed.blueprintAppId} does not reference a blueprint in this tenant`,
      );
    checkSponsors(t, seed.sponsors);
    const count = [...t.agents.values()].filter((a) => a.blueprintAppId === bp.appId).length;
    if (enforceLimit && count >= MAX_AGENTS_PER_BLUEPRINT) {
      throw new DirectoryError(
        400,
        'AgentIdentity_LimitExceeded',
        `Blueprint ${bp.appId} has reached the limit of ${MAX_AGENTS_PER_BLUEPRINT} agent identities (soft-deleted ones count)`,
      );
    }
    const id = seed.id ?? newId();
    if (this.locateClient(id) || this.deletedItems.has(id))
      throw new DirectoryError(409, 'Request_MultipleObjectsWithSameKeyValue', `object ${id} already exists`);
    const agent: AgentIdentity = {
      id,
      displayName: seed.displayName ?? `agent-${id.slice(0, 8)}`,
      blueprintAppId: bp.appId,
      tenantId: t.id,
      sponsors: [...seed.sponsors],
      enabled: seed.enabled ?? true,
      deleted: false,
      ...(seed.tags ? { tags: [...seed.tags] } : {}),
      ...(seed.owners ? { owners: [...seed.owners] } : {}),
      ...(seed.createdAt !== undefined ? { createdAt: seed.createdAt } : {}),
    };
    t.agents.set(id, agent);
    return agent;
  }

  /**
   * Soft-deletes an agent identity (it still counts toward the limit until purged). Its agent
   * user is NOT deleted (as in Entra): it stays, orphaned and unable to get tokens.
   */
  deleteAgentIdentity(tenantId: string, id: string, now: number = Date.now()): void {
    const t = this.mustTenant(tenantId);
    const a = t.agents.get(id);
    if (!a || a.deleted)
      throw new DirectoryError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist`);
    a.deleted = true;
    a.deletedAt = now;
    this.deletedItems.set(id, a);
  }

  /** Permanently removes a soft-deleted agent identity (frees its place under the limit). */
  purgeDeleted(tenantId: string, id: string): void {
    const t = this.mustTenant(tenantId);
    const item = this.deletedItems.get(id);
    // Deleted items are per tenant: another tenant's must look as absent as an unknown id.
    if (!item || item.tenantId !== t.id)
      throw new DirectoryError(404, 'Request_ResourceNotFound', `Deleted item '${id}' does not exist`);
    this.deletedItems.delete(id);
    if (!('identityParentId' in item)) t.agents.delete(id);
  }

  /** Enables or disables an agent identity. */
  setAgentEnabled(tenantId: string, id: string, enabled: boolean): void {
    const a = this.mustTenant(tenantId).agents.get(id);
    if (!a || a.deleted)
      throw new DirectoryError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist`);
    a.enabled = enabled;
  }

  /** Disabling a blueprint disables every agent identity it has (checked at token time). */
  setBlueprintEnabled(tenantId: string, appId: string, enabled: boolean): void {
    const b = this.mustTenant(tenantId).blueprints.get(appId);
    if (!b) throw new DirectoryError(404, 'Request_ResourceNotFound', `Resource '${appId}' does not exist`);
    b.enabled = enabled;
  }

  /** An agent identity is usable only while it and its blueprint are enabled. */
  agentUsable(t: Tenant, a: AgentIdentity): boolean {
    return a.enabled && !a.deleted && (t.blueprints.get(a.blueprintAppId)?.enabled ?? false);
  }

  /** Creates the agent user of an agent identity: one per identity, parent fixed for life. */
  createAgentUser(
    tenantId: string,
    seed: { id?: string; userPrincipalName: string; displayName?: string; identityParentId: string },
  ): AgentUser {
    const t = this.mustTenant(tenantId);
    const parent = t.agents.get(seed.identityParentId);
    if (!parent || parent.deleted)
      throw new DirectoryError(
        400,
        'Request_BadRequest',
        `identityParentId ${seed.identityParentId} is not an agent identity in this tenant`,
      );
    if (!seed.userPrincipalName || !seed.userPrincipalName.includes('@'))
      throw new DirectoryError(400, 'Request_BadRequest', 'userPrincipalName must be a UPN (name@domain)');
    // Entra answers a second agent user for the same parent with a plain 400 (no documented code).
    for (const u of t.agentUsers.values()) {
      if (u.identityParentId === parent.id)
        throw new DirectoryError(
          400,
          'Request_BadRequest',
          `Agent identity ${parent.id} already has an agent user; at most one is allowed`,
        );
    }
    if (this.findUserByUpn(t, seed.userPrincipalName))
      throw new DirectoryError(
        400,
        'Request_MultipleObjectsWithSameKeyValue',
        `userPrincipalName ${seed.userPrincipalName} is already in use`,
      );
    const id = seed.id ?? newId();
    if (t.agentUsers.has(id) || t.users.has(id) || this.locateClient(id))
      throw new DirectoryError(409, 'Request_MultipleObjectsWithSameKeyValue', `object ${id} already exists`);
    const u: AgentUser = {
      id,
      userPrincipalName: seed.userPrincipalName,
      displayName: seed.displayName ?? seed.userPrincipalName,
      identityParentId: parent.id,
      tenantId: t.id,
      blueprintAppId: parent.blueprintAppId,
    };
    t.agentUsers.set(id, u);
    return u;
  }

  /** Soft-deletes an agent user (to deleted items, where it can be restored or purged). */
  deleteAgentUser(tenantId: string, id: string, now: number = Date.now()): void {
    const t = this.mustTenant(tenantId);
    const u = t.agentUsers.get(id);
    if (!u) throw new DirectoryError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist`);
    t.agentUsers.delete(id);
    u.deletedAt = now;
    this.deletedItems.set(id, u);
  }

  /** A user or agent user by UPN (case-insensitive). */
  findUserByUpn(t: Tenant, upn: string): User | AgentUser | undefined {
    const k = lower(upn);
    for (const u of t.users.values()) if (lower(u.userPrincipalName) === k) return u;
    for (const u of t.agentUsers.values()) if (lower(u.userPrincipalName) === k) return u;
    return undefined;
  }

  /** The tenant, or a DirectoryError when unknown. */
  mustTenant(id: string): Tenant {
    const t = this.tenants.get(id);
    if (!t) throw new DirectoryError(404, 'Request_ResourceNotFound', `tenant ${id} not found`);
    return t;
  }
}
