import { ConfigurationError } from '../errors/agent-id-error.js';

/** The public cloud's authority host. */
export const PUBLIC_AUTHORITY_HOST = 'https://login.microsoftonline.com';

/** Sovereign clouds' authority hosts (and their parent domains) and exchange audiences (PROTOCOL.md). */
const SOVEREIGN_AUDIENCES: ReadonlyArray<readonly [string, string]> = [
  ['microsoftonline.us', 'api://AzureADTokenExchangeUSGov'],
  ['usgovcloudapi.net', 'api://AzureADTokenExchangeUSGov'],
  ['microsoftonline.cn', 'api://AzureADTokenExchangeChina'],
  ['chinacloudapi.cn', 'api://AzureADTokenExchangeChina'],
  ['sovcloud-identity.fr', 'api://AzureADTokenExchangeFrance'],
  ['sovcloud-identity.de', 'api://AzureADTokenExchangeGermany'],
  ['microsoftonline.eaglex.ic.gov', 'api://AzureADTokenExchangeUSNat'],
];

/**
 * The token-exchange audience of the cloud an authority host belongs to: sovereign clouds use
 * their own, so it is derived from the host, never hard-coded.
 *
 * @example
 * ```ts
 * exchangeAudienceFor('https://login.microsoftonline.us'); // 'api://AzureADTokenExchangeUSGov'
 * ```
 */
export function exchangeAudienceFor(authorityHost: string): string {
  const host = new URL(authorityHost).hostname.toLowerCase();
  const sovereign = SOVEREIGN_AUDIENCES.find(([suffix]) => host === suffix || host.endsWith(`.${suffix}`));
  return sovereign?.[1] ?? 'api://AzureADTokenExchange';
}

/** Validates and normalises an authority host (https, no path). */
export function normalizeAuthorityHost(value: string | undefined): string {
  const raw = value ?? PUBLIC_AUTHORITY_HOST;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigurationError(`authorityHost must be an absolute https URL, got '${raw}'`);
  }
  if (url.protocol !== 'https:')
    throw new ConfigurationError(`authorityHost must use https (MSAL requires it), got '${raw}'`);
  return `${url.protocol}//${url.host}`;
}

/** MSAL `auth` options that make discovery calls unnecessary for a known authority. */
export function msalAuthority(
  authorityHost: string,
  tenantId: string,
): {
  authority: string;
  knownAuthorities: string[];
  authorityMetadata: string;
  cloudDiscoveryMetadata: string;
} {
  const t = `${authorityHost}/${tenantId}`;
  const host = new URL(authorityHost).host;
  return {
    authority: t,
    knownAuthorities: [host],
    authorityMetadata: JSON.stringify({
      token_endpoint: `${t}/oauth2/v2.0/token`,
      authorization_endpoint: `${t}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${t}/oauth2/v2.0/logout`,
      issuer: `${t}/v2.0`,
      jwks_uri: `${t}/discovery/v2.0/keys`,
    }),
    cloudDiscoveryMetadata: JSON.stringify({
      tenant_discovery_endpoint: `${t}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    }),
  };
}
