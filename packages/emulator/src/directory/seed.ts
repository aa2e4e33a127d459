import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { DirectorySeed } from './types.js';

/** Well-known ids of the default seeded tenant, used by the demo, the examples and tests. */
export const DEMO = {
  tenantId: '7a1c3e55-0000-4000-8000-00000000c0de',
  domain: 'contoso.onmicrosoft.com',
  users: {
    alice: {
      id: 'a11ce000-0000-4000-8000-000000000001',
      upn: 'alice@contoso.onmicrosoft.com',
      password: 'alice-password',
    },
    bob: {
      id: 'b0b00000-0000-4000-8000-000000000002',
      upn: 'bob@contoso.onmicrosoft.com',
      password: 'bob-password',
    },
    sponsor: { id: '5b0a5000-0000-4000-8000-000000000003', upn: 'sam.sponsor@contoso.onmicrosoft.com' },
  },
  /** A public client app (a chat front end) that users sign in to. */
  chatApp: { appId: 'c4a70000-0000-4000-8000-0000000000a1' },
  blueprints: {
    orchestrator: { appId: 'b1000000-0000-4000-8000-000000000001', secret: 'dev-only-orchestrator-secret' },
    workers: { appId: 'b2000000-0000-4000-8000-000000000002', secret: 'dev-only-workers-secret' },
  },
  agents: {
    orchestrator: 'a1000000-0000-4000-8000-000000000001',
    mail: 'a2000000-0000-4000-8000-000000000002',
    calendar: 'a3000000-0000-4000-8000-000000000003',
    digitalWorker: 'a4000000-0000-4000-8000-000000000004',
    reporter: 'a5000000-0000-4000-8000-000000000005',
  },
  agentUsers: {
    digitalWorker: { id: 'd1000000-0000-4000-8000-000000000001', upn: 'dw-helpdesk@contoso.onmicrosoft.com' },
  },
  resources: {
    tools: { appId: 'f0000000-0000-4000-8000-000000000001', uri: 'api://tools' },
    reports: { appId: 'f0000000-0000-4000-8000-000000000002', uri: 'api://reports' },
  },
  managedIdentity: {
    id: 'e1000000-0000-4000-8000-000000000001',
    clientId: 'e2000000-0000-4000-8000-000000000002',
  },
} as const;

