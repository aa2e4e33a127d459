/** Credentials a blueprint or a plain application can authenticate with. */
export interface CredentialSeed {
  /** Client secrets (development only, as in Entra). */
  secrets?: string[];
  /** X.509 certificates, PEM. Matched by SHA-256 (`x5t#S256`) or SHA-1 (`x5t`) thumbprint. */
  certificates?: string[];
  /** Subject name + issuer trust: assertions carrying `x5c` chained to this subject are accepted. */
  trustedSubjects?: string[];
  /** Federated identity credential records. */
  federated?: FederatedCredentialSeed[];
}

/** A federated identity credential record on a blueprint: which external token it trusts. */
export interface FederatedCredentialSeed {
  name?: string;
  issuer: string;
  subject: string;
  /** Defaults to `['api://AzureADTokenExchange']`. */
  audiences?: string[];
}

/** A delegated permission scope or an app role that a resource application exposes. */
export interface ResourceSeed {
  appId: string;
  displayName?: string;
  /** e.g. `api://tools`; a resource is addressed by its app id or by this URI. */
  identifierUri?: string;
  scopes?: string[];
  appRoles?: string[];
  /** Access-token version this resource accepts (1 or 2). Default 2. */
  tokenVersion?: 1 | 2;
  /** Token lifetime override for tokens issued for this resource, seconds. */
  tokenLifetimeSec?: number;
}

/** Permissions a blueprint passes on to all of its agent identities, for one resource. */
export interface InheritablePermissionSeed {
  resourceAppId: string;
  scopes?: string[];
  roles?: string[];
}

export interface BlueprintSeed extends ResourceSeed {
  /** Principal (service principal) object id in the tenant. Generated when absent. */
  principalId?: string;
  /** Set false to model a blueprint without a principal in this tenant. Default true. */
  hasPrincipal?: boolean;
  enabled?: boolean;
  credentials?: CredentialSeed;
  inheritablePermissions?: InheritablePermissionSeed[];
}

/**
 * The principal of a multi-tenant blueprint in a customer tenant: the blueprint application is
 * registered (with its credentials) in an earlier tenant of the seed, its home; a customer tenant
 * that has added it holds only this principal, and agent identities of its own.
 */
export interface BlueprintPrincipalSeed {
  /** The blueprint's application id (registered in an earlier tenant of the seed). */
  appId: string;
  /** The principal's object id in this tenant. Generated when absent. */
  principalId?: string;
  enabled?: boolean;
}

/** An agent identity in a seed: its blueprint and sponsors. */
export interface AgentIdentitySeed {
  /** The agent identity's id: its app (client) id and object id are the same value. */
  id: string;
  displayName?: string;
  blueprintAppId: string;
  /** Object ids of users; at least one is required. */
  sponsors: string[];
  enabled?: boolean;
}

/** An agent user in a seed, linked to its agent identity. */
export interface AgentUserSeed {
  id: string;
  userPrincipalName: string;
  displayName?: string;
  /** The agent identity this agent user belongs to (1:1, immutable). */
  identityParentId: string;
}

/** A human user in a seed. */
export interface UserSeed {
  id: string;
  userPrincipalName: string;
  displayName?: string;
  /** Enables the resource-owner password grant for this user (tests and the demo). */
  password?: string;
}

/** A plain (non-agent) application: a client app for users, or a classic confidential client. */
export interface AppSeed extends ResourceSeed {
  credentials?: CredentialSeed;
  publicClient?: boolean;
  enabled?: boolean;
}

/** A managed identity whose tokens the emulator issues (audience api://AzureADTokenExchange). */
export interface ManagedIdentitySeed {
  /** Principal object id: the `sub`/`oid` of its tokens. */
  id: string;
  clientId: string;
}

/** An external OIDC issuer (Kubernetes, GitHub, ...) the emulator signs for and whose JWKS it serves. */
export interface ExternalIssuerSeed {
  name: string;
  /** The `iss` value; defaults to `{base}/_issuers/{name}`. */
  issuer?: string;
}

/** Delegated scopes a client may get on a resource (consent). */
export interface DelegatedGrantSeed {
  /** The client (agent identity, blueprint or app) the grant is for. */
  clientId: string;
  resourceAppId: string;
  scopes: string[];
  /** A user's object id; absent means admin consent for all principals. */
  principalId?: string;
}

/** An app role granted to a principal on a resource. */
export interface AppRoleAssignmentSeed {
  /** Agent identity id or app id that holds the role. */
  principalId: string;
  resourceAppId: string;
  role: string;
}

/** A tenant in a seed: users, blueprints, agents, resources and grants. */
export interface TenantSeed {
  id: string;
  domain?: string;
  blueprints?: BlueprintSeed[];
  /** Principals of multi-tenant blueprints registered in another (earlier) tenant. */
  blueprintPrincipals?: BlueprintPrincipalSeed[];
  /** Agent identities: each exists in this tenant only. */
  agents?: AgentIdentitySeed[];
  agentUsers?: AgentUserSeed[];
  users?: UserSeed[];
  resources?: ResourceSeed[];
  apps?: AppSeed[];
  managedIdentities?: ManagedIdentitySeed[];
  delegatedGrants?: DelegatedGrantSeed[];
  appRoleAssignments?: AppRoleAssignmentSeed[];
  /** Security groups (agent identities may have groups as sponsors). */
  groups?: GroupSeed[];
}

/** A security group in a seed: it may sponsor agent identities. */
export interface GroupSeed {
  id: string;
  displayName?: string;
  /** Object ids of member users. */
  members?: string[];
}

/** The whole directory, as code or as a JSON/YAML seed file. */
export interface DirectorySeed {
  tenants: TenantSeed[];
  externalIssuers?: ExternalIssuerSeed[];
  /** Roles never granted to agents (added to the built-in block-list). */
  blockedRoles?: string[];
}
