import { randomUUID } from 'node:crypto';

/** Microsoft Graph's well-known application id. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
/** Microsoft Graph's resource URI. */
export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
/** The public cloud's token-exchange audience. Compared case-insensitively. */
export const EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
export const EXCHANGE_AUDIENCES = [
  'api://azureadtokenexchange',
  'api://azureadtokenexchangeusgov',
  'api://azureadtokenexchangechina',
  'api://azureadtokenexchangefrance',
  'api://azureadtokenexchangegermany',
  'api://azureadtokenexchangeusnat',
  'api://azureadtokenexchangeussec',
];

/** The sovereign clouds' authority hosts and their exchange audiences (PROTOCOL.md); any other host is public. */
const SOVEREIGN_AUDIENCES: Readonly<Record<string, string>> = {
  'login.microsoftonline.us': 'api://AzureADTokenExchangeUSGov',
  'login.usgovcloudapi.net': 'api://AzureADTokenExchangeUSGov',
  'login.partner.microsoftonline.cn': 'api://AzureADTokenExchangeChina',
  'login.chinacloudapi.cn': 'api://AzureADTokenExchangeChina',
  'login.sovcloud-identity.fr': 'api://AzureADTokenExchangeFrance',
  'login.sovcloud-identity.de': 'api://AzureADTokenExchangeGermany',
  'login.microsoftonline.eaglex.ic.gov': 'api://AzureADTokenExchangeUSNat',
  'login.microsoftonline.microsoft.scloud': 'api://AzureADTokenExchangeUSSec',
};

/** The exchange audience of the cloud the emulator speaks as, from its base URL's host (run it as a sovereign host to test one). */
export const exchangeAudienceOf = (base: string): string => {
  let host = '';
  try {
    host = new URL(base).hostname.toLowerCase();
  } catch {
    // Not a URL: the public cloud.
  }
  return SOVEREIGN_AUDIENCES[host] ?? EXCHANGE_AUDIENCE;
};
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const GRANT_JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Facet values in xms_act_fct / xms_sub_fct. */
export const FACET_AGENT_IDENTITY = 11;
export const FACET_AGENT_USER = 13;

/** High-privilege roles that can never be granted to an agent identity. */
export const DEFAULT_BLOCKED_ROLES = [
  'Directory.ReadWrite.All',
  'RoleManagement.ReadWrite.Directory',
  'Application.ReadWrite.All',
  'AppRoleAssignment.ReadWrite.All',
  'Global Administrator',
  'Privileged Role Administrator',
  'User.ReadWrite.All',
];

export const newId = (): string => randomUUID();

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isGuid = (v: string): boolean => GUID.test(v);

export const isExchangeAudience = (v: string): boolean => {
  const s = v
    .toLowerCase()
    .replace(/\/\.default$/, '')
    .replace(/\/$/, '');
  return EXCHANGE_AUDIENCES.includes(s);
};

/** Any untrusted JSON value as text for messages and lookups; never throws (String() does on some objects). */
export const text = (v: unknown): string => {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? 'undefined';
  } catch {
    return '?';
  }
};