/** The default seed: one tenant with two blueprints, five agents, an agent user, two APIs and consent. */
export function defaultSeed(): DirectorySeed {
  const { users: u, blueprints: b, agents: a, resources: r } = DEMO;
  const sponsors = [u.sponsor.id];
  return {
    externalIssuers: [{ name: 'k8s' }, { name: 'github' }],
    tenants: [
      {
        id: DEMO.tenantId,
        domain: DEMO.domain,
        users: [
          {
            id: u.alice.id,
            userPrincipalName: u.alice.upn,
            displayName: 'Alice Adams',
            password: u.alice.password,
          },
          { id: u.bob.id, userPrincipalName: u.bob.upn, displayName: 'Bob Brown', password: u.bob.password },
          { id: u.sponsor.id, userPrincipalName: u.sponsor.upn, displayName: 'Sam Sponsor' },
        ],
        apps: [{ appId: DEMO.chatApp.appId, displayName: 'Contoso Chat', publicClient: true }],
        resources: [
          {
            appId: r.tools.appId,
            displayName: 'Tools API',
            identifierUri: r.tools.uri,
            scopes: ['Mail.Read', 'Mail.Send', 'Calendars.Read', 'Files.Read'],
            appRoles: ['Mail.Send.All', 'Tickets.ReadWrite.All', 'Directory.ReadWrite.All'],
          },
          {
            appId: r.reports.appId,
            displayName: 'Reports API',
            identifierUri: r.reports.uri,
            scopes: ['Reports.Read'],
            appRoles: ['Reports.Generate'],
          },
        ],
        blueprints: [
          {
            appId: b.orchestrator.appId,
            displayName: 'Orchestrator blueprint',
            scopes: ['access_agent'],
            credentials: { secrets: [b.orchestrator.secret] },
          },
          {
            appId: b.workers.appId,
            displayName: 'Workers blueprint',
            scopes: ['access_agent'],
            credentials: { secrets: [b.workers.secret] },
            inheritablePermissions: [
              { resourceAppId: r.reports.appId, scopes: ['Reports.Read'], roles: ['Reports.Generate'] },
            ],
          },
        ],
        agents: [
          { id: a.orchestrator, displayName: 'Orchestrator', blueprintAppId: b.orchestrator.appId, sponsors },
          { id: a.mail, displayName: 'Mail agent', blueprintAppId: b.workers.appId, sponsors },
          { id: a.calendar, displayName: 'Calendar agent', blueprintAppId: b.workers.appId, sponsors },
          {
            id: a.digitalWorker,
            displayName: 'Helpdesk digital worker',
            blueprintAppId: b.workers.appId,
            sponsors,
          },
          { id: a.reporter, displayName: 'Nightly reporter', blueprintAppId: b.workers.appId, sponsors },
        ],
        agentUsers: [
          {
            id: DEMO.agentUsers.digitalWorker.id,
            userPrincipalName: DEMO.agentUsers.digitalWorker.upn,
            displayName: 'Helpdesk worker',
            identityParentId: a.digitalWorker,
          },
        ],
        managedIdentities: [{ ...DEMO.managedIdentity }],
        delegatedGrants: [
          // Users sign in to the chat app for the orchestrator.
          { clientId: DEMO.chatApp.appId, resourceAppId: b.orchestrator.appId, scopes: ['access_agent'] },
          // The orchestrator calls the workers' agents on behalf of users.
          { clientId: a.orchestrator, resourceAppId: b.workers.appId, scopes: ['access_agent'] },
          { clientId: a.orchestrator, resourceAppId: r.tools.appId, scopes: ['Files.Read'] },
          { clientId: a.mail, resourceAppId: r.tools.appId, scopes: ['Mail.Read', 'Mail.Send'] },
          { clientId: a.calendar, resourceAppId: r.tools.appId, scopes: ['Calendars.Read'] },
          {
            clientId: a.digitalWorker,
            resourceAppId: r.tools.appId,
            scopes: ['Mail.Read', 'Mail.Send', 'Files.Read'],
          },
        ],
        appRoleAssignments: [
          { principalId: a.reporter, resourceAppId: r.tools.appId, role: 'Tickets.ReadWrite.All' },
          { principalId: a.mail, resourceAppId: r.tools.appId, role: 'Mail.Send.All' },
        ],
      },
    ],
  };
}

/** Loads a seed from a JSON or YAML file. Certificate entries that are not PEM are read as paths relative to the file. */
export function loadSeedFile(path: string): DirectorySeed {
  // Editors on Windows save a BOM, which JSON.parse refuses.
  const text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  let seed: DirectorySeed;
  try {
    seed = (/\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text)) as DirectorySeed;
  } catch (e) {
    throw new TypeError(
      `${path}: not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (!seed || typeof seed !== 'object' || !Array.isArray(seed.tenants))
    throw new TypeError(`${path}: a seed needs a 'tenants' array`);
  const dir = dirname(resolve(path));
  for (const t of seed.tenants) {
    for (const holder of [...(t?.blueprints ?? []), ...(t?.apps ?? [])]) {
      const certs = holder?.credentials?.certificates;
      if (certs === undefined) continue;
      if (!Array.isArray(certs))
        throw new TypeError(
          `${path}: credentials.certificates of ${String(holder.appId)} must be a list of PEM strings or file paths`,
        );
      holder.credentials!.certificates = certs.map((c) => {
        if (typeof c !== 'string')
          throw new TypeError(
            `${path}: a certificate of ${String(holder.appId)} must be a PEM string or a file path`,
          );
        if (c.includes('-----BEGIN')) return c;
        const file = resolve(dir, c);
        try {
          return readFileSync(file, 'utf8');
        } catch (e) {
          throw new TypeError(
            `${path}: certificate file ${c} (${file}) of ${String(holder.appId)} cannot be read`,
            { cause: e },
          );
        }
      });
    }
  }
  return seed;
}
