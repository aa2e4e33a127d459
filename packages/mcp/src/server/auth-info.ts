import { AuthorizationError } from '@agentid/core';
import type { Principal } from '@agentid/obo';
import type { AgentRequestContext } from '@agentid/tools';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';

/**
 * What `extra.authInfo.token` holds on a server protected by `createMcpServerAuth`: never the
 * inbound token. The SDK's `AuthInfo` has a `token` field, and a handler that forwarded it to
 * another API would pass the caller's token on (token passthrough, which MCP forbids). A tool gets
 * its own token instead (`call.getToken()`, `call.fetch()`); the caller is in `authInfo.extra.principal`.
 *
 * @example
 * ```ts
 * extra.authInfo?.token === INBOUND_TOKEN_WITHHELD; // true
 * ```
 */
export const INBOUND_TOKEN_WITHHELD = '[withheld by agentid: a tool gets its own token]';

/** Brand of the `extra` agentid puts in `AuthInfo`. @internal */
export const AGENTID_AUTH = Symbol.for('agentid.mcp.authInfo');

/**
 * `authInfo.extra` on a protected server: the validated caller and, for servers with downstream
 * tools, the request's agentid context (tool-scoped tokens).
 *
 * @example
 * ```ts
 * const { principal } = mcpAuthOf(extra);
 * ```
 */
export interface McpAuthExtra {
  readonly [AGENTID_AUTH]: true;
  /** Who the inbound token speaks for (claims, never the token). */
  readonly principal: Principal;
  /** Tool-scoped tokens for the tools' downstream APIs (`agentid.tool(name)`). */
  readonly agentid?: AgentRequestContext;
}

/**
 * The validated caller of an MCP request handler (`extra` of the SDK): throws `AGENTID_FORBIDDEN`
 * when the request did not pass `createMcpServerAuth` (fail closed).
 *
 * @example
 * ```ts
 * server.registerTool('whoami', {}, async (extra) => ({ content: [{ type: 'text', text: mcpAuthOf(extra).principal.oid }] }));
 * ```
 */
export function mcpAuthOf(extra: { readonly authInfo?: AuthInfo } | undefined): McpAuthExtra {
  const e = extra?.authInfo?.extra as Partial<McpAuthExtra> | undefined;
  if (!e || e[AGENTID_AUTH] !== true || !e.principal)
    throw new AuthorizationError('AGENTID_FORBIDDEN', 'The request was not authorized by agentid');
  return e as McpAuthExtra;
}
