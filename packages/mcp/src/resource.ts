import { ConfigurationError } from '@agentid/core';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Whether a host name (no port) is a loopback name. @internal */
export const isLoopback = (hostname: string): boolean => LOOPBACK.has(hostname.toLowerCase());

/**
 * Checks an MCP resource identifier (the server's canonical URL, which Entra knows as an
 * Application ID URI): https, or http on a loopback host for development; no query or fragment.
 * Returns it without a trailing slash, as Entra scopes are built from it (`<resource>/<scope>`).
 * @internal
 */
export function checkResource(option: string, value: unknown): string {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new ConfigurationError(`${option} must be a URL (the server's https Application ID URI)`);
  }
  if (typeof value !== 'string' || url.search || url.hash || url.username || url.password)
    throw new ConfigurationError(`${option} must be a URL without query, fragment or credentials`);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname)))
    throw new ConfigurationError(
      `${option} must be an https URL (Entra needs an https Application ID URI; http only on loopback)`,
    );
  return value.replace(/\/+$/, '');
}

/**
 * The RFC 9728 metadata path of a resource: `/.well-known/oauth-protected-resource` followed by
 * the resource's path (none for a root resource).
 *
 * @example
 * ```ts
 * metadataPathOf('https://mcp.contoso.com/mcp'); // '/.well-known/oauth-protected-resource/mcp'
 * ```
 */
export function metadataPathOf(resource: string | URL): string {
  const path = new URL(resource).pathname.replace(/\/+$/, '');
  return `/.well-known/oauth-protected-resource${path}`;
}

/** `Mail.Read` of `https://mcp.contoso.com` is `https://mcp.contoso.com/Mail.Read`; a full scope stays. @internal */
export const qualifyScope = (resource: string, scope: string): string =>
  /^[a-z][a-z0-9+.-]*:\/\//i.test(scope) ? scope : `${resource}/${scope}`;
