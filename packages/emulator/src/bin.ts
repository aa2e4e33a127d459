#!/usr/bin/env node
import { EMULATOR_USAGE, isUsageError, startEmulatorFromArgs } from './cli.js';

// Exit codes: 0 stopped by a signal (or --help), 1 failed to start, 2 usage mistake.
startEmulatorFromArgs(process.argv.slice(2)).then(
  (emu) => {
    if (!emu) return;
    const stop = (): void => {
      // close() stops the servers and removes the CA folder it wrote.
      void emu.close().then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(
            `agentid-emulator: stopping failed: ${err instanceof Error ? err.message : String(err)}\n`,
          );
          process.exit(1);
        },
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    if (isUsageError(err)) {
      process.stderr.write(`agentid-emulator: ${message}\n\n${EMULATOR_USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`agentid-emulator: ${message}\n`);
    process.exit(1);
  },
);
