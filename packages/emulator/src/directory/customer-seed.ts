import { DEMO, defaultSeed } from './seed.js';
import type { DirectorySeed, TenantSeed } from './types.js';

/** One customer tenant of the multi-tenant seed: its ids. */
export interface CustomerTenant {
  readonly tenantId: string;
  readonly domain: string;
  /** The workers blueprint's principal in this tenant. */
  readonly blueprintPrincipalId: string;
  /** This tenant's own agent identity of the workers blueprint (it exists in this tenant only). */
  readonly agent: string;
  readonly agentUser: { readonly id: string; readonly upn: string };
  readonly user: { readonly id: string; readonly upn: string; readonly password: string };
  readonly sponsor: string;
  /** A public client app the tenant's users sign in to (tokens for the blueprint's `access_agent`). */
  readonly chatApp: string;
}

const customer = (prefix: string, name: string): CustomerTenant => ({
  tenantId: `${prefix}0000-0000-4000-8000-000000000001`,
  domain: `${name}.onmicrosoft.com`,
  blueprintPrincipalId: `${prefix}0000-0000-4000-8000-0000000000b9`,
  agent: `${prefix}a000-0000-4000-8000-000000000001`,
  agentUser: { id: `${prefix}d000-0000-4000-8000-000000000001`, upn: `worker@${name}.onmicrosoft.com` },
  user: {
    id: `${prefix}0000-0000-4000-8000-00000000a11c`,
    upn: `user@${name}.onmicrosoft.com`,
    password: `${name}-password`,
  },
  sponsor: `${prefix}0000-0000-4000-8000-00000000590a`,
  chatApp: `${prefix}0000-0000-4000-8000-0000000000c1`,
});

/**
 * The customer tenants of {@link multiTenantSeed}: Fabrikam and Northwind, each of which has
 * added the demo's workers blueprint ({@link DEMO}`.blueprints.workers`, registered in the demo
 * tenant, its home).
 */
export const CUSTOMERS = Object.freeze({
  fabrikam: customer('0fab', 'fabrikam'),
  northwind: customer('0d0d', 'northwind'),
});

function customerTenant(c: CustomerTenant): TenantSeed {
  const { workers } = DEMO.blueprints;
  const tools = DEMO.resources.tools;
  return {
    id: c.tenantId,
    domain: c.domain,
    users: [
      {
        id: c.user.id,
        userPrincipalName: c.user.upn,
        displayName: 'Customer user',
        password: c.user.password,
      },
      { id: c.sponsor, userPrincipalName: `sponsor@${c.domain}`, displayName: 'Customer sponsor' },
    ],
    apps: [{ appId: c.chatApp, displayName: 'Customer chat', publicClient: true }],
    resources: [
      {
        appId: tools.appId,
        displayName: 'Tools API',
        identifierUri: tools.uri,
        scopes: ['Mail.Read', 'Mail.Send'],
        appRoles: ['Tickets.ReadWrite.All'],
      },
    ],
    blueprintPrincipals: [{ appId: workers.appId, principalId: c.blueprintPrincipalId }],
    agents: [
      { id: c.agent, displayName: 'Customer worker', blueprintAppId: workers.appId, sponsors: [c.sponsor] },
    ],
    agentUsers: [{ id: c.agentUser.id, userPrincipalName: c.agentUser.upn, identityParentId: c.agent }],
    delegatedGrants: [
      { clientId: c.chatApp, resourceAppId: workers.appId, scopes: ['access_agent'] },
      { clientId: c.agent, resourceAppId: tools.appId, scopes: ['Mail.Read', 'Mail.Send'] },
    ],
    appRoleAssignments: [{ principalId: c.agent, resourceAppId: tools.appId, role: 'Tickets.ReadWrite.All' }],
  };
}

/**
 * The demo seed plus two customer tenants ({@link CUSTOMERS}) that have added the workers
 * blueprint: one blueprint (credentials in its home, the demo tenant), a principal and an agent
 * identity, a user and an agent user in each customer tenant.
 *
 * @example
 * ```ts
 * const emu = await createEmulator({ seed: multiTenantSeed() });
 * const agent = blueprint.agent(CUSTOMERS.fabrikam.agent, { tenantId: CUSTOMERS.fabrikam.tenantId });
 * ```
 */
export function multiTenantSeed(): DirectorySeed {
  const seed = defaultSeed();
  seed.tenants.push(customerTenant(CUSTOMERS.fabrikam), customerTenant(CUSTOMERS.northwind));
  return seed;
}
