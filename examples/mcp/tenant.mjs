// The demo tenant plus an MCP server: a blueprint whose Application ID URI is the server's URL
// (Entra: an https identifierUri, requestedAccessTokenVersion 2; http only on loopback), with one
// scope per tool, its agent identity, and consent: the orchestrator may call the server's tools
// for users, the server's agent may call the tools API for them.
import { createBlueprint, secretCredential } from '@agentid/core';
import { createEmulator, DEMO, defaultSeed } from '@agentid/emulator';

export const MCP = {
  blueprint: { appId: 'b3000000-0000-4000-8000-0000000000c3', secret: 'dev-only-mcp-secret' },
  agent: 'a6000000-0000-4000-8000-0000000000c6',
};

/** An emulator whose directory has the MCP server at `resource`, and blueprints on it. */
export async function mcpTenant(resource, { tracerProvider, onTokenRequest } = {}) {
  const seed = defaultSeed();
  const t = seed.tenants[0];
  t.blueprints.push({
    appId: MCP.blueprint.appId,
    displayName: 'MCP server blueprint',
    identifierUri: resource,
    scopes: ['Mail.Read', 'Files.Read'],
    appRoles: ['Reports.Read', 'Reports.Run'],
    credentials: { secrets: [MCP.blueprint.secret] },
  });
  t.agents.push({
    id: MCP.agent,
    displayName: 'MCP server',
    blueprintAppId: MCP.blueprint.appId,
    sponsors: [DEMO.users.sponsor.id],
  });
  t.delegatedGrants.push(
    {
      clientId: DEMO.agents.orchestrator,
      resourceAppId: MCP.blueprint.appId,
      scopes: ['Mail.Read', 'Files.Read'],
    },
    { clientId: MCP.agent, resourceAppId: DEMO.resources.tools.appId, scopes: ['Mail.Read', 'Files.Read'] },
  );
  t.appRoleAssignments.push({
    principalId: DEMO.agents.reporter,
    resourceAppId: MCP.blueprint.appId,
    role: 'Reports.Read',
  });
  const emu = await createEmulator({ seed });
  const fetch = onTokenRequest
    ? (input, init) => {
        if (typeof init?.body === 'string') onTokenRequest(init.body);
        return emu.fetch(input, init);
      }
    : emu.fetch;
  const blueprint = (appId, secret) =>
    createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: appId,
      credential: secretCredential(secret, { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch },
      ...(tracerProvider ? { telemetry: { tracerProvider } } : {}),
    });
  return {
    emu,
    server: blueprint(MCP.blueprint.appId, MCP.blueprint.secret),
    orchestrator: blueprint(DEMO.blueprints.orchestrator.appId, DEMO.blueprints.orchestrator.secret),
    workers: blueprint(DEMO.blueprints.workers.appId, DEMO.blueprints.workers.secret),
    aliceToken: () =>
      emu.issueUserToken({
        user: DEMO.users.alice.upn,
        clientId: DEMO.chatApp.appId,
        scopes: [`api://${DEMO.blueprints.orchestrator.appId}/access_agent`],
      }),
  };
}
