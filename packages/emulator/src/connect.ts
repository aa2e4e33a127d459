import { DEMO } from './directory/seed.js';
import type { Emulator, ListenResult } from './emulator.js';

/** A value as a POSIX shell word: bare when safe, else single-quoted. */
const shellWord = (v: string): string => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);

/**
 * How an app reaches a listening emulator: the environment `blueprintFromEnvironment()` of
 * `@agentid/core` (and `@azure/identity`) reads, as variables and as `export` lines to paste.
 * The blueprint is the demo workers blueprint when seeded, else the first one with a secret.
 */
export function connectionEnv(emu: Emulator, listening: ListenResult): Record<string, string> {
  if (!listening.httpsUrl) return {};
  const tenants = [...emu.directory.tenants.values()];
  const blueprints = tenants.flatMap((t) => [...t.blueprints.values()]);
  const blueprint =
    blueprints.find((b) => b.appId === DEMO.blueprints.workers.appId) ??
    blueprints.find((b) => b.credentials.secrets.length > 0) ??
    blueprints[0];
  const secret = blueprint?.credentials.secrets[0];
  return {
    AGENTID_EMULATOR: listening.httpsUrl,
    ...(listening.caPath ? { NODE_EXTRA_CA_CERTS: listening.caPath } : {}),
    ...(blueprint ? { AZURE_TENANT_ID: blueprint.tenantId, AZURE_CLIENT_ID: blueprint.appId } : {}),
    ...(secret ? { AZURE_CLIENT_SECRET: secret } : {}),
    AZURE_AUTHORITY_HOST: listening.httpsUrl,
  };
}

/** The `export NAME=value` lines of {@link connectionEnv}. */
export function exportLines(env: Record<string, string>): string[] {
  return Object.entries(env).map(([name, value]) => `export ${name}=${shellWord(value)}`);
}
