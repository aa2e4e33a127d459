import { certificateCredential } from '../credentials/certificate.js';
import { readCertificateFile } from '../credentials/certificate-file.js';
import { managedIdentityCredential } from '../credentials/managed-identity.js';
import { secretCredential } from '../credentials/secret.js';
import type { BlueprintCredential } from '../credentials/types.js';
import { workloadIdentityCredential } from '../credentials/workload-identity.js';
import { AgentIdError, ConfigurationError } from '../errors/agent-id-error.js';
import { createRedactingLogger } from '../telemetry/logger.js';
import { createBlueprint, type Blueprint, type BlueprintOptions } from './create-blueprint.js';

/**
 * Options of {@link blueprintFromEnvironment}: any {@link BlueprintOptions}, which win over the environment.
 *
 * @example
 * ```ts
 * const options: BlueprintFromEnvironmentOptions = { cache: { l2 }, telemetry: { logger: pino() } };
 * ```
 */
export interface BlueprintFromEnvironmentOptions extends Partial<BlueprintOptions> {
  /** The variables to read. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * The user-assigned managed identity the blueprint's federated credential trusts (its client id).
   * Default `AGENTID_MANAGED_IDENTITY_CLIENT_ID`, else the system-assigned identity. Not
   * `AZURE_CLIENT_ID`: that is the blueprint.
   */
  managedIdentityClientId?: string;
}

/**
 * The emulator's demo tenant and blueprints (`DEMO` of `@agentid/emulator`, which core does not
 * depend on; a test keeps the two equal). Their secrets are public development values.
 */
const EMULATOR_DEMO = {
  tenantId: '7a1c3e55-0000-4000-8000-00000000c0de',
  workers: 'b2000000-0000-4000-8000-000000000002',
  secrets: {
    'b2000000-0000-4000-8000-000000000002': 'dev-only-workers-secret',
    'b1000000-0000-4000-8000-000000000001': 'dev-only-orchestrator-secret',
  } as Readonly<Record<string, string>>,
};

/** `AZURE_TOKEN_CREDENTIALS` values that name one credential of DefaultAzureCredential's chain we have. */
const ONLY = ['EnvironmentCredential', 'WorkloadIdentityCredential', 'ManagedIdentityCredential'] as const;

let secretWarned = false;

interface Resolved {
  tenantId: string;
  clientId: string;
  authorityHost: string | undefined;
  credential: BlueprintCredential;
  warnings: string[];
}

const fail = (message: string): never => {
  throw new ConfigurationError(`blueprintFromEnvironment: ${message}`);
};

/** The emulator's origin from AGENTID_EMULATOR (https: MSAL refuses a plain-http authority). */
function emulatorHost(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== 'https:')
    fail(
      `AGENTID_EMULATOR must be the emulator's https URL (MSAL requires https; trust its CA with NODE_EXTRA_CA_CERTS), got '${value.slice(0, 100)}'`,
    );
  return url!.origin;
}

/** AZURE_AUTHORITY_HOST as @azure/identity takes it: a URL, or a bare host (`login.microsoftonline.us`). */
const authorityFromVariable = (value: string): string =>
  /^[a-z]+:\/\//i.test(value) ? value : `https://${value}`;

const originOf = (value: string): string | undefined => {
  try {
    return new URL(value).origin;
  } catch {
    return undefined;
  }
};

