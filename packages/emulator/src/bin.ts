#!/usr/bin/env node
import { startEmulatorFromArgs } from './cli.js';

startEmulatorFromArgs(process.argv.slice(2)).then(
  (emu) => {
    if (!emu) return;
    const stop = (): void => {
      void emu.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  },
  (err: unknown) => {
    process.stderr.write(`agentid-emulator: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
