import { ConfigurationError } from '@agentid/core';
import type { AgentUserRef } from '@agentid/agent-user';

/**
 * How a tool's token is obtained: on behalf of the calling user (`obo`), as the agent itself
 * (`autonomous`, app-only), or as the agent's agent user (`agent-user`).
 *
 * @example
 * ```ts
 * const mode: ToolMode = 'obo';
 * ```
 */
export type ToolMode = 'obo' | 'autonomous' | 'agent-user';

/**
 * One tool: the resource it calls and exactly the permissions it needs.
 *
 * @example
 * ```ts
 * const sendMail: ToolDefinition = { resource: 'api://tools', scopes: ['Mail.Send'], mode: 'obo' };
 * const report: ToolDefinition = { resource: 'api://reports', roles: ['Reports.Generate'], mode: 'autonomous' };
 * ```
 */
export interface ToolDefinition {
  /** The API: an app id URI (`api://tools`), an https resource (`https://graph.microsoft.com`) or an app id. */
  resource: string;
  mode: ToolMode;
  /** Delegated scopes (obo, agent-user), short (`Mail.Send`) or full (`api://tools/Mail.Send`). */
  scopes?: readonly string[];
  /** App roles the autonomous token must carry; a token without them is not handed out. */
  roles?: readonly string[];
  /** For `agent-user` tools: which agent user. */
  agentUser?: AgentUserRef;
  description?: string;
}

/** A checked tool with its full scope strings. @internal */
export interface ResolvedTool {
  readonly name: string;
  readonly mode: ToolMode;
  readonly resource: string;
  /** What is asked of the token endpoint: the tool's scopes, or `<resource>/.default`. */
  readonly requestScopes: readonly string[];
  readonly roles: readonly string[];
  readonly agentUser?: AgentUserRef;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

const fullScope = (resource: string, scope: string): string =>
  /^[a-z][a-z0-9+.-]*:\/\//i.test(scope) ? scope : `${resource.replace(/\/+$/, '')}/${scope}`;

/**
 * Checks a tool registry up front (names, modes, scopes, roles) and resolves full scope strings.
 * Throws `ConfigurationError` naming the tool and the option.
 *
 * @example
 * ```ts
 * const tools = defineTools({ send_mail: { resource: 'api://tools', scopes: ['Mail.Send'], mode: 'obo' } });
 * ```
 */
export function defineTools(
  tools: Readonly<Record<string, ToolDefinition>>,
): ReadonlyMap<string, ResolvedTool> {
  if (!tools || typeof tools !== 'object')
    throw new ConfigurationError('tools: a registry object { name: definition } is required');
  const out = new Map<string, ResolvedTool>();
  for (const [name, d] of Object.entries(tools)) {
    const bad = (what: string): never => {
      throw new ConfigurationError(`tools.${name}: ${what}`);
    };
    if (!NAME.test(name)) bad('tool names use letters, digits, _ . - (at most 64)');
    if (!d || typeof d !== 'object') bad('a definition object is required');
    if (typeof d.resource !== 'string' || d.resource.trim() === '' || /\s/.test(d.resource))
      bad('resource must be an app id URI, URL or app id');
    if (d.mode !== 'obo' && d.mode !== 'autonomous' && d.mode !== 'agent-user')
      bad("mode must be 'obo', 'autonomous' or 'agent-user'");
    const scopes = d.scopes ?? [];
    const roles = d.roles ?? [];
    if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string' || s === '' || /\s/.test(s)))
      bad('scopes must be scope names');
    if (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string' || r === ''))
      bad('roles must be role names');
    if (d.mode === 'autonomous') {
      if (scopes.length > 0)
        bad(
          "an autonomous tool gets '<resource>/.default': list the app roles it needs in roles, not scopes",
        );
      if (roles.length === 0)
        bad('an autonomous tool must name the app roles it needs (least privilege is checked on the token)');
    } else {
      if (scopes.length === 0)
        bad('list the delegated scopes this tool needs (least privilege: never .default)');
      if (scopes.some((s) => /(^|\/)\.default$/i.test(s)))
        bad('a delegated tool may not ask for .default: list its scopes');
    }
    if (d.mode === 'agent-user' && !d.agentUser)
      bad('an agent-user tool needs agentUser: { upn } or { objectId }');
    const requestScopes =
      d.mode === 'autonomous'
        ? [`${d.resource.replace(/\/+$/, '')}/.default`]
        : scopes.map((s) => fullScope(d.resource, s));
    out.set(
      name,
      Object.freeze({
        name,
        mode: d.mode,
        resource: d.resource,
        requestScopes: Object.freeze(requestScopes),
        roles: Object.freeze([...roles]),
        ...(d.agentUser ? { agentUser: d.agentUser } : {}),
      }),
    );
  }
  if (out.size === 0) bad0();
  return out;
}

function bad0(): never {
  throw new ConfigurationError('tools: register at least one tool');
}