/** The blueprint credential from the environment, in DefaultAzureCredential's order. */
function credentialFromEnvironment(
  read: (name: string) => string | undefined,
  options: BlueprintFromEnvironmentOptions,
  clientId: string,
  emulator: boolean,
  warnings: string[],
): BlueprintCredential {
  const only = read('AZURE_TOKEN_CREDENTIALS');
  if (
    only !== undefined &&
    only.toLowerCase() !== 'prod' &&
    !ONLY.some((n) => n.toLowerCase() === only.toLowerCase())
  )
    fail(
      `AZURE_TOKEN_CREDENTIALS='${only.slice(0, 60)}' is not one this package supports: prod, ${ONLY.join(', ')}`,
    );
  const allowed = (name: (typeof ONLY)[number]): boolean =>
    only === undefined || only.toLowerCase() === 'prod' || only.toLowerCase() === name.toLowerCase();
  const secret = read('AZURE_CLIENT_SECRET');
  const certPath = read('AZURE_CLIENT_CERTIFICATE_PATH');
  const password = read('AZURE_CLIENT_CERTIFICATE_PASSWORD');
  const tokenFile = read('AZURE_FEDERATED_TOKEN_FILE');
  if (password !== undefined && certPath === undefined)
    fail('AZURE_CLIENT_CERTIFICATE_PASSWORD is set without AZURE_CLIENT_CERTIFICATE_PATH');
  // 1. EnvironmentCredential: a secret, else a certificate (a secret wins, as in @azure/identity).
  if (allowed('EnvironmentCredential') && secret !== undefined) {
    if (certPath !== undefined)
      warnings.push(
        'AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH are both set: using AZURE_CLIENT_SECRET, as @azure/identity does; unset one',
      );
    if (!secretWarned && !emulator) {
      secretWarned = true;
      warnings.push(
        'AZURE_CLIENT_SECRET is for development only: use AZURE_CLIENT_CERTIFICATE_PATH, a workload identity (AZURE_FEDERATED_TOKEN_FILE) or a managed identity in production',
      );
    }
    return secretCredential(secret, { silenceWarning: true });
  }
  if (allowed('EnvironmentCredential') && certPath !== undefined) {
    const pem = readCertificateFile(certPath, 'AZURE_CLIENT_CERTIFICATE_PATH');
    const chain = read('AZURE_CLIENT_SEND_CERTIFICATE_CHAIN')?.toLowerCase();
    return certificateCredential({
      ...pem,
      ...(password !== undefined ? { passphrase: password } : {}),
      sendX5c: chain === 'true' || chain === '1',
    });
  }
  // 2. WorkloadIdentityCredential: the projected token file, re-read as it rotates.
  if (allowed('WorkloadIdentityCredential') && tokenFile !== undefined)
    return workloadIdentityCredential({ tokenFilePath: tokenFile });
  // 3. ManagedIdentityCredential: on Azure (App Service, Functions, Container Apps, Arc, Cloud
  // Shell) or when asked for; IMDS (VMs, AKS) has no variable to detect, so it is never probed.
  const miClientId = options.managedIdentityClientId ?? read('AGENTID_MANAGED_IDENTITY_CLIENT_ID');
  const onAzure = read('IDENTITY_ENDPOINT') !== undefined || read('MSI_ENDPOINT') !== undefined;
  if (
    (allowed('ManagedIdentityCredential') && (onAzure || miClientId !== undefined)) ||
    only?.toLowerCase() === 'managedidentitycredential'
  )
    return managedIdentityCredential(miClientId !== undefined ? { clientId: miClientId } : {});
  // 4. The emulator's demo blueprints have their demo secrets.
  const demoSecret = emulator ? EMULATOR_DEMO.secrets[clientId] : undefined;
  if (demoSecret !== undefined) return secretCredential(demoSecret, { silenceWarning: true });
  return fail(
    `no blueprint credential in the environment${only ? ` allowed by AZURE_TOKEN_CREDENTIALS=${only}` : ''}: set AZURE_CLIENT_CERTIFICATE_PATH, ` +
      'AZURE_FEDERATED_TOKEN_FILE (workload identity), AGENTID_MANAGED_IDENTITY_CLIENT_ID (or run on Azure with a managed identity), ' +
      'or AZURE_CLIENT_SECRET (development only)',
  );
}

