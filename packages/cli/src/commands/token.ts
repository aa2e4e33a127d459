import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  type BlueprintCredential,
  blueprintFromEnvironment,
  certificateCredential,
  isAgentIdError,
  managedIdentityCredential,
  secretCredential,
  workloadIdentityCredential,
} from '@agentid/core';
import { type CliIo, UsageError } from '../io.js';
import { printSummary } from './token-summary.js';
import { loadEmulator } from '../emulator.js';

export const TOKEN_USAGE = `usage: agentid token --agent ID --scope RESOURCE/.default [credential] [--tenant ID --blueprint ID] [--authority-host URL] [--json] [--print-token]
       agentid token --emulator --agent ID --scope RESOURCE/.default

Gets an autonomous agent token through the broker (legs 1-2) and prints a summary: never the token,
unless --print-token (then only the token, for piping). Secrets come from files or environment
variables, never from the command line.
credential: --secret-env NAME | --cert FILE [--key FILE] | --federated-token-file FILE | --managed-identity [--mi-client-id ID]
Without one, the environment's, as blueprintFromEnvironment() of @agentid/core reads it (the names and
order of @azure/identity): AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH (+ _PASSWORD),
AZURE_FEDERATED_TOKEN_FILE, a managed identity on Azure (AGENTID_MANAGED_IDENTITY_CLIENT_ID).
Environment: AZURE_TENANT_ID, AZURE_CLIENT_ID (the blueprint), AZURE_AUTHORITY_HOST, AGENTID_EMULATOR.
--emulator: an in-process emulator with the demo tenant (defaults: its tenant, workers blueprint and secret).`;

/** Variables the CLI read before it read Azure's names: still honoured, with a warning. */
const DEPRECATED = [
  ['BLUEPRINT_CLIENT_ID', 'AZURE_CLIENT_ID'],
  ['AGENTID_AUTHORITY_HOST', 'AZURE_AUTHORITY_HOST'],
] as const;

/** The environment with the deprecated names mapped to Azure's (Azure's win when both are set). */
function azureEnvironment(io: CliIo): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...io.env };
  for (const [old, name] of DEPRECATED) {
    if (!env[old]?.trim()) continue;
    io.stderr(
      `agentid token: ${old} is deprecated: use ${name}${env[name]?.trim() ? ` (both are set: ${name} is used)` : ''}\n`,
    );
    if (!env[name]?.trim()) env[name] = env[old];
  }
  return env;
}

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
  if (values.key && !values.cert) throw new UsageError('--key goes with --cert');
  let credential: BlueprintCredential | undefined;
  if (values['secret-env']) {
    const secret = io.env[values['secret-env']];
    if (!secret) throw new UsageError(`environment variable ${values['secret-env']} is empty`);
    credential = secretCredential(secret, { silenceWarning: true });
  } else if (values.cert) {
    credential = certificateCredential(
      values.key
        ? { certificate: await readText(values.cert), privateKey: await readText(values.key) }
        : { certificatePath: values.cert },
    );
  } else if (values['federated-token-file']) {
    credential = workloadIdentityCredential({ tokenFilePath: values['federated-token-file'] });
  } else if (values['managed-identity']) {
    credential = managedIdentityCredential(
      values['mi-client-id'] ? { clientId: values['mi-client-id'] } : {},
    );
  }
  const env = azureEnvironment(io);
  const set = (name: string): boolean => Boolean(env[name]?.trim());
  if (!values.emulator && !set('AGENTID_EMULATOR')) {
    if (!values.tenant && !set('AZURE_TENANT_ID'))
      throw new UsageError('--tenant (or AZURE_TENANT_ID) is required');
    if (!values.blueprint && !set('AZURE_CLIENT_ID'))
      throw new UsageError('--blueprint (or AZURE_CLIENT_ID) is required');
  }
  let emu:
    | {
        close(): Promise<void>;
        baseUrl: string;
        fetch: typeof fetch;
        counters: { snapshot(): { byGrant: Record<string, number> } };
      }
    | undefined;
  try {
    if (values.emulator) {
      const { createEmulator } = await loadEmulator();
      emu = await createEmulator();
      // The in-process emulator stands in for AGENTID_EMULATOR (its demo defaults included).
      env.AGENTID_EMULATOR = emu.baseUrl;
      delete env.AZURE_AUTHORITY_HOST;
    }
    const blueprint = blueprintFromEnvironment({
      env,
      ...(values.tenant ? { tenantId: values.tenant } : {}),
      ...(values.blueprint ? { clientId: values.blueprint } : {}),
      ...(values['authority-host'] && !emu ? { authorityHost: values['authority-host'] } : {}),
      ...(credential ? { credential } : {}),
      ...(emu ? { network: { fetch: emu.fetch } } : {}),
      telemetry: {
        // Advice about the configuration (a development secret, a missing CA) is printed; events of
        // one attempt (retries, store events: they carry fields) are for a service's logs, and the
        // command reports its outcome itself, first on stderr: the typed code.
        logger: {
          debug() {},
          info() {},
          error() {},
          warn: (m, fields) => {
            if (fields === undefined) io.stderr(`agentid token: ${m}\n`);
          },
        },
      },
    });
    const t = await blueprint.agent(values.agent).getToken([values.scope]);
    if (values['print-token']) io.stdout(`${t.token}\n`);
    else
      printSummary(io, t, {
        scope: values.scope,
        json: values.json,
        blueprintId: blueprint.clientId,
        stats: blueprint.stats(),
        ...(emu ? { requests: emu.counters.snapshot().byGrant } : {}),
      });
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

const readText = (path: string): Promise<string> => readFile(path, 'utf8');
