import { type Blueprint, ConfigurationError } from '@agentid/core';
import type { TokenValidator } from '@agentid/obo';
import type { ToolDefinition } from '@agentid/tools';
import { checkResource, qualifyScope } from '../resource.js';
import type { McpCallEvent } from './audit.js';

/**
 * What one MCP tool needs of its caller, and the downstream API it calls (if any).
 *
 * @example
 * ```ts
 * const readMail: McpToolPolicy = {
 *   scopes: ['Mail.Read'],
 *   downstream: { resource: 'api://tools', scopes: ['Mail.Read'], mode: 'obo' },
 * };
 * ```
 */
export interface McpToolPolicy {
  /** Delegated scopes of this server a user token must carry, all of them (short `Mail.Read` or full). */
  scopes?: readonly string[];
  /** App roles of this server an app-only token (an autonomous agent) must carry, all of them. */
  roles?: readonly string[];
  /**
   * The API this tool calls, as an `@agentid/tools` definition: the tool gets its own token for it
   * (OBO for the user, the agent's own, or its agent user), never the inbound one.
   */
  downstream?: ToolDefinition;
}

/**
 * Options of {@link createMcpServerAuth}.
 *
 * @example
 * ```ts
 * const options: McpServerAuthOptions = {
 *   blueprint, agentId, resource: 'https://mcp.contoso.com',
 *   tools: { read_mail: { scopes: ['Mail.Read'] } },
 * };
 * ```
 */
export interface McpServerAuthOptions {
  /** The blueprint whose Application ID URI is `resource` (inbound tokens name it as audience). */
  blueprint: Blueprint;
  /** The agent identity this server acts as: it gets the tools' downstream tokens. */
  agentId: string;
  /** The server's canonical URL, its https Application ID URI in Entra (`identifierUris`). */
  resource: string;
  /** Every tool the server exposes and what it needs; a `tools/call` of any other tool is refused (403). */
  tools: Readonly<Record<string, McpToolPolicy>>;
  /** Accepted audiences. Default: the blueprint's client id (v2 tokens) and `resource` (v1 tokens). */
  audiences?: readonly string[];
  /** Tenants whose tokens are accepted. Default: the blueprint's tenant; `'*'` for any. */
  allowedTenants?: readonly string[] | '*';
  /** Accept only tokens an agent identity obtained (`xms_act_fct` has 11). Default false. */
  requireAgent?: boolean;
  /**
   * `Host` values accepted (DNS-rebinding protection), with or without a port. Default: the
   * host of `resource` and the loopback names. `'*'` turns the check off (behind a proxy that does it).
   */
  allowedHosts?: readonly string[] | '*';
  /** `Origin` values accepted. Default none: a request from a browser page is refused. */
  allowedOrigins?: readonly string[];
  /** Default: agentid's validator for `audiences`, the blueprint's tenant and authority. */
  validator?: TokenValidator;
  /** `resource_name` of the metadata. */
  resourceName?: string;
  audit?: {
    /** One event per `tools/call`: allowed and its outcome, or denied and why. Never a token. */
    call?: (event: McpCallEvent) => void;
  };
  /** `fetch` of the tools' downstream calls. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
}

/** A tool policy with full scope strings. @internal */
export interface ResolvedPolicy {
  readonly name: string;
  /** Short scope values, lower-cased, as `scp` carries them. */
  readonly scopeValues: readonly string[];
  readonly roles: readonly string[];
  /** What a step-up asks for: the full scopes (or `<resource>/.default` for app roles). */
  readonly userChallenge: string;
  readonly appChallenge: string;
  readonly downstream?: ToolDefinition;
}

/** @internal */
export interface ResolvedServerOptions {
  readonly resource: string;
  readonly tools: ReadonlyMap<string, ResolvedPolicy>;
  readonly scopesSupported: readonly string[];
  readonly allowedHosts: ReadonlySet<string> | '*';
  readonly allowedOrigins: ReadonlySet<string>;
}

const names = (v: unknown): v is readonly string[] =>
  Array.isArray(v) && v.every((s) => typeof s === 'string' && s !== '' && !/\s/.test(s));

/** Validates the options up front. @internal */
export function resolveServerOptions(options: McpServerAuthOptions): ResolvedServerOptions {
  const bad = (path: string, must: string): never => {
    throw new ConfigurationError(`createMcpServerAuth: ${path} ${must}`);
  };
  if (!options || typeof options !== 'object') bad('options', 'are required');
  if (!options.blueprint || typeof options.blueprint.agent !== 'function')
    bad('blueprint', 'must be a blueprint (createBlueprint)');
  if (typeof options.agentId !== 'string' || options.agentId === '') bad('agentId', 'must be an agent id');
  const resource = checkResource('createMcpServerAuth: resource', options.resource);
  if (!options.tools || typeof options.tools !== 'object' || Object.keys(options.tools).length === 0)
    bad('tools', 'must declare at least one tool');
  const tools = new Map<string, ResolvedPolicy>();
  const supported = new Set<string>();
  for (const [name, p] of Object.entries(options.tools)) {
    if (!p || typeof p !== 'object') bad(`tools.${name}`, 'must be a policy object');
    const scopes = p.scopes ?? [];
    const roles = p.roles ?? [];
    if (!names(scopes)) bad(`tools.${name}.scopes`, 'must be scope names');
    if (!names(roles)) bad(`tools.${name}.roles`, 'must be role names');
    if (scopes.length === 0 && roles.length === 0)
      bad(`tools.${name}`, 'must name the scopes or app roles it needs (least privilege)');
    const full = scopes.map((s) => qualifyScope(resource, s));
    for (const s of full) {
      if (!s.toLowerCase().startsWith(`${resource.toLowerCase()}/`))
        bad(`tools.${name}.scopes`, `may only name scopes of ${resource} ('${s}' is another resource's)`);
      if (/\/\.default$/i.test(s)) bad(`tools.${name}.scopes`, 'may not be .default: list the scopes');
      supported.add(s);
    }
    const dflt = `${resource}/.default`;
    tools.set(
      name,
      Object.freeze({
        name,
        scopeValues: Object.freeze(full.map((s) => s.slice(resource.length + 1).toLowerCase())),
        roles: Object.freeze([...roles]),
        userChallenge: full.length > 0 ? full.join(' ') : dflt,
        appChallenge: roles.length > 0 ? dflt : full.join(' '),
        ...(p.downstream ? { downstream: p.downstream } : {}),
      }),
    );
  }
  const hosts = options.allowedHosts;
  if (hosts !== undefined && hosts !== '*' && !names(hosts))
    bad('allowedHosts', "must be a list of host names or '*'");
  const origins = options.allowedOrigins ?? [];
  if (!names(origins)) bad('allowedOrigins', 'must be a list of origins');
  if (options.audiences !== undefined && (!names(options.audiences) || options.audiences.length === 0))
    bad('audiences', 'must list at least one audience');
  if (options.fetch !== undefined && typeof options.fetch !== 'function') bad('fetch', 'must be a function');
  if (options.audit?.call !== undefined && typeof options.audit.call !== 'function')
    bad('audit.call', 'must be a function');
  return Object.freeze({
    resource,
    tools,
    scopesSupported: Object.freeze([...supported]),
    allowedHosts:
      hosts === '*' ? '*' : new Set([new URL(resource).host, ...(hosts ?? [])].map((h) => h.toLowerCase())),
    allowedOrigins: new Set(origins.map((o) => o.toLowerCase().replace(/\/+$/, ''))),
  });
}
