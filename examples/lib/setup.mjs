// Shared set-up of the examples: the embedded emulator by default, or a real tenant when
// AZURE_TENANT_ID is set. Real tenant variables:
//   AZURE_TENANT_ID, BLUEPRINT_CLIENT_ID, and one credential: BLUEPRINT_CERT_FILE + BLUEPRINT_KEY_FILE,
//   AZURE_FEDERATED_TOKEN_FILE (workload identity), BLUEPRINT_MANAGED_IDENTITY=1 (+ optional
//   BLUEPRINT_MI_CLIENT_ID), or BLUEPRINT_SECRET (development only); plus the ids each example names.
import { readFileSync } from 'node:fs';
import {
  certificateCredential,
  createBlueprint,
  managedIdentityCredential,
  secretCredential,
  workloadIdentityCredential,
} from '@agentid/core';

export const real = Boolean(process.env.AZURE_TENANT_ID);

function realCredential(env) {
  if (env.BLUEPRINT_CERT_FILE)
    return certificateCredential({
      certificate: readFileSync(env.BLUEPRINT_CERT_FILE, 'utf8'),
      privateKey: readFileSync(env.BLUEPRINT_KEY_FILE, 'utf8'),
    });
  if (env.AZURE_FEDERATED_TOKEN_FILE) return workloadIdentityCredential();
  if (env.BLUEPRINT_MANAGED_IDENTITY)
    return managedIdentityCredential(
      env.BLUEPRINT_MI_CLIENT_ID ? { clientId: env.BLUEPRINT_MI_CLIENT_ID } : {},
    );
  if (env.BLUEPRINT_SECRET) return secretCredential(env.BLUEPRINT_SECRET);
  throw new Error(
    'Set BLUEPRINT_CERT_FILE/BLUEPRINT_KEY_FILE, AZURE_FEDERATED_TOKEN_FILE, BLUEPRINT_MANAGED_IDENTITY or BLUEPRINT_SECRET',
  );
}

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
        createBlueprint({
          tenantId: env.AZURE_TENANT_ID,
          clientId:
            which === 'orchestrator'
              ? (env.ORCHESTRATOR_BLUEPRINT_CLIENT_ID ?? env.BLUEPRINT_CLIENT_ID)
              : env.BLUEPRINT_CLIENT_ID,
          credential: realCredential(env),
        }),
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
