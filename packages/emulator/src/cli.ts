import { parseArgs } from 'node:util';
import { createEmulator, type Emulator } from './emulator.js';
import { connectionEnv, exportLines } from './connect.js';
import { DEMO } from './directory/seed.js';

/** Options of {@link startEmulatorFromArgs}. */
export interface EmulatorCliIo {
  out: (line: string) => void;
}

/**
 * The usage text of `agentid-emulator` and `agentid emulator`.
 *
 * @example
 * ```ts
 * process.stdout.write(`${EMULATOR_USAGE}\n`);
 * ```
 */
export const EMULATOR_USAGE = `usage: agentid-emulator [--seed FILE] [--host 127.0.0.1] [--port 0 | --https-port 0] [--http-port 0] [--lifetime SECONDS] [--no-https] [--no-http] [--json]

Starts the local Entra Agent ID emulator on loopback: HTTPS with a CA it generates, and plain HTTP.
The default seed is the demo tenant (${DEMO.domain}). Ports are random unless given (--port is the
HTTPS port). It prints the ids, the demo secrets and the \`export\` lines (AGENTID_EMULATOR,
NODE_EXTRA_CA_CERTS, AZURE_*) that point an app using blueprintFromEnvironment() at it.
Ctrl-C or SIGTERM stops it and removes its CA folder.`;

/**
 * A usage mistake on the command line (exit code 2), as opposed to a failure to start (exit 1).
 * `code` is `ERR_USAGE`; `node:util` parseArgs mistakes carry `ERR_PARSE_ARGS_*` codes.
 */
const usageError = (message: string): TypeError & { code: string } =>
  Object.assign(new TypeError(message), { code: 'ERR_USAGE' });

/**
 * Whether `error` is a command-line usage mistake of {@link startEmulatorFromArgs} (a bad or
 * unknown option): exit code 2 with the usage, where other failures are exit code 1.
 *
 * @example
 * ```ts
 * startEmulatorFromArgs(argv).catch((e) => process.exit(isUsageError(e) ? 2 : 1));
 * ```
 */
export function isUsageError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'ERR_USAGE' || code.startsWith('ERR_PARSE_ARGS'));
}

/**
 * Starts the emulator from command-line arguments and prints the seeded tenant, the endpoints
 * and the CA path. Used by the `agentid-emulator` bin and by `agentid emulator`.
 *
 * @example
 * ```ts
 * const emu = await startEmulatorFromArgs(['--http-port', '8079'], { out: console.log });
 * ```
 */
export async function startEmulatorFromArgs(
  argv: string[],
  io: EmulatorCliIo = { out: (l) => process.stdout.write(`${l}\n`) },
): Promise<Emulator | undefined> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      'https-port': { type: 'string' },
      'http-port': { type: 'string', default: '0' },
      lifetime: { type: 'string' },
      'no-https': { type: 'boolean', default: false },
      'no-http': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    io.out(EMULATOR_USAGE);
    return undefined;
  }
  // Every option is checked before anything starts: a mistake is a usage error, not a half-started emulator.
  const port = (name: string, v: string): number => {
    const n = /^\d{1,5}$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < 0 || n > 65535)
      throw usageError(`--${name} must be a port number (0-65535), got '${v.slice(0, 40)}'`);
    return n;
  };
  if (values.port !== undefined && values['https-port'] !== undefined)
    throw usageError('--port is the HTTPS port: give --port or --https-port, not both');
  const httpsPort =
    values.port !== undefined ? port('port', values.port) : port('https-port', values['https-port'] ?? '0');
  const httpPort = port('http-port', values['http-port']);
  let lifetime: number | undefined;
  if (values.lifetime !== undefined) {
    lifetime = /^\d{1,9}$/.test(values.lifetime) ? Number(values.lifetime) : NaN;
    if (!Number.isInteger(lifetime) || lifetime < 1)
      throw usageError(
        `--lifetime must be a whole number of seconds (1 or more), got '${values.lifetime.slice(0, 40)}'`,
      );
  }
  if (values.host.trim() === '') throw usageError('--host must not be empty');
  if (values['no-https'] && values['no-http'])
    throw usageError('--no-https and --no-http together leave nothing to serve');
  if (values.seed !== undefined && values.seed.trim() === '')
    throw usageError('--seed must name a JSON or YAML file');
  const emu = await createEmulator({
    ...(values.seed ? { seed: values.seed } : {}),
    ...(lifetime !== undefined ? { tokenLifetimeSec: lifetime } : {}),
  });
  let l: Awaited<ReturnType<Emulator['listen']>>;
  try {
    l = await emu.listen({
      host: values.host,
      httpsPort,
      httpPort,
      https: !values['no-https'],
      http: !values['no-http'],
    });
  } catch (error) {
    // One server may be up (and the CA folder written) when the other fails, e.g. a port in use.
    await emu.close();
    throw error;
  }
  const base = l.httpsUrl ?? l.httpUrl!;
  const env = connectionEnv(emu, l);
  const info = { ...l, caPem: undefined, ...emu.describe(base), identityHeader: emu.identityHeader, env };
  if (values.json) {
    io.out(JSON.stringify(info));
    return emu;
  }
  io.out('agentid emulator: Microsoft Entra Agent ID, locally');
  if (l.httpsUrl)
    io.out(`  https     ${l.httpsUrl}   (CA: ${l.caPath}; trust it with NODE_EXTRA_CA_CERTS=${l.caPath})`);
  if (l.httpUrl) io.out(`  http      ${l.httpUrl}`);
  for (const t of emu.describe(base).tenants as Array<Record<string, unknown>>) {
    io.out(`  tenant    ${String(t.id)} (${String(t.domain)})`);
    io.out(`  token     ${String(t.tokenEndpoint)}`);
    io.out(`  jwks      ${String(t.jwksUri)}`);
    for (const b of t.blueprints as Array<Record<string, unknown>>) {
      // Seeded secrets are development values: printing them is how an app gets to use them.
      const secrets = emu.directory.tenant(String(t.id))?.blueprints.get(String(b.appId))
        ?.credentials.secrets;
      io.out(
        `  blueprint ${String(b.appId)}  ${String(b.displayName)}${secrets?.length ? `  (secret: ${secrets.join(', ')})` : ''}`,
      );
    }
    for (const a of t.agents as Array<Record<string, unknown>>)
      io.out(`  agent     ${String(a.id)}  ${String(a.displayName)}`);
    for (const u of t.agentUsers as Array<Record<string, unknown>>)
      io.out(`  agentUser ${String(u.id)}  ${String(u.userPrincipalName)}`);
    for (const u of t.users as Array<Record<string, unknown>>)
      io.out(`  user      ${String(u.id)}  ${String(u.userPrincipalName)}`);
  }
  io.out(`  managed identity: IDENTITY_ENDPOINT=${base}/_mi/token IDENTITY_HEADER=${emu.identityHeader}`);
  io.out(
    `  admin     ${base}/_emulator/{counters, counters/reset, requests, faults, keys/rotate, tokens/user, tokens/external, directory, conditional-access} (see its README)`,
  );
  if (Object.keys(env).length > 0) {
    io.out('');
    io.out('  connect an app (blueprintFromEnvironment() of @agentid/core, @azure/identity): paste');
    for (const line of exportLines(env)) io.out(`    ${line}`);
  } else io.out('  connect   needs HTTPS (MSAL refuses a plain-http authority): drop --no-https');
  return emu;
}
