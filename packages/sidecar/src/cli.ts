import { parseArgs } from 'node:util';
import type { Logger } from '@agentid/core';
import { loadSidecarConfig } from './config.js';
import { createSidecar, type Sidecar } from './sidecar.js';

/** Output of {@link startSidecarFromArgs}. */
export interface SidecarIo {
  /** Where the sidecar prints its start line and logs (default stdout). */
  out?: (line: string) => void;
  env?: Readonly<Record<string, string | undefined>>;
  /** Install SIGTERM/SIGINT handlers that close the sidecar gracefully. Default true. */
  handleSignals?: boolean;
}

/** The usage text of `agentid sidecar` and `agentid-sidecar`. */
export const SIDECAR_USAGE = `usage: agentid sidecar [--config FILE] [--port N] [--host H] [--socket PATH]

A drop-in replacement for Microsoft's Entra SDK for AgentID sidecar. Configuration in Microsoft's
shape, from FILE (appsettings.json style) and environment variables (AzureAd__TenantId,
AzureAd__ClientId, AzureAd__ClientCredentials__0__SourceType, DownstreamApis__<name>__Scopes__0, ...),
plus AgentId__Redis__Url / AgentId__Redis__EncryptionKey for a shared cache.
Exit codes: 0 stopped by SIGTERM/SIGINT (or --help), 1 failed to start (configuration), 2 usage mistake.`;

/**
 * Whether `error` is a command-line usage mistake of {@link startSidecarFromArgs} (an unknown
 * option, a bad `--port`): exit code 2 with the usage, where a configuration or start failure is
 * exit code 1.
 *
 * @example
 * ```ts
 * startSidecarFromArgs(argv).catch((e) => process.exit(isSidecarUsageError(e) ? 2 : 1));
 * ```
 */
export function isSidecarUsageError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'ERR_USAGE' || code.startsWith('ERR_PARSE_ARGS'));
}

const usageError = (message: string): TypeError & { code: string } =>
  Object.assign(new TypeError(message), { code: 'ERR_USAGE' });

/**
 * Starts the sidecar from command-line arguments (used by `agentid sidecar` and the
 * `agentid-sidecar` bin). Closes gracefully on SIGTERM and SIGINT. With `--help` it prints the
 * usage and resolves to `undefined`. A usage mistake rejects with an error that
 * `isSidecarUsageError` recognises (code `ERR_USAGE` or `ERR_PARSE_ARGS_*`); a bad configuration
 * with `ConfigurationError`.
 *
 * @example
 * ```ts
 * const sidecar = await startSidecarFromArgs(['--config', 'appsettings.json']);
 * ```
 */
export async function startSidecarFromArgs(
  argv: readonly string[],
  io: SidecarIo = {},
): Promise<Sidecar | undefined> {
  const out = io.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      socket: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    out(SIDECAR_USAGE);
    return undefined;
  }
  // Command-line values are checked here (usage mistakes); the configuration checks the rest.
  if (values.port !== undefined && !(/^\d{1,5}$/.test(values.port) && Number(values.port) <= 65535))
    throw usageError(`--port must be a port number (0-65535), got '${values.port.slice(0, 40)}'`);
  if (values.host !== undefined && values.host.trim() === '') throw usageError('--host must not be empty');
  if (values.socket !== undefined && values.socket.trim() === '') throw usageError('--socket must be a path');
  if (values.config !== undefined && values.config.trim() === '')
    throw usageError('--config must name a file');
  const env = { ...(io.env ?? process.env) };
  if (values.port !== undefined) env['AgentId__Listen__Port'] = values.port;
  if (values.host !== undefined) env['AgentId__Listen__Host'] = values.host;
  if (values.socket !== undefined) env['AgentId__Listen__Socket'] = values.socket;
  const config = loadSidecarConfig({ ...(values.config !== undefined ? { file: values.config } : {}), env });
  const write = (level: string) => (message: string) =>
    out(`${new Date().toISOString()} ${level} ${message}`);
  const logger: Logger = { debug() {}, info: write('info'), warn: write('warn'), error: write('error') };
  const sidecar = createSidecar(config, { logger });
  const where = await sidecar.listen();
  out(
    `agentid sidecar listening on ${where.url ?? `unix:${where.socket}`} (blueprint ${config.clientId}, credential ${config.credentialSource}, ${config.downstreamApis.size} API profile(s)${config.redis ? ', shared Redis cache' : ''})`,
  );
  if (io.handleSignals !== false) {
    const stop = (signal: string) => {
      out(`agentid sidecar: ${signal}, closing`);
      void sidecar.close().then(() => process.exit(0));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  }
  return sidecar;
}
