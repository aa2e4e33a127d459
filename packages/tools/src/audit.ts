import type { ChainAttributes } from '@agentid/obo';

/**
 * An authorization decision: a tool allowed or denied (and why) for an agent acting for a user.
 *
 * @example
 * ```ts
 * audit: { decision: (e) => { if (!e.allowed) log.warn('tool denied', e); } }
 * ```
 */
export interface DecisionEvent {
  readonly type: 'decision';
  readonly tool: string;
  readonly agentId: string;
  readonly userId: string;
  readonly tenantId: string;
  readonly actors: readonly string[];
  /** The whole chain, flat (the same keys as the span attributes). */
  readonly chain: ChainAttributes;
  readonly allowed: boolean;
  readonly reason?: string;
}

/**
 * One tool invocation through `tool(name).fetch`: outcome, HTTP status and duration. Never a token.
 *
 * @example
 * ```ts
 * audit: { invocation: (e) => metrics.histogram('tool.ms', e.durationMs, { tool: e.tool }) }
 * ```
 */
export interface InvocationEvent {
  readonly type: 'invocation';
  readonly tool: string;
  readonly agentId: string;
  readonly userId: string;
  readonly tenantId: string;
  readonly actors: readonly string[];
  /** The whole chain, flat (the same keys as the span attributes). */
  readonly chain: ChainAttributes;
  readonly outcome: 'ok' | 'error' | 'denied';
  readonly status?: number;
  readonly errorCode?: string;
  readonly durationMs: number;
}
