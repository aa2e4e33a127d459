/**
 * @agentid/mcp: Model Context Protocol servers and clients on Microsoft Entra Agent ID, on the
 * official `@modelcontextprotocol/sdk`. Servers: RFC 9728 protected-resource metadata, bearer
 * validation, per-tool scopes and app roles with step-up challenges, tools that call downstream
 * APIs with their own token (never the inbound one), spans and audit, DNS-rebinding protection,
 * Express and Fastify. Clients (agents): a `fetch` for the SDK's transports that gets each call a
 * token for exactly its tool's scopes, for the right actor.
 * @packageDocumentation
 */
export {
  createMcpServerAuth,
  type HeaderBag,
  type McpAuthDecision,
  type McpHttpRequest,
  type McpServerAuth,
} from './server/server-auth.js';
export type { McpServerAuthOptions, McpToolPolicy } from './server/options.js';
export type { McpCallEvent } from './server/audit.js';
export { INBOUND_TOKEN_WITHHELD, mcpAuthOf, type McpAuthExtra } from './server/auth-info.js';
export type { McpToolCall, McpToolWrapper } from './server/tool-call.js';
export { mcpExpress } from './server/node.js';
export { mcpFastify, type McpFastify } from './server/fastify.js';
export { metadataPathOf } from './resource.js';
export { mcpClientFetch, type McpClientFetchOptions, type McpTokenSource } from './client/client-fetch.js';
