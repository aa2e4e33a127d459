import { AuthorizationError } from '@agentid/core';
import { isLoopback } from '../resource.js';

const first = (v: string | readonly string[] | undefined): string | undefined =>
  Array.isArray(v) ? (v[0] as string | undefined) : (v as string | undefined);

/**
 * DNS-rebinding protection: the `Host` must be a loopback name or an allowed host, and a request
 * with an `Origin` (a browser page) must come from an allowed origin. Throws `AGENTID_FORBIDDEN`.
 * @internal
 */
export function checkHostAndOrigin(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
  hosts: ReadonlySet<string> | '*',
  origins: ReadonlySet<string>,
): void {
  if (hosts !== '*') {
    const host = (first(headers.host) ?? '').toLowerCase();
    const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
    if (!hosts.has(host) && !hosts.has(hostname) && !isLoopback(hostname))
      throw new AuthorizationError('AGENTID_FORBIDDEN', `Host '${host.slice(0, 64)}' is not allowed`);
  }
  const origin = first(headers.origin);
  if (origin !== undefined && !origins.has(origin.toLowerCase().replace(/\/+$/, '')))
    throw new AuthorizationError('AGENTID_FORBIDDEN', 'Requests from a browser origin are not allowed');
}
