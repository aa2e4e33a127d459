#!/usr/bin/env node
import { isSidecarUsageError, SIDECAR_USAGE, startSidecarFromArgs } from './cli.js';

// Exit codes: 0 stopped by a signal (or --help), 1 failed to start, 2 usage mistake.
startSidecarFromArgs(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : 'failed to start';
  if (isSidecarUsageError(error)) {
    process.stderr.write(`agentid-sidecar: ${message}\n\n${SIDECAR_USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`agentid-sidecar: ${message}\n`);
  process.exit(1);
});
