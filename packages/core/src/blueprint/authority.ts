import { ConfigurationError } from '../errors/agent-id-error.js';

/** The public cloud's authority host. */
export const PUBLIC_AUTHORITY_HOST = 'https://login.microsoftonline.com';

const PUBLIC = 'api://AzureADTokenExchange';

/** PROTOCOL.md's table: each Entra authority host and the token-exchange audience of its cloud. */
const EXCHANGE_AUDIENCES: ReadonlyMap<string, string> = new Map([
  ['login.microsoftonline.com', PUBLIC],
  ['login.windows.net', PUBLIC],
  ['login.microsoft.com', PUBLIC],
  ['sts.windows.net', PUBLIC],
  ['login.microsoftonline.us', 'api://AzureADTokenExchangeUSGov'],
  ['login.usgovcloudapi.net', 'api://AzureADTokenExchangeUSGov'],
  ['login.partner.microsoftonline.cn', 'api://AzureADTokenExchangeChina'],
  ['login.chinacloudapi.cn', 'api://AzureADTokenExchangeChina'],
  ['login.sovcloud-identity.fr', 'api://AzureADTokenExchangeFrance'],
  ['login.sovcloud-identity.de', 'api://AzureADTokenExchangeGermany'],
  ['login.microsoftonline.eaglex.ic.gov', 'api://AzureADTokenExchangeUSNat'],
  ['login.microsoftonline.microsoft.scloud', 'api://AzureADTokenExchangeUSSec'],
]);

// Hosts that are never a real cloud (loopback, RFC 6761 `.test` and `.localhost`): the emulator
// and local test authorities, which speak as the public cloud.
const DEVELOPMENT_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$|\.(test|localhost)$/;

/**
 * The token-exchange audience of the cloud an authority host belongs to (PROTOCOL.md's table,
 * host by host): sovereign clouds use their own, so it is derived from the host, never
 * hard-coded. `undefined` for a host of no known cloud: its audience must be configured
 * (`createBlueprint`'s `exchangeAudience`). Loopback and `.test`/`.localhost` hosts (the
 * emulator) are the public cloud.
 *
 * @example
 * ```ts
 * exchangeAudienceFor('https://login.usgovcloudapi.net'); // 'api://AzureADTokenExchangeUSGov'
 * exchangeAudienceFor('https://login.example.com'); // undefined
 * ```
 */
export function exchangeAudienceFor(authorityHost: string): string | undefined {
  const host = new URL(authorityHost).hostname.toLowerCase();
  return EXCHANGE_AUDIENCES.get(host) ?? (DEVELOPMENT_HOST.test(host) ? PUBLIC : undefined);
}

/**
 * The exchange audience a blueprint uses: the configured one (an `api://` or `https://` URI, no
 * `/.default`), else the one of its authority host's cloud; a host of no known cloud without a
 * configured audience is a `ConfigurationError` naming the option.
 */
export function resolveExchangeAudience(authorityHost: string, configured: unknown): string {
  if (configured !== undefined) {
    if (typeof configured !== 'string' || !/^(api|https):\/\/[^\s/]+$/i.test(configured))
      throw new ConfigurationError(
        `createBlueprint: exchangeAudience must be an audience URI such as 'api://AzureADTokenExchange' (no '/.default'), got ${JSON.stringify(configured)}`,
      );
    return configured;
  }
  const derived = exchangeAudienceFor(authorityHost);
  if (derived === undefined)
    throw new ConfigurationError(
      `createBlueprint: authorityHost '${authorityHost}' is no known Entra cloud, so its token-exchange audience cannot be derived: set exchangeAudience (e.g. 'api://AzureADTokenExchange')`,
    );
  return derived;
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
