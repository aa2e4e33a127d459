// Shared set-up of the examples: the embedded emulator by default, or a real tenant when
// AZURE_TENANT_ID is set. Real tenant: the variables of @azure/identity, read by
// blueprintFromEnvironment(): AZURE_TENANT_ID, AZURE_CLIENT_ID (the blueprint), and one credential:
// AZURE_CLIENT_CERTIFICATE_PATH (one PEM file, key + certificate), AZURE_FEDERATED_TOKEN_FILE
// (workload identity), a managed identity on Azure (AGENTID_MANAGED_IDENTITY_CLIENT_ID for a
// user-assigned one), or AZURE_CLIENT_SECRET (development only); plus the ids each example names.
import { blueprintFromEnvironment, createBlueprint, secretCredential } from '@agentid/core';

export const real = Boolean(process.env.AZURE_TENANT_ID);

/**
 * Starts the emulator (unless a real tenant is configured) and returns a blueprint factory and ids.
 * `clock` (e.g. createManualClock from @agentid/core/broker) drives the emulator and the blueprints.
 */
export async function setup({ clock } = {}) {
  if (real) {
    const env = process.env;
    return {
      emu: undefined,
      ids: env,
      graphBaseUrl: undefined,
      blueprint: (which = 'workers') =>
        blueprintFromEnvironment(
          which === 'orchestrator' && env.ORCHESTRATOR_BLUEPRINT_CLIENT_ID
            ? { clientId: env.ORCHESTRATOR_BLUEPRINT_CLIENT_ID }
            : {},
        ),
      userToken: async () => {
        if (!env.USER_ACCESS_TOKEN)
          throw new Error('Set USER_ACCESS_TOKEN: a user token for api://<blueprint>/access_agent');
        return env.USER_ACCESS_TOKEN;
      },
      close: async () => undefined,
    };
  }
  const { createEmulator, DEMO } = await import('@agentid/emulator');
  const emu = await createEmulator(clock ? { clock } : {});
  const bps = { workers: DEMO.blueprints.workers, orchestrator: DEMO.blueprints.orchestrator };
  return {
    emu,
    ids: {
      ...DEMO,
      MAIL_AGENT_ID: DEMO.agents.mail,
      CALENDAR_AGENT_ID: DEMO.agents.calendar,
      REPORTER_AGENT_ID: DEMO.agents.reporter,
      ORCHESTRATOR_AGENT_ID: DEMO.agents.orchestrator,
      DIGITAL_WORKER_AGENT_ID: DEMO.agents.digitalWorker,
      AGENT_USER_UPN: DEMO.agentUsers.digitalWorker.upn,
      SPONSOR_ID: DEMO.users.sponsor.id,
      WORKERS_BLUEPRINT_CLIENT_ID: DEMO.blueprints.workers.appId,
    },
    graphBaseUrl: emu.baseUrl,
    blueprint: (which = 'workers') =>
      createBlueprint({
        tenantId: DEMO.tenantId,
        clientId: bps[which].appId,
        credential: secretCredential(bps[which].secret, { silenceWarning: true }),
        authorityHost: emu.baseUrl,
        network: { fetch: emu.fetch },
        ...(clock ? { clock } : {}),
      }),
    userToken: (user = DEMO.users.alice.upn, blueprint = 'orchestrator') =>
      emu.issueUserToken({
        user,
        clientId: DEMO.chatApp.appId,
        scopes: [`api://${bps[blueprint].appId}/access_agent`],
      }),
    close: () => emu.close(),
  };
}

/** Who acted for whom, from a token's claims (never the token). */
export const describe = (t) =>
  `subject=${t.subject} actor=${t.actor} idtyp=${t.claims?.idtyp} scopes/roles=[${[...(t.claims?.scp ?? []), ...(t.claims?.roles ?? [])].join(' ')}]`;
