import { agentUser, type AgentUserHandle } from '@agentid/agent-user';
import {
  type AccessToken,
  type Agent,
  AuthorizationError,
  type Blueprint,
  ConfigurationError,
  type GetTokenOptions,
  isAgentIdError,
} from '@agentid/core';
import { ATTR, servicesOf } from '@agentid/core/broker';
import {
  appendActor,
  chainAttributes,
  type DelegationCodec,
  type DelegationContext,
  onBehalfOf,
  authorizationHeaderOf,
  parseAuthorizationHeader,
  type Principal,
  startDelegation,
  type TokenValidator,
  validatorForBlueprint,
} from '@agentid/obo';
import type { DecisionEvent, InvocationEvent } from './audit.js';
import { createBearerReader } from './bearer.js';
import { createCallMemory } from './call-memory.js';
import { defineTools, type ResolvedTool, type ToolDefinition } from './define.js';
import { toolFetch } from './tool-fetch.js';

/**
 * Options of {@link createAgentToolkit}.
 *
 * @example
 * ```ts
 * const options: AgentToolkitOptions = { blueprint, agentId, tools: { send_mail: { resource: 'api://tools', scopes: ['Mail.Send'], mode: 'obo' } } };
 * ```
 */
export interface AgentToolkitOptions {
  blueprint: Blueprint;
  /** The agent identity that serves these requests and calls the tools. */
  agentId: string;
  /**
   * The agent identity's tenant, for a customer tenant of a multi-tenant blueprint (agent
   * identities are single-tenant: one toolkit per tenant, whose default validator accepts that
   * tenant's users only). Default: the blueprint's home tenant.
   */
  tenantId?: string;
  tools: Readonly<Record<string, ToolDefinition>>;
  /** The tools this agent may use (default: all registered). Anything else is denied (403) and audited. */
  allowedTools?: readonly string[];
  /** A further per-request decision (e.g. per user); `false` or a string (the reason) denies. */
  allow?: (request: {
    principal: Principal;
    tool: string;
    delegation: DelegationContext;
  }) => boolean | string | Promise<boolean | string>;
  /** Default `validatorForBlueprint(blueprint)` (audience = the blueprint, scope `access_agent`). */
  validator?: TokenValidator;
  /** Verify the inbound delegation chain and send it on with tool calls to other agents. */
  delegation?: DelegationCodec;
  audit?: {
    /** Receives one event per allow/deny decision on a tool. */
    decision?: (event: DecisionEvent) => void;
    /** Receives one event per tool call (outcome, status, duration). */
    invocation?: (event: InvocationEvent) => void;
  };
  /** `fetch` for tool calls. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** The `realm` of `WWW-Authenticate`. Default `agentid`. */
  realm?: string;
}

/**
 * A tool, bound to one request: its token has exactly the tool's permissions.
 *
 * @example
 * ```ts
 * const res = await req.agentid.tool('send_mail').fetch('https://tools.contoso.com/mail', { method: 'POST', body });
 * ```
 */
export interface ToolHandle {
  readonly name: string;
  /** The tool's token (for SDK clients). */
  getToken(options?: GetTokenOptions): Promise<AccessToken>;
  /**
   * `fetch` with the tool's token, `traceparent` and the delegation chain. Redirects are followed
   * within the URL's origin only (another origin: `AGENTID_DOWNSTREAM`, nothing sent there); a
   * claims challenge gets one re-acquisition and one retry (challenged again: `AGENTID_DOWNSTREAM`).
   */
  fetch(url: string | URL, init?: RequestInit): Promise<Response>;
}

/**
 * What the middleware attaches to an authenticated request (`req.agentid`).
 *
 * @example
 * ```ts
 * const { principal, delegation } = req.agentid;
 * ```
 */
export interface AgentRequestContext {
  readonly principal: Principal;
  /** The chain of agents acting for the user, this agent last. */
  readonly delegation: DelegationContext;
  readonly agent: Agent;
  /** A tool handle; throws `AGENTID_TOOL_UNKNOWN` (404) or `AGENTID_FORBIDDEN` (403), both audited. */
  tool(name: string): ToolHandle;
}

/**
 * Authentication and tool-scoped tokens for one agent, independent of the web framework.
 *
 * @example
 * ```ts
 * const ctx = await toolkit.authenticate(req.headers);
 * ```
 */
export interface AgentToolkit {
  readonly agent: Agent;
  readonly realm: string;
  readonly tools: readonly string[];
  /** Validates the bearer token (and the delegation header): throws a typed error to map with `toErrorResponse`. */
  authenticate(
    headers: Readonly<Record<string, string | readonly string[] | undefined>>,
    rawHeaders?: readonly string[],
  ): Promise<AgentRequestContext>;
}

/**
 * Creates an {@link AgentToolkit}. The registry is checked up front.
 *
 * @example
 * ```ts
 * const toolkit = createAgentToolkit({ blueprint, agentId, tools, allowedTools: ['send_mail'] });
 * ```
 */
