import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  type BlueprintCredential,
  certificateCredential,
  createBlueprint,
  isAgentIdError,
  managedIdentityCredential,
  secretCredential,
  workloadIdentityCredential,
} from '@agentid/core';
import { type CliIo, UsageError } from '../io.js';
import { loadEmulator } from '../emulator.js';

export const TOKEN_USAGE = `usage: agentid token --agent ID --scope RESOURCE/.default [credential] [--tenant ID --blueprint ID] [--authority-host URL] [--json] [--print-token]
       agentid token --emulator --agent ID --scope RESOURCE/.default

Gets an autonomous agent token through the broker (legs 1-2) and prints a summary: never the token,
unless --print-token (then only the token, for piping). Secrets come from files or environment
variables, never from the command line.
credential: --secret-env NAME | --cert FILE --key FILE | --federated-token-file FILE | --managed-identity [--mi-client-id ID]
--emulator: an in-process emulator with the demo tenant (defaults: its tenant, workers blueprint and secret).
Environment: AZURE_TENANT_ID, BLUEPRINT_CLIENT_ID, AGENTID_AUTHORITY_HOST.`;

/** `agentid token`. @internal */
export async function tokenCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      agent: { type: 'string' },
      scope: { type: 'string' },
      tenant: { type: 'string' },
      blueprint: { type: 'string' },
      'authority-host': { type: 'string' },
      'secret-env': { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      'federated-token-file': { type: 'string' },
      'managed-identity': { type: 'boolean', default: false },
      'mi-client-id': { type: 'string' },
      emulator: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'print-token': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    io.stdout(`${TOKEN_USAGE}\n`);
    return 0;
  }
  if (!values.agent) throw new UsageError('--agent is required');
  if (!values.scope) throw new UsageError('--scope is required (e.g. api://tools/.default)');
  let tenantId = values.tenant ?? io.env.AZURE_TENANT_ID;
  let clientId = values.blueprint ?? io.env.BLUEPRINT_CLIENT_ID;
  let authorityHost = values['authority-host'] ?? io.env.AGENTID_AUTHORITY_HOST;
  let fetchImpl: typeof fetch | undefined;
  let credential: BlueprintCredential | undefined;
  let emu:
    { close(): Promise<void>; counters: { snapshot(): { byGrant: Record<string, number> } } } | undefined;
  if (values.emulator) {
    const { createEmulator, DEMO } = await loadEmulator();
    const e = await createEmulator();
    emu = e;
    tenantId ??= DEMO.tenantId;
    clientId ??= DEMO.blueprints.workers.appId;
    authorityHost = e.baseUrl;
    fetchImpl = e.fetch;
    if (
      !values['secret-env'] &&
      !values.cert &&
      !values['federated-token-file'] &&
      !values['managed-identity'] &&
      clientId === DEMO.blueprints.workers.appId
    ) {
      credential = secretCredential(DEMO.blueprints.workers.secret, { silenceWarning: true });
    }
  }
  try {
    if (!tenantId) throw new UsageError('--tenant (or AZURE_TENANT_ID) is required');
    if (!clientId) throw new UsageError('--blueprint (or BLUEPRINT_CLIENT_ID) is required');
    if (!credential) {
      if (values['secret-env']) {
        const secret = io.env[values['secret-env']];
        if (!secret) throw new UsageError(`environment variable ${values['secret-env']} is empty`);
        credential = secretCredential(secret, { silenceWarning: true });
      } else if (values.cert || values.key) {
        if (!values.cert || !values.key) throw new UsageError('--cert and --key go together');
        credential = certificateCredential({
          certificate: readFileSync(values.cert, 'utf8'),
          privateKey: readFileSync(values.key, 'utf8'),
        });
      } else if (values['federated-token-file']) {
        credential = workloadIdentityCredential({ tokenFilePath: values['federated-token-file'] });
      } else if (values['managed-identity']) {
        credential = managedIdentityCredential(
          values['mi-client-id'] ? { clientId: values['mi-client-id'] } : {},
        );
      } else {
        throw new UsageError(
          'a credential is required: --secret-env NAME, --cert/--key, --federated-token-file or --managed-identity',
        );
      }
    }
    const blueprint = createBlueprint({
      tenantId,
      clientId,
      credential,
      ...(authorityHost ? { authorityHost } : {}),
      ...(fetchImpl ? { network: { fetch: fetchImpl } } : {}),
    });
    const t = await blueprint.agent(values.agent).getToken([values.scope]);
    if (values['print-token']) {
      io.stdout(`${t.token}\n`);
      return 0;
    }
    const c = t.claims;
    const summary = {
      subject: t.subject,
      actor: t.actor,
      idtyp: c?.idtyp,
      scopes: t.scopes,
      roles: c?.roles ?? [],
      actorFacets: c?.actorFacets ?? [],
      subjectFacets: c?.subjectFacets ?? [],
      parentBlueprint: c?.parentAppId,
      expiresOn: t.expiresOn.toISOString(),
      refreshOn: t.refreshOn.toISOString(),
      cache: blueprint.stats(),
      ...(emu ? { tokenEndpointRequests: emu.counters.snapshot().byGrant } : {}),
    };
    if (values.json) io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      io.stdout(
        [
          `agent token for ${values.scope} (the token itself is not printed; --print-token prints it)`,
          `  subject   ${String(summary.subject)} (idtyp=${String(summary.idtyp)})`,
          `  actor     ${String(summary.actor)}`,
          `  roles     ${summary.roles.join(' ') || '-'}`,
          `  facets    actor ${summary.actorFacets.join(' ') || '-'}; subject ${summary.subjectFacets.join(' ') || '-'}`,
          `  blueprint ${String(summary.parentBlueprint ?? clientId)}`,
          `  expires   ${summary.expiresOn} (refresh from ${summary.refreshOn})`,
          `  cache     ${summary.cache.misses} miss(es), ${summary.cache.hits} hit(s)`,
          ...(summary.tokenEndpointRequests
            ? [`  requests  ${JSON.stringify(summary.tokenEndpointRequests)}`]
            : []),
        ].join('\n') + '\n',
      );
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    io.stderr(
      `agentid token: ${isAgentIdError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : 'failed'}\n`,
    );
    return 1;
  } finally {
    await emu?.close();
  }
}
