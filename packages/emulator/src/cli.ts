import { parseArgs } from 'node:util';
import { createEmulator, type Emulator } from './emulator.js';
import { DEMO } from './directory/seed.js';

/** Options of {@link startEmulatorFromArgs}. */
export interface EmulatorCliIo {
  out: (line: string) => void;
}

const USAGE = `usage: agentid-emulator [--seed FILE] [--host 127.0.0.1] [--https-port 0] [--http-port 0] [--lifetime SECONDS] [--no-https] [--no-http] [--json]

Starts the local Entra Agent ID emulator on loopback: HTTPS with a CA it generates, and plain HTTP.
The default seed is the demo tenant (${DEMO.domain}).`;

/**
 * Starts the emulator from command-line arguments and prints the seeded tenant, the endpoints
 * and the CA path. Used by the `agentid-emulator` bin and by `agentid emulator`.
 *
 * @example
 * ```ts
 * const emu = await startEmulatorFromArgs(['--http-port', '8079'], { out: console.log });
 * ```
 */
export async function startEmulatorFromArgs(argv: string[], io: EmulatorCliIo = { out: (l) => process.stdout.write(`${l}\n`) }): Promise<Emulator | undefined> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      'https-port': { type: 'string', default: '0' },
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
    io.out(USAGE);
    return undefined;
  }
  const port = (name: string, v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new TypeError(`--${name} must be a port number (0-65535), got '${v}'`);
    return n;
  };
  const emu = await createEmulator({
    ...(values.seed ? { seed: values.seed } : {}),
    ...(values.lifetime ? { tokenLifetimeSec: Number(values.lifetime) } : {}),
  });
  const l = await emu.listen({
    host: values.host,
    httpsPort: port('https-port', values['https-port']),
    httpPort: port('http-port', values['http-port']),
    https: !values['no-https'],
    http: !values['no-http'],
  });
  const base = l.httpsUrl ?? l.httpUrl!;
  const info = { ...l, caPem: undefined, ...emu.describe(base), identityHeader: emu.identityHeader };
  if (values.json) {
    io.out(JSON.stringify(info));
    return emu;
  }
  io.out('agentid emulator: Microsoft Entra Agent ID, locally');
  if (l.httpsUrl) io.out(`  https     ${l.httpsUrl}   (CA: ${l.caPath}; trust it with NODE_EXTRA_CA_CERTS=${l.caPath})`);
  if (l.httpUrl) io.out(`  http      ${l.httpUrl}`);
  for (const t of emu.describe(base).tenants as Array<Record<string, unknown>>) {
    io.out(`  tenant    ${String(t.id)} (${String(t.domain)})`);
    io.out(`  token     ${String(t.tokenEndpoint)}`);
    io.out(`  jwks      ${String(t.jwksUri)}`);
    for (const b of t.blueprints as Array<Record<string, unknown>>) io.out(`  blueprint ${String(b.appId)}  ${String(b.displayName)}`);
    for (const a of t.agents as Array<Record<string, unknown>>) io.out(`  agent     ${String(a.id)}  ${String(a.displayName)}`);
    for (const u of t.agentUsers as Array<Record<string, unknown>>) io.out(`  agentUser ${String(u.id)}  ${String(u.userPrincipalName)}`);
    for (const u of t.users as Array<Record<string, unknown>>) io.out(`  user      ${String(u.id)}  ${String(u.userPrincipalName)}`);
  }
  io.out(`  managed identity: IDENTITY_ENDPOINT=${base}/_mi/token IDENTITY_HEADER=${emu.identityHeader}`);
  io.out(`  admin     ${base}/_emulator/counters | /_emulator/faults | /_emulator/tokens/user`);
  return emu;
}
