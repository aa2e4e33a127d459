import { ConfigurationError } from '../errors/agent-id-error.js';
import type { AccessToken } from '../token/access-token.js';
import type { Agent } from '../agent/agent.js';

/**
 * The options an Azure SDK client passes to `getToken` (the `@azure/core-auth` `GetTokenOptions`
 * fields this credential honours; the rest are ignored).
 *
 * @example
 * ```ts
 * await credential.getToken('https://vault.azure.net/.default', { abortSignal, claims });
 * ```
 */
export interface AzureGetTokenOptions {
  abortSignal?: AbortSignal;
  /** A claims challenge (base64 or JSON) from a `WWW-Authenticate` header: the token is acquired anew with it. */
  claims?: string;
  /** Must be the blueprint's tenant when given (a credential does not hop tenants). */
  tenantId?: string;
  [option: string]: unknown;
}

/**
 * The `@azure/core-auth` `TokenCredential` shape, declared here so that core needs no Azure SDK
 * dependency: pass it to any Azure client or `bearerTokenAuthenticationPolicy`. The returned
 * {@link AccessToken} has `token`, `expiresOnTimestamp`, `refreshAfterTimestamp` and
 * `tokenType: 'Bearer'`.
 *
 * @example
 * ```ts
 * const client = new SecretClient(vaultUrl, agentTokenCredential(blueprint.agent(agentId)));
 * ```
 */
export interface AgentTokenCredential {
  /** A token for `scopes` (a string or an array), from the cache unless `claims` is given. */
  getToken(scopes: string | string[], options?: AzureGetTokenOptions): Promise<AccessToken>;
}

/** What a credential gets tokens from: scopes plus claims and signal. */
export type TokenSource = (
  scopes: readonly string[],
  options: { claims?: string; signal?: AbortSignal },
) => Promise<AccessToken>;

/**
 * Wraps a token source as an {@link AgentTokenCredential}: normalizes scopes, honours
 * `abortSignal` and `claims`, and refuses a `tenantId` other than `tenantId` (if given).
 *
 * @example
 * ```ts
 * const credential = createTokenCredential((scopes, options) => agent.getToken(scopes, options), { tenantId });
 * ```
 */
export function createTokenCredential(
  source: TokenSource,
  options: { tenantId?: string } = {},
): AgentTokenCredential {
  return {
    async getToken(scopes, getOptions = {}) {
      const list = (typeof scopes === 'string' ? [scopes] : Array.isArray(scopes) ? scopes : []).filter(
        (s) => typeof s === 'string' && s.trim() !== '',
      );
      if (list.length === 0) throw new ConfigurationError('getToken: at least one scope is required');
      if (
        getOptions.tenantId !== undefined &&
        options.tenantId !== undefined &&
        getOptions.tenantId.toLowerCase() !== options.tenantId.toLowerCase()
      ) {
        throw new ConfigurationError(
          `getToken: this credential acts in tenant ${options.tenantId}, not ${getOptions.tenantId}`,
        );
      }
      getOptions.abortSignal?.throwIfAborted();
      return source(list, {
        ...(getOptions.claims ? { claims: getOptions.claims } : {}),
        ...(getOptions.abortSignal ? { signal: getOptions.abortSignal } : {}),
      });
    },
  };
}

/**
 * An Azure SDK `TokenCredential` for an agent identity acting on its own (autonomous, leg 2),
 * from the broker's cache.
 *
 * @example
 * ```ts
 * const pipeline = createPipelineFromOptions({});
 * pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential: agentTokenCredential(agent), scopes: 'api://tools/.default' }));
 * ```
 */
export function agentTokenCredential(agent: Agent): AgentTokenCredential {
  return createTokenCredential((scopes, options) => agent.getToken(scopes, options), {
    tenantId: agent.tenantId,
  });
}
