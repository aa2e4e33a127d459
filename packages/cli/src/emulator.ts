import { ConfigurationError } from '@agentid/core';
import type * as Emulator from '@agentid/emulator';

type EmulatorModule = typeof Emulator;

/**
 * Imports `@agentid/emulator`, an optional peer of the CLI (it brings node-forge): only
 * `agentid emulator` and `agentid token --emulator` load it. Missing, it is a
 * `ConfigurationError` naming the package to install. `load` is for tests.
 */
export async function loadEmulator(
  load: () => Promise<unknown> = () => import('@agentid/emulator'),
): Promise<EmulatorModule> {
  try {
    return (await load()) as EmulatorModule;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
      throw new ConfigurationError(
        'the emulator needs the optional package @agentid/emulator: npm install @agentid/emulator',
        { cause: error },
      );
    throw error;
  }
}
