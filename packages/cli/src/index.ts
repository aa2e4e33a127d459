/**
 * @agentid/cli: The agentid command: emulator, sidecar, token, decode.
 * @packageDocumentation
 */
export {};