function resolve(options: BlueprintFromEnvironmentOptions): Resolved {
  const env = options.env ?? process.env;
  // An empty variable is an unset one (as in @azure/identity).
  const read = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const warnings: string[] = [];
  const emulatorUrl = read('AGENTID_EMULATOR');
  const emulator = emulatorUrl !== undefined ? emulatorHost(emulatorUrl) : undefined;
  const authorityVariable = read('AZURE_AUTHORITY_HOST');
  if (emulator && authorityVariable && originOf(authorityFromVariable(authorityVariable)) !== emulator)
    fail(
      `AGENTID_EMULATOR (${emulator}) and AZURE_AUTHORITY_HOST (${authorityVariable}) disagree: unset one`,
    );
  // A fetch of the caller's (the emulator's in-process one, a dispatcher with the CA) handles TLS itself.
  if (emulator && read('NODE_EXTRA_CA_CERTS') === undefined && options.network?.fetch === undefined)
    warnings.push(
      "AGENTID_EMULATOR is set but NODE_EXTRA_CA_CERTS is not: start node with NODE_EXTRA_CA_CERTS=<the emulator's ca.pem> (agentid emulator prints it) unless its CA is trusted otherwise",
    );
  const tenantId =
    options.tenantId ?? read('AZURE_TENANT_ID') ?? (emulator ? EMULATOR_DEMO.tenantId : undefined);
  const clientId =
    options.clientId ?? read('AZURE_CLIENT_ID') ?? (emulator ? EMULATOR_DEMO.workers : undefined);
  const missing = [
    tenantId === undefined ? "AZURE_TENANT_ID (the blueprint's tenant)" : '',
    clientId === undefined ? "AZURE_CLIENT_ID (the blueprint's application id)" : '',
  ].filter(Boolean);
  if (missing.length > 0) fail(`set ${missing.join(' and ')}, or AGENTID_EMULATOR for the emulator`);
  const credential =
    options.credential ??
    credentialFromEnvironment(read, options, clientId!, emulator !== undefined, warnings);
  const authorityHost =
    options.authorityHost ??
    emulator ??
    (authorityVariable ? authorityFromVariable(authorityVariable) : undefined);
  return { tenantId: tenantId!, clientId: clientId!, authorityHost, credential, warnings };
}

/** Which variable an option came from, to name it when createBlueprint refuses its value. */
const SOURCES: ReadonlyArray<readonly [string, keyof BlueprintOptions, string]> = [
  ['tenantId', 'tenantId', 'AZURE_TENANT_ID'],
  ['clientId', 'clientId', 'AZURE_CLIENT_ID'],
  ['authorityHost', 'authorityHost', 'AGENTID_EMULATOR or AZURE_AUTHORITY_HOST'],
];

/**
 * A blueprint configured by the environment variables Azure developers know, with the names and
 * the order of `@azure/identity`'s `DefaultAzureCredential`: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`
 * (the blueprint), then the first credential found of `AZURE_CLIENT_SECRET` (development only,
 * warned once), `AZURE_CLIENT_CERTIFICATE_PATH` (+ `AZURE_CLIENT_CERTIFICATE_PASSWORD`,
 * `AZURE_CLIENT_SEND_CERTIFICATE_CHAIN`; one PEM file with key and certificate),
 * `AZURE_FEDERATED_TOKEN_FILE` (workload identity) and a managed identity (on Azure:
 * `IDENTITY_ENDPOINT` or `MSI_ENDPOINT`; `AGENTID_MANAGED_IDENTITY_CLIENT_ID` for a user-assigned
 * one); `AZURE_AUTHORITY_HOST` and `AZURE_TOKEN_CREDENTIALS` (`prod` or one credential's name) as
 * in `@azure/identity`. `AGENTID_EMULATOR=<https url>` points it at the emulator, with the demo
 * tenant, workers blueprint and its secret unless set. Options win over variables. Warnings go to
 * `telemetry.logger` (else `process.emitWarning`); errors name the variables, never a value of a secret.
 *
 * @example
 * ```ts
 * // AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE set by the AKS workload identity webhook
 * const blueprint = blueprintFromEnvironment();
 * const token = await blueprint.agent(agentId).getToken(['api://tools/.default']);
 * ```
 */
export function blueprintFromEnvironment(options: BlueprintFromEnvironmentOptions = {}): Blueprint {
  if (options === null || typeof options !== 'object') fail('options must be an object');
  const { env: _env, managedIdentityClientId: _mi, ...blueprintOptions } = options;
  const resolved = resolve(options);
  const logger = options.telemetry?.logger ? createRedactingLogger(options.telemetry.logger) : undefined;
  for (const w of resolved.warnings) {
    if (logger) logger.warn(`agentid: ${w}`);
    else process.emitWarning(w, { type: 'AgentIdWarning' });
  }
  try {
    return createBlueprint({
      ...blueprintOptions,
      tenantId: resolved.tenantId,
      clientId: resolved.clientId,
      credential: resolved.credential,
      ...(resolved.authorityHost !== undefined ? { authorityHost: resolved.authorityHost } : {}),
    });
  } catch (error) {
    const source = SOURCES.find(
      ([word, option]) => options[option] === undefined && (error as Error).message?.includes(word),
    );
    if (error instanceof AgentIdError && error.code === 'AGENTID_INVALID_OPTIONS' && source)
      throw new ConfigurationError(`blueprintFromEnvironment (from ${source[2]}): ${error.message}`, {
        cause: error,
      });
    throw error;
  }
}
