/**
 * @agentid/tools: framework-neutral tool registry and tool-scoped tokens.
 * @packageDocumentation
 */
export {};
