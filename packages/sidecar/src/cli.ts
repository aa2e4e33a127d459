import { parseArgs } from 'node:util';
import { ConfigurationError, type Logger } from '@agentid/core';
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
plus AgentId__Redis__Url / AgentId__Redis__EncryptionKey for a shared cache.`;

/**
 * Starts the sidecar from command-line arguments (used by `agentid sidecar` and the
 * `agentid-sidecar` bin). Closes gracefully on SIGTERM and SIGINT.
 *
 * @example
 * ```ts
 * const sidecar = await startSidecarFromArgs(['--config', 'appsettings.json']);
 * ```
 */
export async function startSidecarFromArgs(argv: readonly string[], io: SidecarIo = {}): Promise<Sidecar> {
  const out = io.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const { values } = parseArgs({
    args: [...argv],
    options: { config: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, socket: { type: 'string' }, help: { type: 'boolean' } },
    strict: true,
  });
  if (values.help) {
    out(SIDECAR_USAGE);
    throw new ConfigurationError('help requested');
  }
  const env = { ...(io.env ?? process.env) };
  if (values.port !== undefined) env['AgentId__Listen__Port'] = values.port;
  if (values.host !== undefined) env['AgentId__Listen__Host'] = values.host;
  if (values.socket !== undefined) env['AgentId__Listen__Socket'] = values.socket;
  const config = loadSidecarConfig({ ...(values.config !== undefined ? { file: values.config } : {}), env });
  const write = (level: string) => (message: string) => out(`${new Date().toISOString()} ${level} ${message}`);
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
