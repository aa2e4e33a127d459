// A tenant with an MCP server: the emulator's demo tenant plus a blueprint whose Application ID
// URI is the server's URL (known once it listens), its agent, and consent for the callers.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Blueprint, createBlueprint, secretCredential } from '@agentid/core';
import { createEmulator, DEMO, defaultSeed, type Emulator } from '@agentid/emulator';
import { createTestTracing, type TestTracing } from '@agentid/test-support/otel';
import { decodeJwt } from 'jose';

export const MCP = {
  blueprint: { appId: 'b3000000-0000-4000-8000-0000000000c3', secret: 'dev-only-mcp-secret' },
  agent: 'a6000000-0000-4000-8000-0000000000c6',
} as const;

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A loopback HTTP server whose handler is set later (the URL is needed before the app exists). */
export async function listen(): Promise<{
  server: Server;
  url: string;
  use(h: Handler): void;
  close(): Promise<void>;
}> {
  let handler: Handler = (_req, res) => res.writeHead(503).end();
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    use: (h) => (handler = h),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export interface Tenant {
  emu: Emulator;
  /** The MCP server's blueprint (its Application ID URI is `resource`). */
  server: Blueprint;
  /** The callers' blueprints: the orchestrator's (OBO for alice) and the workers' (the autonomous reporter). */
  orchestrator: Blueprint;
  workers: Blueprint;
  tracing: TestTracing;
  /** Bodies of every token request the blueprints sent to the emulator. */
  tokenRequests: string[];
  aliceToken(): Promise<string>;
}

/** The demo tenant with the MCP server at `resource`. */
export async function tenantWith(resource: string): Promise<Tenant> {
  const seed = defaultSeed();
  const t = seed.tenants[0]!;
  t.blueprints!.push({
    appId: MCP.blueprint.appId,
    displayName: 'MCP server blueprint',
    identifierUri: resource,
    scopes: ['Mail.Read', 'Files.Read'],
    appRoles: ['Reports.Read', 'Reports.Run'],
    credentials: { secrets: [MCP.blueprint.secret] },
  });
  t.agents!.push({
    id: MCP.agent,
    displayName: 'MCP server',
    blueprintAppId: MCP.blueprint.appId,
    sponsors: [DEMO.users.sponsor.id],
  });
  t.delegatedGrants!.push(
    {
      clientId: DEMO.agents.orchestrator,
      resourceAppId: MCP.blueprint.appId,
      scopes: ['Mail.Read', 'Files.Read'],
    },
    { clientId: MCP.agent, resourceAppId: DEMO.resources.tools.appId, scopes: ['Mail.Read', 'Files.Read'] },
  );
  t.appRoleAssignments!.push({
    principalId: DEMO.agents.reporter,
    resourceAppId: MCP.blueprint.appId,
    role: 'Reports.Read',
  });
  const emu = await createEmulator({ seed });
  const tokenRequests: string[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    if (typeof init?.body === 'string') tokenRequests.push(init.body);
    return emu.fetch(input, init);
  };
  const tracing = createTestTracing();
  const blueprint = (appId: string, secret: string) =>
    createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: appId,
      credential: secretCredential(secret, { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch },
      telemetry: { tracerProvider: tracing.provider },
    });
  return {
    emu,
    server: blueprint(MCP.blueprint.appId, MCP.blueprint.secret),
    orchestrator: blueprint(DEMO.blueprints.orchestrator.appId, DEMO.blueprints.orchestrator.secret),
    workers: blueprint(DEMO.blueprints.workers.appId, DEMO.blueprints.workers.secret),
    tracing,
    tokenRequests,
    aliceToken: () =>
      emu.issueUserToken({
        user: DEMO.users.alice.upn,
        clientId: DEMO.chatApp.appId,
        scopes: [`api://${DEMO.blueprints.orchestrator.appId}/access_agent`],
      }),
  };
}

/** A downstream API that records the bearer tokens it receives and answers with their claims. */
export function recordingApi(): { seen: string[]; handler: Handler } {
  const seen: string[] = [];
  return {
    seen,
    handler: (req, res) => {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      seen.push(token);
      const c = decodeJwt(token);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ aud: c.aud, scp: c.scp, oid: c.oid, azp: c.azp, path: req.url }));
    },
  };
}

export const claimsOf = (authorization: string | undefined): Record<string, unknown> =>
  decodeJwt((authorization ?? '').replace(/^Bearer /, ''));
