#!/usr/bin/env node
import { runCli } from './cli.js';

const readStdin = async (): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

let stop: (() => Promise<void>) | undefined;
const code = await runCli(process.argv.slice(2), { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), env: process.env, readStdin }, { onServe: (s) => (stop = s) });
if (stop) {
  const shutdown = (): void => {
    void stop!().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
} else {
  process.exitCode = code;
}
