import { CredentialError } from '../errors/agent-id-error.js';
import { decodeJwtClaims } from '../token/jwt.js';
import type { BlueprintCredential, CredentialContext } from './types.js';

/** What a federated token provider is asked for. */
export interface FederatedTokenRequest {
  /** The audience the token must carry (the cloud's token-exchange audience). */
  audience: string;
}

/**
 * The `@azure/core-auth` `TokenCredential` shape (any `@azure/identity` credential:
 * `ManagedIdentityCredential`, `WorkloadIdentityCredential`, `DefaultAzureCredential`, ...),
 * declared here so that core needs no Azure SDK dependency.
 *
 * @example
 * ```ts
 * const source: AzureTokenCredential = new ManagedIdentityCredential({ clientId: miClientId });
 * ```
 */
export interface AzureTokenCredential {
  /** A token for `scopes` (here `<exchange audience>/.default`), or null when the credential has none. */
  getToken(
    scopes: string | string[],
    options?: { abortSignal?: AbortSignal },
  ): Promise<{ token: string; expiresOnTimestamp: number } | null>;
}

/** Re-fetch an assertion this long before it expires. */
const ASSERTION_MARGIN_MS = 60_000;

/**
 * Memoises assertions by their own `exp`: MSAL asks for one per request, and the provider (a file,
 * a managed identity, another IdP) need only be called when the last one is about to expire.
 */
export function assertionCache(
  fetchAssertion: () => Promise<string>,
  now: () => number,
): () => Promise<string> {
  let cached: { value: string; until: number } | undefined;
  let inflight: Promise<string> | undefined;
  return async () => {
    if (cached && now() < cached.until) return cached.value;
    inflight ??= (async () => {
      try {
        const value = await fetchAssertion();
        if (typeof value !== 'string' || value.split('.').length !== 3)
          throw new CredentialError('The federated token provider did not return a JWT');
        let exp: number | undefined;
        try {
          exp = decodeJwtClaims(value).exp;
        } catch (cause) {
          throw new CredentialError('The federated token provider returned an undecodable JWT', { cause });
        }
        cached = { value, until: typeof exp === 'number' ? exp * 1000 - ASSERTION_MARGIN_MS : now() };
        return value;
      } catch (cause) {
        if (cause instanceof CredentialError) throw cause;
        throw new CredentialError('The federated token provider failed', { cause });
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  };
}

/** Asks an Azure SDK credential for `<audience>/.default` and returns the token (a JWT). */
function fromTokenCredential(
  credential: AzureTokenCredential,
): (r: FederatedTokenRequest) => Promise<string> {
  return async ({ audience }) => {
    const scope = `${audience}/.default`;
    const t = await credential.getToken(scope);
    if (!t || typeof t.token !== 'string')
      throw new CredentialError(`federatedCredential: the TokenCredential returned no token for ${scope}`);
    return t.token;
  };
}

/**
 * A federated identity credential from any async token provider (another IdP, a CI system's OIDC
 * token, ...) or from an `@azure/identity` `TokenCredential` (asked for
 * `<exchange audience>/.default`, the cloud's audience: `api://AzureADTokenExchange/.default` in the
 * public cloud). The blueprint needs a FIC record trusting its issuer and subject.
 *
 * @example
 * ```ts
 * const credential = federatedCredential(async ({ audience }) => getOidcTokenFor(audience));
 * const viaAzure = federatedCredential({ tokenCredential: new ManagedIdentityCredential({ clientId }) });
 * ```
 */
export function federatedCredential(
  provider: ((request: FederatedTokenRequest) => Promise<string>) | { tokenCredential: AzureTokenCredential },
  options: { kind?: BlueprintCredential['kind']; describe?: string } = {},
): BlueprintCredential {
  if (provider && typeof provider === 'object' && 'tokenCredential' in provider) {
    if (typeof provider.tokenCredential?.getToken !== 'function')
      throw new CredentialError('federatedCredential: tokenCredential must have a getToken method');
    return federatedCredential(fromTokenCredential(provider.tokenCredential), {
      describe: 'federatedCredential(tokenCredential)',
      ...options,
    });
  }
  if (typeof provider !== 'function')
    throw new CredentialError(
      'federatedCredential: provider must be a function returning a token, or { tokenCredential }',
    );
  return {
    kind: options.kind ?? 'federated',
    resolve(ctx: CredentialContext) {
      const get = assertionCache(
        () => provider({ audience: ctx.exchangeAudience }),
        () => ctx.clock.now(),
      );
      return { clientAssertion: () => get() };
    },
    toString: () => options.describe ?? 'federatedCredential(provider)',
  };
}
