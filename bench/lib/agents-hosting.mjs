// The @microsoft/agents-hosting peer (1.8.1), pointed at the same in-process fake network as ours
// and raw MSAL. Its MsalTokenProvider posts leg 1 and user_fic with the global `fetch`, and its
// MSAL clients (leg 2, OBO) use MsalHttpClient, which also calls the global `fetch`: so swapping
// `globalThis.fetch` for the fake network's fetch routes every request it makes, discovery GETs
// included, into the fake network (nothing leaves the process). Nothing in agents-hosting is patched.
import { MsalTokenProvider } from '@microsoft/agents-hosting';
import { DEMO } from '@agentid/emulator';
import { TENANT } from './fake-network.mjs';

// The authority agents-hosting is configured with by default. MSAL (5.x under agents-hosting) has
// built-in metadata for this host, so it makes no discovery GETs, as in production. With another
// host (e.g. the bench's BASE) MSAL fetches instance discovery and openid-configuration for every
// new client, which the fake network answers and counts under `discovery`.
export const AGENTS_HOSTING_AUTHORITY = 'https://login.microsoftonline.com';

/**
 * @param {ReturnType<import('./fake-network.mjs').createFakeNetwork>} net
 * @param {{ authority?: string, clientId?: string }} [options]
 */
export function createAgentsHosting(net, options = {}) {
  const previousFetch = globalThis.fetch;
  globalThis.fetch = net.fetch;
  MsalTokenProvider.clearSharedCaches();
  // ClientSecret auth: the blueprint's app id and secret, as agents-hosting's connection settings.
  const provider = new MsalTokenProvider({
    clientId: options.clientId ?? DEMO.blueprints.workers.appId,
    clientSecret: 'bench-secret',
    tenantId: TENANT,
    authority: options.authority ?? AGENTS_HOSTING_AUTHORITY,
  });
  return {
    provider,
    /** its agent-identity token (leg 1 + leg 2 for api://AzureAdTokenExchange); cached in a static MemoryCache */
    instanceToken: (agentId) => provider.getAgenticInstanceToken(TENANT, agentId),
    /** does the cold call once and returns the warm-hit function (for perOp) */
    async warmInstanceToken(agentId) {
      await provider.getAgenticInstanceToken(TENANT, agentId);
      return () => provider.getAgenticInstanceToken(TENANT, agentId);
    },
    /** its agent-user token (legs 1, 2, user_fic by object id) */
    userToken: (agentId, userObjectId, scopes) =>
      provider.getAgenticUserToken(TENANT, agentId, userObjectId, scopes),
    /** its OBO: the connection's own MSAL client (the blueprint app, not an agent identity) */
    onBehalfOf: (scopes, assertion) => provider.acquireTokenOnBehalfOf(scopes, assertion),
    /** n concurrent cold agent-user requests; returns the distinct tokens received */
    async herd(n, agentId, userObjectId, scopes) {
      MsalTokenProvider.clearSharedCaches();
      const tokens = await Promise.all(
        Array.from({ length: n }, () => provider.getAgenticUserToken(TENANT, agentId, userObjectId, scopes)),
      );
      return new Set(tokens).size;
    },
    clearCaches: () => MsalTokenProvider.clearSharedCaches(),
    /** clears its static caches and puts the previous global fetch back */
    restore() {
      MsalTokenProvider.clearSharedCaches();
      globalThis.fetch = previousFetch;
    },
  };
}
