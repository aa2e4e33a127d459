/**
 * One `tools/call` on a protected MCP server: who called which tool, and what came of it. Names
 * the calling agent, the user, the tool and the outcome; never a token.
 *
 * @example
 * ```ts
 * audit: { call: (e) => log.info({ tool: e.tool, caller: e.callerId, user: e.userId, outcome: e.outcome }) }
 * ```
 */
export interface McpCallEvent {
  readonly type: 'mcp.tools.call';
  readonly tool: string;
  /** This server's agent identity. */
  readonly agentId: string;
  /** The client that called (`azp`): for an agent caller, its agent identity. */
  readonly callerId?: string;
  /** The token's subject (`oid`): the user (or agent user) for delegated tokens, the caller for app tokens. */
  readonly userId: string;
  readonly tenantId: string;
  /** `denied` before the tool ran (the reason says why), else the tool's own outcome. */
  readonly outcome: 'ok' | 'error' | 'denied';
  readonly reason?: string;
  readonly errorCode?: string;
  readonly durationMs?: number;
}
