/**
 * @agentid/cli: the `agentid` command (emulator, token, decode, sidecar), also callable in-process.
 * @packageDocumentation
 */
export { runCli, USAGE } from './cli.js';
export type { CliIo } from './io.js';
export { explainClaims } from './commands/decode.js';
