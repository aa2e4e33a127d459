#!/usr/bin/env node
import { SIDECAR_USAGE, startSidecarFromArgs } from './cli.js';

startSidecarFromArgs(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : 'failed to start';
  if (message !== 'help requested') process.stderr.write(`agentid-sidecar: ${message}\n\n${SIDECAR_USAGE}\n`);
  process.exit(message === 'help requested' ? 0 : 1);
});
