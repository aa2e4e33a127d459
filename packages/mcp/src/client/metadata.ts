import { AuthorizationError } from '@agentid/core';
import {
  checkResourceAllowed,
  resourceUrlFromServerUrl,
} from '@modelcontextprotocol/sdk/shared/auth-utils.js';
import {
  type OAuthProtectedResourceMetadata,
  OAuthProtectedResourceMetadataSchema,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { metadataPathOf } from '../resource.js';

/** What a client learned from an MCP server's protected-resource metadata. @internal */
export interface DiscoveredResource {
  /** The `resource` (the server's Application ID URI), without a trailing slash: Entra scopes start with it. */
  readonly resource: string;
  readonly metadata: OAuthProtectedResourceMetadata;
}

const mismatch = (message: string, cause?: unknown): AuthorizationError =>
  new AuthorizationError('AGENTID_MCP_RESOURCE_MISMATCH', message, cause === undefined ? {} : { cause });

/**
 * Reads the RFC 9728 metadata of the MCP server at `serverUrl` from the well-known URL derived from
 * that URL (path-specific first, then the root), never from a URL the server names in a
 * challenge, and checks that its `resource` is the server (same origin, the server's path under
 * the resource's). Anything else is `AGENTID_MCP_RESOURCE_MISMATCH`, before any token is sent.
 * @internal
 */
export async function discoverResource(serverUrl: URL, fetchImpl: typeof fetch): Promise<DiscoveredResource> {
  const candidates = [metadataPathOf(serverUrl), '/.well-known/oauth-protected-resource'];
  let last = 0;
  for (const path of new Set(candidates)) {
    const res = await fetchImpl(new URL(path, serverUrl), { headers: { accept: 'application/json' } });
    last = res.status;
    // The path-specific URL may be under the protected endpoint (a 401) or absent: the root is next.
    if (res.status >= 400 && res.status < 500) {
      await res.body?.cancel();
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      break;
    }
    let parsed: ReturnType<typeof OAuthProtectedResourceMetadataSchema.safeParse>;
    try {
      parsed = OAuthProtectedResourceMetadataSchema.safeParse(await res.json());
    } catch (e) {
      throw mismatch(`The protected-resource metadata of ${serverUrl.origin} is not JSON`, e);
    }
    if (!parsed.success)
      throw mismatch(`The protected-resource metadata of ${serverUrl.origin} is malformed`);
    const metadata = parsed.data;
    const allowed = checkResourceAllowed({
      requestedResource: resourceUrlFromServerUrl(serverUrl),
      configuredResource: metadata.resource,
    });
    if (!allowed)
      throw mismatch(
        `The MCP server ${serverUrl.origin}${serverUrl.pathname} names resource '${metadata.resource.slice(0, 200)}' in its metadata, which is not the server: no token is sent`,
      );
    return Object.freeze({ resource: metadata.resource.replace(/\/+$/, ''), metadata });
  }
  throw mismatch(`The MCP server ${serverUrl.origin} serves no protected-resource metadata (HTTP ${last})`);
}
