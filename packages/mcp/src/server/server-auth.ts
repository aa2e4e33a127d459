import { AuthorizationError } from '@agentid/core';
import { ATTR, servicesOf } from '@agentid/core/broker';
import {
  authorizationHeaderOf,
  isAgentActed,
  parseAuthorizationHeader,
  type Principal,
  validatorForBlueprint,
} from '@agentid/obo';
import {
  type AgentRequestContext,
  createAgentToolkit,
  type ErrorResponse,
  type ToolDefinition,
} from '@agentid/tools';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { OAuthProtectedResourceMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import { metadataPathOf } from '../resource.js';
import { callEvent } from './audit.js';
import { challengeResponse } from './challenge.js';
import { checkHostAndOrigin } from './host.js';
import { filterToolsListOn } from './tools-list.js';
import { type McpServerAuthOptions, type ResolvedPolicy, resolveServerOptions } from './options.js';
import { rpcTargetOf } from './rpc.js';
import { createToolWrapper, type McpToolWrapper } from './tool-call.js';
import { AGENTID_AUTH, INBOUND_TOKEN_WITHHELD, type McpAuthExtra } from './auth-info.js';

/** Headers as Node, Express and Fastify give them (lower-case names). */
export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

/**
 * One HTTP request to the MCP endpoint, as a framework adapter hands it over.
 *
 * @example
 * ```ts
 * const decision = await auth.authorize({ method: req.method, headers: req.headers, body: req.body });
 * ```
 */
export interface McpHttpRequest {
  readonly method?: string;
  readonly headers: HeaderBag;
  /** Node's `rawHeaders`: two `Authorization` headers are refused. */
  readonly rawHeaders?: readonly string[];
  /** The parsed JSON-RPC body of a POST. */
  readonly body?: unknown;
}

/**
 * The decision on one request: go on with `authInfo` for the SDK transport, or send `response`.
 *
 * @example
 * ```ts
 * if (!d.ok) return res.status(d.response.status).set(d.response.headers).json(d.response.body);
 * ```
 */
export type McpAuthDecision =
  | { readonly ok: true; readonly authInfo: AuthInfo }
  | { readonly ok: false; readonly response: ErrorResponse };

/**
 * An MCP server's Entra Agent ID protection, independent of the web framework (see
 * `mcpExpress` and `mcpFastify` for the adapters).
 *
 * @example
 * ```ts
 * const auth = createMcpServerAuth({ blueprint, agentId, resource, tools });
 * server.registerTool('read_mail', { inputSchema }, auth.tool('read_mail', async (args, call) => ({ content: [] })));
 * ```
 */
export interface McpServerAuth {
  /** The canonical URL (Application ID URI), as in the metadata. */
  readonly resource: string;
  /** `/.well-known/oauth-protected-resource[/path]`. */
  readonly metadataPath: string;
  /** The absolute metadata URL (`resource_metadata` of challenges). */
  readonly metadataUrl: string;
  /** The RFC 9728 document to serve at `metadataPath`. */
  readonly metadata: Readonly<OAuthProtectedResourceMetadata>;
  /** Host/Origin check, bearer validation and per-tool authorization of one request. */
  authorize(request: McpHttpRequest): Promise<McpAuthDecision>;
  /** The tools a validated caller may call (for a filtered `tools/list`). */
  visibleTools(authInfo: AuthInfo | undefined): readonly string[];
  /** Wraps a tool's handler: span, audit, and a `call` with the tool's own downstream token. */
  readonly tool: McpToolWrapper;
  /**
   * Makes `tools/list` on `transport` show each caller only the tools it may call. Call it after
   * `server.connect(transport)`; returns the transport.
   */
  filterToolsList<T extends Transport>(transport: T): T;
}

const issuersOf = (authorityHost: string, tenants: readonly string[]): string[] =>
  tenants.map((t) => `${authorityHost.replace(/\/+$/, '')}/${t}/v2.0`);

/** Whether a principal has what a tool needs. @internal */
export function mayCall(principal: Principal, policy: ResolvedPolicy): boolean {
  if (principal.idtyp === 'app')
    return policy.roles.length > 0 && policy.roles.every((r) => principal.roles.includes(r));
  if (policy.scopeValues.length === 0) return false;
  return policy.scopeValues.every((s) => principal.scopes.some((p) => p.toLowerCase() === s));
}

/**
 * Protects an MCP server with Entra Agent ID: RFC 9728 metadata, bearer validation (audience =
 * the server's resource, issuer, tenant, agent facets), per-tool scopes or app roles with a 403
 * step-up challenge, DNS-rebinding protection, and tools that call downstream APIs with their own
 * token. Options are checked up front (`ConfigurationError`).
 *
 * @example
 * ```ts
 * const auth = createMcpServerAuth({
 *   blueprint, agentId: mcpAgentId, resource: 'https://mcp.contoso.com',
 *   tools: { read_mail: { scopes: ['Mail.Read'], downstream: { resource: 'api://tools', scopes: ['Mail.Read'], mode: 'obo' } } },
 * });
 * ```
 */
export function createMcpServerAuth(options: McpServerAuthOptions): McpServerAuth {
  const settings = resolveServerOptions(options);
  const { blueprint, agentId } = options;
  const { resource, tools } = settings;
  const services = servicesOf(blueprint);
  const telemetry = services.telemetry;
  const validator =
    options.validator ??
    validatorForBlueprint(blueprint, {
      audiences: options.audiences ?? [blueprint.clientId, resource],
      requiredScopes: [],
      ...(options.allowedTenants !== undefined ? { allowedTenants: options.allowedTenants } : {}),
    });
  const downstream: Record<string, ToolDefinition> = {};
  for (const p of tools.values()) if (p.downstream) downstream[p.name] = p.downstream;
  const toolkit =
    Object.keys(downstream).length > 0
      ? createAgentToolkit({
          blueprint,
          agentId,
          tools: downstream,
          validator,
          ...(options.fetch ? { fetch: options.fetch } : {}),
        })
      : undefined;
  const metadataPath = metadataPathOf(resource);
  const metadataUrl = new URL(metadataPath, resource).href;
  const tenants = Array.isArray(options.allowedTenants) ? options.allowedTenants : [blueprint.tenantId];
  const metadata: OAuthProtectedResourceMetadata = Object.freeze({
    resource,
    authorization_servers: issuersOf(blueprint.authorityHost, tenants),
    scopes_supported: [...settings.scopesSupported],
    bearer_methods_supported: ['header'],
    ...(options.resourceName ? { resource_name: options.resourceName } : {}),
  });
  const audit = options.audit?.call;
  const dflt = `${resource}/.default`;

  const deny = (name: string, principal: Principal, reason: string): void => {
    audit?.(callEvent(name, agentId, principal, { outcome: 'denied', reason }));
    void telemetry.withSpan(
      `execute_tool ${name}`,
      {
        'gen_ai.operation.name': 'execute_tool',
        'mcp.method.name': 'tools/call',
        [ATTR.GEN_AI_TOOL_NAME]: name,
        [ATTR.GEN_AI_AGENT_ID]: agentId,
        [ATTR.AGENT_ID]: agentId,
        [ATTR.OBO_USER_ID]: principal.oid,
        'agentid.tool.outcome': 'denied',
      },
      () => undefined,
    );
  };

  const authenticate = (
    request: McpHttpRequest,
  ): Promise<{ principal: Principal; ctx?: AgentRequestContext }> => {
    if (toolkit)
      return toolkit
        .authenticate(request.headers, request.rawHeaders)
        .then((ctx) => ({ principal: ctx.principal, ctx }));
    const header = request.rawHeaders
      ? authorizationHeaderOf({
          headers: request.headers as { authorization?: string },
          rawHeaders: request.rawHeaders,
        })
      : (request.headers.authorization as string | undefined);
    return validator.validate(parseAuthorizationHeader(header)).then((principal) => ({ principal }));
  };

  async function authorize(request: McpHttpRequest): Promise<McpAuthDecision> {
    let calls: readonly string[] = [];
    try {
      checkHostAndOrigin(request.headers, settings.allowedHosts, settings.allowedOrigins);
      if (request.method === undefined || request.method === 'POST')
        calls = rpcTargetOf(request.headers, request.body).tools;
    } catch (e) {
      return { ok: false, response: challengeResponse(e, metadataUrl, undefined) };
    }
    const first = calls.length > 0 ? tools.get(calls[0]!) : undefined;
    let who: { principal: Principal; ctx?: AgentRequestContext };
    try {
      who = await authenticate(request);
      if (options.requireAgent && !isAgentActed(who.principal))
        throw new AuthorizationError('AGENTID_FORBIDDEN', 'Only agents may call this server');
    } catch (e) {
      const scope = first ? first.userChallenge : dflt;
      return { ok: false, response: challengeResponse(e, metadataUrl, scope) };
    }
    const { principal } = who;
    for (const name of calls) {
      const policy = tools.get(name);
      if (!policy) {
        deny(name, principal, 'undeclared tool');
        const e = new AuthorizationError('AGENTID_FORBIDDEN', `Tool '${name.slice(0, 64)}' is not declared`);
        return { ok: false, response: challengeResponse(e, metadataUrl, undefined) };
      }
      if (!mayCall(principal, policy)) {
        const scope = principal.idtyp === 'app' ? policy.appChallenge : policy.userChallenge;
        deny(name, principal, principal.idtyp === 'app' ? 'missing app roles' : 'missing scopes');
        const e = new AuthorizationError(
          'AGENTID_FORBIDDEN',
          `Tool '${name}' needs ${scope || 'a delegated token'}`,
        );
        return { ok: false, response: challengeResponse(e, metadataUrl, scope, true) };
      }
    }
    const extra: McpAuthExtra = {
      [AGENTID_AUTH]: true,
      principal,
      ...(who.ctx ? { agentid: who.ctx } : {}),
    };
    const authInfo: AuthInfo = {
      token: INBOUND_TOKEN_WITHHELD,
      clientId: principal.azp ?? principal.oid,
      scopes: [...(principal.idtyp === 'app' ? principal.roles : principal.scopes)],
      expiresAt: Math.floor(principal.expiresOn.getTime() / 1000),
      resource: new URL(resource),
      extra: extra as unknown as Record<string, unknown>,
    };
    return { ok: true, authInfo };
  }

  const visibleTools = (authInfo: AuthInfo | undefined): readonly string[] => {
    const principal = (authInfo?.extra as McpAuthExtra | undefined)?.principal;
    if (!principal) return [];
    return [...tools.values()].filter((p) => mayCall(principal, p)).map((p) => p.name);
  };

  const tool = createToolWrapper({
    agentId,
    blueprintId: blueprint.clientId,
    telemetry,
    audit,
    clock: services.clock,
  });
  return Object.freeze({
    resource,
    metadataPath,
    metadataUrl,
    metadata,
    authorize,
    visibleTools,
    tool,
    filterToolsList: <T extends Transport>(transport: T): T => filterToolsListOn(transport, visibleTools),
  });
}
