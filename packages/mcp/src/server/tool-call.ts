import {
  type AccessToken,
  AuthorizationError,
  type Clock,
  type GetTokenOptions,
  isAgentIdError,
} from '@agentid/core';
import { ATTR, type Telemetry } from '@agentid/core/broker';
import { formatChain, type Principal } from '@agentid/obo';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { callEvent, type McpCallEvent } from './audit.js';
import { mcpAuthOf } from './auth-info.js';

/**
 * One running `tools/call`: the caller, and the tool's own token for its downstream API (OBO for
 * the user, the agent's own, or its agent user, as the tool's `downstream` says). Never the
 * inbound token.
 *
 * @example
 * ```ts
 * const res = await call.fetch('https://tools.contoso.com/mail');
 * ```
 */
export interface McpToolCall {
  readonly name: string;
  readonly principal: Principal;
  /** A token with exactly the downstream permissions of this tool. */
  getToken(options?: GetTokenOptions): Promise<AccessToken>;
  /** `fetch` with that token, `traceparent` and the delegation chain (see `@agentid/tools`' `ToolHandle.fetch`). */
  fetch(url: string | URL, init?: RequestInit): Promise<Response>;
}

/**
 * Wraps an MCP tool handler (`registerTool`'s callback): an `execute_tool <name>` span, an audit
 * event with the outcome, and the {@link McpToolCall}.
 *
 * @example
 * ```ts
 * server.registerTool('read_mail', { inputSchema: { folder: z.string() } },
 *   auth.tool('read_mail', async ({ folder }, call) => ({ content: [{ type: 'text', text: await (await call.fetch(url)).text() }] })));
 * ```
 */
export type McpToolWrapper = <Args, Extra extends { readonly authInfo?: AuthInfo }, Result>(
  name: string,
  handler: (args: Args, call: McpToolCall, extra: Extra) => Result | Promise<Result>,
) => (args: Args, extra: Extra) => Promise<Result>;

interface WrapperDeps {
  agentId: string;
  blueprintId: string;
  telemetry: Telemetry;
  audit: ((event: McpCallEvent) => void) | undefined;
  clock: Clock;
}

/** @internal */
export function createToolWrapper(deps: WrapperDeps): McpToolWrapper {
  const { agentId, telemetry, audit, clock } = deps;
  return (name, handler) => {
    if (typeof name !== 'string' || name === '') throw new TypeError('auth.tool: a tool name is required');
    if (typeof handler !== 'function') throw new TypeError(`auth.tool('${name}'): a handler is required`);
    return (args, extra) => {
      const { principal, agentid } = mcpAuthOf(extra);
      const handle = agentid?.tool(name);
      const none = (): Promise<never> =>
        Promise.reject(
          new AuthorizationError('AGENTID_TOOL_UNKNOWN', `Tool '${name}' declares no downstream API`),
        );
      const call: McpToolCall = Object.freeze({
        name,
        principal,
        getToken: (o?: GetTokenOptions) => (handle ? handle.getToken(o) : none()),
        fetch: (url: string | URL, init?: RequestInit) => (handle ? handle.fetch(url, init) : none()),
      });
      const attrs = {
        'gen_ai.operation.name': 'execute_tool',
        'mcp.method.name': 'tools/call',
        [ATTR.GEN_AI_TOOL_NAME]: name,
        [ATTR.GEN_AI_AGENT_ID]: agentId,
        [ATTR.AGENT_ID]: agentId,
        [ATTR.BLUEPRINT_ID]: deps.blueprintId,
        [ATTR.OBO_USER_ID]: principal.oid,
        [ATTR.OBO_USER_TENANT]: principal.tid,
        ...(principal.azp ? { 'agentid.mcp.caller.id': principal.azp } : {}),
        ...(agentid ? { [ATTR.ACTOR_CHAIN]: formatChain(agentid.delegation) } : {}),
      };
      return telemetry.withSpan(`execute_tool ${name}`, attrs, async (span) => {
        const started = clock.now();
        const event = (outcome: 'ok' | 'error', errorCode?: string) =>
          audit?.(
            callEvent(name, agentId, principal, {
              outcome,
              durationMs: clock.now() - started,
              ...(errorCode ? { errorCode } : {}),
            }),
          );
        try {
          const result = await handler(args, call, extra);
          const failed = (result as { isError?: unknown } | null)?.isError === true;
          span.setAttribute('agentid.tool.outcome', failed ? 'error' : 'ok');
          event(failed ? 'error' : 'ok');
          return result;
        } catch (e) {
          span.setAttribute('agentid.tool.outcome', 'error');
          event('error', isAgentIdError(e) ? e.code : 'AGENTID_UNEXPECTED');
          throw e;
        }
      });
    };
  };
}
