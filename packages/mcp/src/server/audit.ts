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

/** What the outcome adds to an event: the fields after `tenantId`. */
type Outcome = Pick<McpCallEvent, 'outcome' | 'reason' | 'errorCode' | 'durationMs'>;

/**
 * The event of one call: who called (from the validated principal), then its outcome. One
 * builder for refusals and for the tool's own outcome, so both name the same fields.
 *
 * @example
 * ```ts
 * audit?.(callEvent('read_mail', agentId, principal, { outcome: 'denied', reason }));
 * ```
 */
export function callEvent(
  tool: string,
  agentId: string,
  principal: { readonly azp?: string; readonly oid: string; readonly tid: string },
  outcome: Outcome,
): McpCallEvent {
  return Object.freeze({
    type: 'mcp.tools.call' as const,
    tool,
    agentId,
    ...(principal.azp ? { callerId: principal.azp } : {}),
    userId: principal.oid,
    tenantId: principal.tid,
    ...outcome,
  });
}
