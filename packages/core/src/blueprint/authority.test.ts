import { describe, expect, it } from 'vitest';
import { exchangeAudienceFor } from './authority.js';

// PROTOCOL.md's table, host by host.
const TABLE: Array<[string, string]> = [
  ['login.microsoftonline.com', 'api://AzureADTokenExchange'],
  ['login.windows.net', 'api://AzureADTokenExchange'],
  ['login.microsoft.com', 'api://AzureADTokenExchange'],
  ['sts.windows.net', 'api://AzureADTokenExchange'],
  ['login.microsoftonline.us', 'api://AzureADTokenExchangeUSGov'],
  ['login.usgovcloudapi.net', 'api://AzureADTokenExchangeUSGov'],
  ['login.partner.microsoftonline.cn', 'api://AzureADTokenExchangeChina'],
  ['login.chinacloudapi.cn', 'api://AzureADTokenExchangeChina'],
  ['login.sovcloud-identity.fr', 'api://AzureADTokenExchangeFrance'],
  ['login.sovcloud-identity.de', 'api://AzureADTokenExchangeGermany'],
  ['login.microsoftonline.eaglex.ic.gov', 'api://AzureADTokenExchangeUSNat'],
  ['login.microsoftonline.microsoft.scloud', 'api://AzureADTokenExchangeUSSec'],
];

describe('exchangeAudienceFor: every authority host of PROTOCOL.md', () => {
  it.each(TABLE)('%s -> %s', (host, audience) => {
    expect(exchangeAudienceFor(`https://${host}`)).toBe(audience);
    expect(exchangeAudienceFor(`https://${host.toUpperCase()}`)).toBe(audience);
  });

  it('an unknown host has no derived audience (it must be configured)', () => {
    expect(exchangeAudienceFor('https://login.example.com')).toBeUndefined();
    // A look-alike of a known host is not that host.
    expect(exchangeAudienceFor('https://evil-login.microsoftonline.us')).toBeUndefined();
  });

  it('development hosts (loopback, .test, .localhost) are the public cloud, as the emulator is', () => {
    expect(exchangeAudienceFor('https://login.agentid.test')).toBe('api://AzureADTokenExchange');
    expect(exchangeAudienceFor('https://127.0.0.1:8443')).toBe('api://AzureADTokenExchange');
    expect(exchangeAudienceFor('https://localhost:8443')).toBe('api://AzureADTokenExchange');
    expect(exchangeAudienceFor('https://entra.localhost')).toBe('api://AzureADTokenExchange');
  });
});
