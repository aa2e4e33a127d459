import { readFileSync } from 'node:fs';
import type { Clock } from '@agentid/core';
import { systemClock } from '@agentid/core/broker';
import { decodeCommand, DECODE_USAGE } from './commands/decode.js';
import { TOKEN_USAGE, tokenCommand } from './commands/token.js';
import { type CliIo, UsageError } from './io.js';
import { loadEmulator } from './emulator.js';

/** The usage text of the `agentid` command. */
export const USAGE = `usage: agentid <command> [options]

commands:
  emulator   start the local Entra Agent ID emulator (agentid emulator --help)
  token      get an agent token through the broker and print a summary (never the token)
  decode     explain a token's claims: subject, actor, agent facets, lifetime
  sidecar    start the Entra SDK for AgentID-compatible sidecar (agentid sidecar --config FILE)

agentid --version | agentid <command> --help`;

/**
 * Runs the `agentid` command with the given arguments and returns its exit code (0 ok, 1 failed,
 * 2 usage). Long-running commands (`emulator`, `sidecar`) call `onServe` with a stop function;
 * `clock` is the time `decode` measures a token's lifetime against (default: the system clock).
 *
 * @example
 * ```ts
 * const code = await runCli(['decode', jwt, '--json'], { stdout: (s) => out.push(s), stderr: console.error, env: process.env, readStdin: async () => '' });
 * ```
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  options: { clock?: Clock; onServe?: (stop: () => Promise<void>) => void } = {},
): Promise<number> {
  const [command, ...rest] = argv;
  const clock = options.clock ?? systemClock;
  let usage = command === 'decode' ? DECODE_USAGE : command === 'token' ? TOKEN_USAGE : USAGE;
  try {
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.stdout(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      case '--version':
      case '-v': {
        const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
          version: string;
        };
        io.stdout(`${pkg.version}\n`);
        return 0;
      }
      case 'decode':
        return await decodeCommand(rest, io, clock);
      case 'token':
        return await tokenCommand(rest, io);
      case 'emulator': {
        const { startEmulatorFromArgs, EMULATOR_USAGE } = await loadEmulator();
        usage = EMULATOR_USAGE;
        const emu = await startEmulatorFromArgs(rest, { out: (l) => io.stdout(`${l}\n`) });
        if (emu) options.onServe?.(() => emu.close());
        return 0;
      }
      case 'sidecar': {
        let mod: Record<string, unknown>;
        try {
          mod = (await import('@agentid/sidecar' as string)) as Record<string, unknown>;
        } catch {
          mod = {};
        }
        const start = mod.startSidecarFromArgs as
          | ((
              args: string[],
              options: { out: (l: string) => void; env: typeof io.env; handleSignals: boolean },
            ) => Promise<{ close(): Promise<void> } | undefined>)
          | undefined;
        if (typeof start !== 'function') {
          io.stderr('agentid sidecar: @agentid/sidecar is not available in this version\n');
          return 1;
        }
        if (typeof mod.SIDECAR_USAGE === 'string') usage = mod.SIDECAR_USAGE;
        // The agentid bin owns SIGTERM/SIGINT (it calls the stop function given to onServe).
        const s = await start(rest, { out: (l) => io.stdout(`${l}\n`), env: io.env, handleSignals: false });
        // undefined: --help was printed.
        if (s) options.onServe?.(() => s.close());
        return 0;
      }
      default:
        throw new UsageError(`unknown command '${String(command).slice(0, 40)}'`);
    }
  } catch (e) {
    // ERR_USAGE: the emulator's and the sidecar's own usage mistakes (a bad port, ...).
    const code = (e as { code?: unknown } | null)?.code;
    if (
      e instanceof UsageError ||
      (typeof code === 'string' && (code === 'ERR_USAGE' || code.startsWith('ERR_PARSE_ARGS')))
    ) {
      io.stderr(`agentid: ${(e as Error).message}\n\n${usage}\n`);
      return 2;
    }
    const message = e instanceof Error && e.message !== '' ? e.message : 'failed';
    io.stderr(
      `agentid ${command}: ${typeof code === 'string' && code.startsWith('AGENTID_') && !message.includes(code) ? `${code}: ` : ''}${message}\n`,
    );
    return 1;
  }
}
