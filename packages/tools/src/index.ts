/**
 * @agentid/tools: tool-level least privilege for agents on Microsoft Entra Agent ID, independent of
 * the web framework: a tool registry, inbound authentication, tool-scoped tokens, tool calls with
 * claims-challenge handling, audit streams and spans. `@agentid/express` and `@agentid/fastify` adapt it.
 * @packageDocumentation
 */
export { defineTools, type ResolvedTool, type ToolDefinition, type ToolMode } from './define.js';
export {
  createAgentToolkit,
  type AgentRequestContext,
  type AgentToolkit,
  type AgentToolkitOptions,
  type ToolHandle,
} from './toolkit.js';
export { toErrorResponse, type ErrorResponse } from './http-errors.js';
export { claimsFromChallenge, parseBearerChallenge } from './challenge.js';
export type { DecisionEvent, InvocationEvent } from './audit.js';