export function createAgentToolkit(options: AgentToolkitOptions): AgentToolkit {
  if (!options || typeof options !== 'object')
    throw new ConfigurationError('createAgentToolkit: options are required');
  const { blueprint } = options;
  const services = servicesOf(blueprint);
  const agent = blueprint.agent(
    options.agentId,
    options.tenantId !== undefined ? { tenantId: options.tenantId } : undefined,
  );
  const tools = defineTools(options.tools);
  const allowed = new Set(options.allowedTools ?? tools.keys());
  for (const t of allowed)
    if (!tools.has(t))
      throw new ConfigurationError(`createAgentToolkit: allowedTools names '${t}', which is not registered`);
  // A customer tenant's toolkit serves that tenant's users only.
  const validator =
    options.validator ??
    validatorForBlueprint(
      blueprint,
      agent.tenantId !== blueprint.tenantId ? { allowedTenants: [agent.tenantId] } : {},
    );
  const realm = options.realm ?? 'agentid';
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (typeof fetchImpl !== 'function')
    throw new ConfigurationError('createAgentToolkit: fetch must be a function');
  const audit = options.audit ?? {};

  const codec = options.delegation;
  const bearer = createBearerReader();
  const agentUsers = new Map<ResolvedTool, AgentUserHandle>();
  // What tool APIs answered 401 to, per tool and user: bounds the token requests they can cause.
  const memory = createCallMemory(() => services.clock.now());

  // Autonomous and agent-user tokens (OBO tokens are fetched directly in tokenOf).
  const appOrAgentUserToken = async (
    tool: ResolvedTool,
    o: GetTokenOptions | undefined,
  ): Promise<AccessToken> => {
    if (tool.mode === 'agent-user') {
      let handle = agentUsers.get(tool);
      if (!handle) agentUsers.set(tool, (handle = agentUser(agent, tool.agentUser!)));
      return handle.getToken(tool.requestScopes, o);
    }
    const t = await agent.getToken(tool.requestScopes, o);
    const roles = t.claims?.roles ?? [];
    const missing = tool.roles.filter((r) => !roles.includes(r));
    if (missing.length > 0)
      throw new AuthorizationError(
        'AGENTID_FORBIDDEN',
        `Agent ${agent.id} lacks the app role(s) ${missing.join(', ')} that tool '${tool.name}' needs`,
      );
    return t;
  };

  /** The allow/deny decision on a tool for one request, audited. Synchronous unless an `allow` policy is set. */
  const decide = (
    name: string,
    principal: Principal,
    delegation: DelegationContext,
  ): ResolvedTool | Promise<ResolvedTool> => {
    const tool = tools.get(name);
    const reason = !tool
      ? 'unknown tool'
      : !allowed.has(name)
        ? `tool not allowed for agent ${agent.id}`
        : undefined;
    if (reason === undefined && options.allow) {
      const allow = options.allow;
      return (async () => {
        const verdict = await allow({ principal, tool: name, delegation });
        return conclude(
          name,
          tool,
          verdict === true
            ? undefined
            : typeof verdict === 'string' && verdict
              ? verdict
              : 'denied by policy',
          principal,
          delegation,
        );
      })();
    }
    return conclude(name, tool, reason, principal, delegation);
  };
  const conclude = (
    name: string,
    tool: ResolvedTool | undefined,
    reason: string | undefined,
    principal: Principal,
    delegation: DelegationContext,
  ): ResolvedTool => {
    // The event is only built when someone listens.
    if (audit.decision)
      audit.decision(
        Object.freeze({
          type: 'decision' as const,
          tool: name,
          agentId: agent.id,
          userId: principal.oid,
          tenantId: principal.tid,
          actors: delegation.actors,
          chain: chainAttributes(delegation),
          allowed: reason === undefined,
          ...(reason ? { reason } : {}),
        }),
      );
    if (!tool)
      throw new AuthorizationError(
        'AGENTID_TOOL_UNKNOWN',
        `No tool named '${name.slice(0, 64)}' is registered`,
      );
    if (reason) throw new AuthorizationError('AGENTID_FORBIDDEN', `Tool '${name}' is not allowed: ${reason}`);
    return tool;
  };

  function toolHandle(
    name: string,
    principal: Principal,
    delegation: DelegationContext,
    userToken: string,
  ): ToolHandle {
    if (typeof name !== 'string')
      throw new AuthorizationError('AGENTID_TOOL_UNKNOWN', 'A tool name is required');
    // Decided once per handle, on first use (and audited then); a refusal is remembered too.
    let decision: ResolvedTool | Promise<ResolvedTool> | undefined;
    let refusal: { error: unknown } | undefined;
    const resolve = (): ResolvedTool | Promise<ResolvedTool> => {
      if (refusal) throw refusal.error;
      if (decision === undefined) {
        try {
          decision = decide(name, principal, delegation);
        } catch (e) {
          refusal = { error: e };
          throw e;
        }
      }
      return decision;
    };
    const tokenOf = (tool: ResolvedTool, o: GetTokenOptions | undefined): Promise<AccessToken> =>
      tool.mode === 'obo'
        ? onBehalfOf(
            agent,
            userToken,
            tool.requestScopes,
            o ? { ...o, principal, delegation } : { principal, delegation },
          )
        : appOrAgentUserToken(tool, o);
    const getToken = (o?: GetTokenOptions): Promise<AccessToken> => {
      let d: ResolvedTool | Promise<ResolvedTool>;
      try {
        d = resolve();
      } catch (e) {
        return Promise.reject(e);
      }
      return d instanceof Promise ? d.then((tool) => tokenOf(tool, o)) : tokenOf(d, o);
    };
    return Object.freeze({
      name,
      getToken,
      async fetch(url: string | URL, init: RequestInit = {}) {
        const attrs = {
          [ATTR.GEN_AI_TOOL_NAME]: name,
          [ATTR.GEN_AI_AGENT_ID]: agent.id,
          [ATTR.AGENT_ID]: agent.id,
          [ATTR.BLUEPRINT_ID]: blueprint.clientId,
          [ATTR.OBO_USER_ID]: principal.oid,
          [ATTR.ENDUSER_ID]: principal.oid,
          [ATTR.OBO_USER_TENANT]: principal.tid,
          ...chainAttributes(delegation),
          'gen_ai.operation.name': 'execute_tool',
        };
        return services.telemetry.withSpan(`execute_tool ${name}`, attrs, async (span) => {
          const started = services.clock.now();
          const event = (outcome: InvocationEvent['outcome'], status?: number, errorCode?: string) =>
            audit.invocation?.(
              Object.freeze({
                type: 'invocation' as const,
                tool: name,
                agentId: agent.id,
                userId: principal.oid,
                tenantId: principal.tid,
                actors: delegation.actors,
                chain: chainAttributes(delegation),
                outcome,
                durationMs: services.clock.now() - started,
                ...(status !== undefined ? { status } : {}),
                ...(errorCode ? { errorCode } : {}),
              }),
            );
          try {
            const tool = await resolve();
            const res = await toolFetch({
              tool: name,
              url,
              init,
              fetch: fetchImpl,
              getToken: (o) => tokenOf(tool, o),
              delegation,
              codec,
              memory,
              // One token per tool and user (autonomous and agent-user tools: one per tool).
              key: () => (tool.mode === 'obo' ? `${name}\u0000${principal.oid}\u0000${principal.tid}` : name),
              passChallenge: tool.mode === 'obo',
            });
            span.setAttribute('agentid.tool.outcome', res.ok ? 'ok' : 'error');
            span.setAttribute(ATTR.HTTP_STATUS, res.status);
            event(res.ok ? 'ok' : 'error', res.status);
            return res;
          } catch (e) {
            span.setAttribute(
              'agentid.tool.outcome',
              isAgentIdError(e) && (e.code === 'AGENTID_FORBIDDEN' || e.code === 'AGENTID_TOOL_UNKNOWN')
                ? 'denied'
                : 'error',
            );
            event(
              isAgentIdError(e) && (e.code === 'AGENTID_FORBIDDEN' || e.code === 'AGENTID_TOOL_UNKNOWN')
                ? 'denied'
                : 'error',
              undefined,
              isAgentIdError(e) ? e.code : 'AGENTID_UNEXPECTED',
            );
            throw e;
          }
        });
      },
    });
  }

  const contextOf = (
    principal: Principal,
    inbound: DelegationContext,
    userToken: string,
  ): AgentRequestContext => {
    const delegation = appendActor(inbound, agent, codec?.maxHops);
    return Object.freeze({
      principal,
      delegation,
      agent,
      tool: (name: string) => toolHandle(name, principal, delegation, userToken),
    });
  };

  // Not an async function: on the hot path (a remembered header, a cached validation, no codec) it
  // adds one promise to the validator's, where async/await would add two more per request.
  function authenticate(
    headers: Readonly<Record<string, string | readonly string[] | undefined>>,
    rawHeaders?: readonly string[],
  ): Promise<AgentRequestContext> {
    let header: string | readonly string[] | undefined;
    let known: string | undefined;
    let userToken: string;
    let validated: Promise<Principal>;
    try {
      // rawHeaders: Node keeps only the first of repeated Authorization headers; two are refused.
      header = rawHeaders
        ? authorizationHeaderOf({ headers: headers as { authorization?: string }, rawHeaders })
        : headers.authorization;
      known = bearer.known(header);
      userToken = known ?? parseAuthorizationHeader(header);
      validated = validator.validate(userToken);
    } catch (e) {
      return Promise.reject(e);
    }
    return validated.then((principal) => {
      if (known === undefined) bearer.remember(header, userToken);
      // Without a codec the chain starts from the token (startDelegation and appendActor memoize per frozen input).
      if (!codec) return contextOf(principal, startDelegation(principal), userToken);
      return codec
        .decode(headers['x-agentid-delegation'], principal, userToken)
        .then((inbound) => contextOf(principal, inbound, userToken));
    });
  }

  return Object.freeze({ agent, realm, tools: Object.freeze([...tools.keys()]), authenticate });
}
