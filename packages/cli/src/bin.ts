#!/usr/bin/env node
import { writeSync } from 'node:fs';
import { runCli } from './cli.js';

const readStdin = async (): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

// Exit codes are 0, 1 and 2, always with a message. A command whose work stopped without settling
// (nothing left keeping the event loop alive) would otherwise end silently: Node's code 13 for an
// unsettled top-level await, 0 without one. Say so and exit 1 instead.
let settled = false;
process.once('exit', () => {
  if (settled) return;
  writeSync(
    2,
    'agentid: the command stopped before it finished (nothing was left to wait for); this is a bug, please report it\n',
  );
  process.exitCode = 1;
});

let stop: (() => Promise<void>) | undefined;
runCli(
  process.argv.slice(2),
  {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    env: process.env,
    readStdin,
  },
  { onServe: (s) => (stop = s) },
).then(
  (code) => {
    settled = true;
    if (!stop) {
      process.exitCode = code;
      return;
    }
    const shutdown = (): void => {
      void stop!().then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(
            `agentid: stopping failed: ${err instanceof Error ? err.message : String(err)}\n`,
          );
          process.exit(1);
        },
      );
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  },
  (err: unknown) => {
    settled = true;
    process.stderr.write(`agentid: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
