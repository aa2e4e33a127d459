import {
  type AccessToken,
  AuthorizationError,
  ConfigurationError,
  type GetTokenOptions,
} from '@agentid/core';
import { claimsFromChallenge, parseBearerChallenge } from '@agentid/tools';
import { qualifyScope } from '../resource.js';
import { type DiscoveredResource, discoverResource } from './metadata.js';
import { traceCarrier, withTraceMeta } from './trace.js';

/**
 * Where the client's tokens come from: a function of the Entra scopes (always of the MCP
 * server's resource: `<App ID URI>/.default` or `<App ID URI>/<scope>`). Inject the actor:
 * `(s, o) => agent.getToken(s, o)` (autonomous), `(s, o) => onBehalfOf(agent, userToken, s, o)`
 * (`@agentid/obo`) or `(s, o) => agentUser(agent, ref).getToken(s, o)` (`@agentid/agent-user`).
 * agentid's tokens are cached, single-flight and refreshed ahead.
 *
 * @example
 * ```ts
 * const getToken: McpTokenSource = (scopes, o) => blueprint.agent(agentId).getToken(scopes, o);
 * ```
 */
export type McpTokenSource = (
  scopes: readonly string[],
  options: GetTokenOptions,
) => Promise<AccessToken | { readonly token: string }>;

/**
 * Options of {@link mcpClientFetch}.
 *
 * @example
 * ```ts
 * const options: McpClientFetchOptions = { serverUrl: 'https://mcp.contoso.com/mcp', getToken, toolScopes: { read_mail: ['Mail.Read'] } };
 * ```
 */
