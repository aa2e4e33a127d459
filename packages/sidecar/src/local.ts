import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { type Problem, problem } from './problem.js';

/**
 * Whether a socket's remote address is loopback (127.0.0.0/8, `::1`, `::ffff:127.x.y.z`). A
 * missing address is not loopback: a Unix-socket connection is recognised by its listener, not
 * by the absence of an address (a destroyed TCP socket has none either).
 *
 * @example
 * ```ts
 * isLoopback('127.0.0.1'); // true
 * isLoopback('10.0.0.1'); // false
 * isLoopback(undefined); // false
 * ```
 */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined || address === '') return false;
  const a = address.toLowerCase();
  if (a === '::1') return true;
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

// A Host header: a bracketed IPv6 literal or a name/IPv4 literal, and an optional port. Nothing
// else (no userinfo, path, spaces), so that URL parsing below cannot be steered.
const HOST = /^(?:\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/i;

/** A Host header (or an `AgentId:AllowedHosts` entry) as a lower-case hostname and port (`''` when absent), or undefined when malformed. */
export function parseHost(value: string | undefined): { hostname: string; port: string } | undefined {
  if (value === undefined || !HOST.test(value)) return undefined;
  try {
    // WHATWG URL normalizes what a browser would connect to: `127.1` → 127.0.0.1, `[0::1]` → [::1].
    const u = new URL(`http://${value}`);
    return { hostname: u.hostname.toLowerCase(), port: u.port };
  } catch {
    return undefined;
  }
}

/**
 * Whether a `Host` header names this machine's loopback interface: `localhost`, an address in
 * 127.0.0.0/8 or `[::1]`, with any port. DNS rebinding and cross-site requests from a browser
 * carry the attacker's name instead.
 *
 * @example
 * ```ts
 * isLoopbackHost('localhost:5178'); // true
 * isLoopbackHost('attacker.example:5178'); // false
 * ```
 */
export function isLoopbackHost(host: string | undefined): boolean {
  const h = parseHost(host);
  if (h === undefined) return false;
  if (h.hostname === 'localhost' || h.hostname === '[::1]') return true;
  if (h.hostname.startsWith('[::ffff:')) return isLoopback(h.hostname.slice(1, -1));
  return isIP(h.hostname) === 4 && h.hostname.startsWith('127.');
}

/** Whether `host` is loopback or one of the configured hosts (an entry without a port allows any port). */
function hostAllowed(host: string | undefined, allowed: readonly string[]): boolean {
  if (isLoopbackHost(host)) return true;
  const h = parseHost(host);
  if (h === undefined) return false;
  return allowed.some((entry) => {
    const e = parseHost(entry);
    return e !== undefined && e.hostname === h.hostname && (e.port === '' || e.port === h.port);
  });
}

/**
 * Refuses what a browser could send: a `Host` that is not loopback or configured (DNS rebinding;
 * 400, as Microsoft's sidecar 1.0.x and RFC 9112 answer a bad Host), and any request with an
 * `Origin` header or a `Sec-Fetch-Site` other than `none` (a web page, even one on another
 * localhost port; 403). `unixSocket`: the connection came through the sidecar's Unix socket,
 * which no browser can reach, so its Host is not checked.
 */
export function browserProblem(
  req: IncomingMessage,
  allowedHosts: readonly string[],
  unixSocket: boolean,
): Problem | undefined {
  const host = req.headers.host;
  if (!unixSocket && !hostAllowed(host, allowedHosts)) {
    return problem(
      400,
      'The Host header must name a loopback address (localhost, 127.0.0.0/8, [::1]) or a host listed in AgentId:AllowedHosts.',
      'AGENTID_INVALID_REQUEST',
    );
  }
  if (req.headers.origin !== undefined)
    return problem(
      403,
      'Requests from a browser page (with an Origin header) are not served.',
      'AGENTID_FORBIDDEN',
    );
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'none')
    return problem(403, 'Requests from a browser page (Sec-Fetch-Site) are not served.', 'AGENTID_FORBIDDEN');
  return undefined;
}

/**
 * A POST body must be JSON (`application/json` or `application/*+json`): the types an HTML form or
 * a "simple" cross-site fetch can send (`text/plain`, form encodings) are refused with 415, and so
 * is a body without a Content-Type. A POST with no body is fine.
 */
export function bodyProblem(req: IncomingMessage): Problem | undefined {
  const type = req.headers['content-type'];
  const length = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  if (type === undefined)
    return hasBody
      ? problem(415, 'A request body needs Content-Type: application/json.', 'AGENTID_INVALID_REQUEST')
      : undefined;
  const essence = type.split(';')[0]!.trim().toLowerCase();
  if (essence === 'application/json' || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(essence))
    return undefined;
  return problem(
    415,
    'The request body must be JSON (Content-Type: application/json).',
    'AGENTID_INVALID_REQUEST',
  );
}