export interface McpClientFetchOptions {
  /** The MCP endpoint, as given to the SDK transport. Its metadata's `resource` must be this server. */
  serverUrl: string | URL;
  getToken: McpTokenSource;
  /** Per tool, the scopes of the server its `tools/call` needs (short or full): that call's token has only these. */
  toolScopes?: Readonly<Record<string, readonly string[]>>;
  /** Scopes of requests that call no tool (initialize, tools/list, ...). Default `<resource>/.default`. */
  scopes?: readonly string[];
  /** Default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

const GUARDED = new Set([401, 403]);

/**
 * A `fetch` for the SDK's client transports (`new StreamableHTTPClientTransport(url, { fetch })`)
 * that authenticates an agent to an MCP server protected by Entra Agent ID. It reads the server's
 * RFC 9728 metadata (refusing a `resource` that is not the server: `AGENTID_MCP_RESOURCE_MISMATCH`),
 * asks `getToken` for that resource's Entra scopes (never an RFC 8707 `resource` parameter, which
 * Entra answers AADSTS9010010), gives each `tools/call` a token for that tool's scopes only, sends
 * `Mcp-Method`/`Mcp-Name` and the trace context (headers and `params._meta`), and answers a 401 or
 * a 403 `insufficient_scope` with exactly one new token and one retry; refused again (or asked for
 * another resource's scope) it throws `AGENTID_MCP_STEP_UP_FAILED`. A scope learned from a step-up
 * is remembered for the tool. Requests to other origins get no token.
 *
 * @example
 * ```ts
 * const transport = new StreamableHTTPClientTransport(new URL(serverUrl), {
 *   fetch: mcpClientFetch({ serverUrl, getToken: (s, o) => agent.getToken(s, o) }),
 * });
 * await new Client({ name: 'agent', version: '1.0.0' }).connect(transport);
 * ```
 */
export function mcpClientFetch(options: McpClientFetchOptions): typeof fetch {
  if (!options || typeof options !== 'object')
    throw new ConfigurationError('mcpClientFetch: options are required');
  let serverUrl: URL;
  try {
    serverUrl = new URL(options.serverUrl);
  } catch {
    throw new ConfigurationError('mcpClientFetch: serverUrl must be a URL');
  }
  if (typeof options.getToken !== 'function')
    throw new ConfigurationError('mcpClientFetch: getToken must be a function');
  const base = options.fetch ?? globalThis.fetch;
  if (typeof base !== 'function') throw new ConfigurationError('mcpClientFetch: fetch must be a function');
  const toolScopes = options.toolScopes ?? {};
  for (const [tool, s] of Object.entries(toolScopes))
    if (!Array.isArray(s) || s.length === 0 || s.some((x) => typeof x !== 'string' || x === ''))
      throw new ConfigurationError(`mcpClientFetch: toolScopes.${tool} must list scopes`);
  let discovered: Promise<DiscoveredResource> | undefined;
  const discover = (): Promise<DiscoveredResource> =>
    (discovered ??= discoverResource(serverUrl, base).catch((e: unknown) => {
      discovered = undefined;
      throw e;
    }));
  // Scopes a step-up taught, per tool.
  const learned = new Map<string, readonly string[]>();

  const scopesFor = (resource: string, tools: readonly string[]): readonly string[] => {
    if (tools.length === 0) return (options.scopes ?? ['.default']).map((s) => qualifyScope(resource, s));
    const out = new Set<string>();
    for (const t of tools)
      for (const s of toolScopes[t] ?? learned.get(t) ?? options.scopes ?? ['.default'])
        out.add(qualifyScope(resource, s));
    return [...out];
  };

  return async function agentMcpFetch(
    input: string | URL | Request,
    init: RequestInit = {},
  ): Promise<Response> {
    const url = new URL(input instanceof Request ? input.url : input);
    if (url.origin !== serverUrl.origin) return base(input, init);
    const { resource } = await discover();
    const headers = new Headers(init.headers);
    const carrier = traceCarrier();
    for (const [k, v] of Object.entries(carrier)) headers.set(k, v);
    let body = init.body;
    let tools: string[] = [];
    if (typeof body === 'string' && body.startsWith('{')) {
      try {
        const message = JSON.parse(body) as { method?: unknown; params?: { name?: unknown } };
        if (typeof message.method === 'string') headers.set('mcp-method', message.method);
        if (message.method === 'tools/call' && typeof message.params?.name === 'string') {
          tools = [message.params.name];
          headers.set('mcp-name', message.params.name);
        }
        const traced = withTraceMeta(message, carrier);
        if (traced !== message) body = JSON.stringify(traced);
      } catch {
        // Not JSON: sent as is.
      }
    }
    const send = async (scopes: readonly string[], o: GetTokenOptions): Promise<Response> => {
      const t = await options.getToken(scopes, o);
      headers.set('authorization', `Bearer ${t.token}`);
      return base(input, { ...init, headers, body });
    };
    let scopes = scopesFor(resource, tools);
    let res = await send(scopes, init.signal ? { signal: init.signal } : {});
    if (!GUARDED.has(res.status)) return res;
    const header = res.headers.get('www-authenticate');
    const challenge = parseBearerChallenge(header);
    const o: GetTokenOptions = init.signal ? { signal: init.signal } : {};
    if (res.status === 403) {
      if (challenge?.error !== 'insufficient_scope') return res;
      const asked = (challenge.scope ?? '').split(' ').filter(Boolean);
      const foreign = asked.find(
        (s) => !qualifyScope(resource, s).toLowerCase().startsWith(`${resource.toLowerCase()}/`),
      );
      if (asked.length === 0 || foreign !== undefined) {
        await res.body?.cancel();
        throw stepUpFailed(
          foreign
            ? `The MCP server asked for '${foreign.slice(0, 200)}', a scope of another resource than ${resource}`
            : `The MCP server refused ${describe(tools)} without naming a scope`,
        );
      }
      scopes = asked.map((s) => qualifyScope(resource, s));
      for (const t of tools) learned.set(t, scopes);
    } else {
      const claims = claimsFromChallenge(header);
      if (claims) o.claims = claims;
      else o.forceRefresh = true;
    }
    await res.body?.cancel();
    res = await send(scopes, o);
    if (!GUARDED.has(res.status)) return res;
    await res.body?.cancel();
    throw stepUpFailed(
      `The MCP server refused ${describe(tools)} again (HTTP ${res.status}) after one new token for ${scopes.join(' ')}`,
      res.status,
    );
  };
}

const describe = (tools: readonly string[]): string =>
  tools.length ? `tool '${tools.join(', ')}'` : 'the request';

const stepUpFailed = (message: string, status?: number): AuthorizationError =>
  new AuthorizationError('AGENTID_MCP_STEP_UP_FAILED', message, status === undefined ? {} : { status });
