// MSAL with no knownAuthorities and no metadata (as clients that bundle MSAL configure it, e.g.
// agents-hosting) discovers the authority with the URL it hard-codes:
// https://login.microsoftonline.com/common/discovery/instance?...&authorization_endpoint=<authority>.
import { ConfidentialClientApplication } from '@azure/msal-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, DEMO, type Emulator } from '../index.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await createEmulator();
});
afterAll(() => emu.close());

describe('instance discovery', () => {
  it("answers MSAL's hard-coded discovery request for the emulator's authority, and MSAL then gets tokens", async () => {
    const app = new ConfidentialClientApplication({
      auth: {
        clientId: DEMO.blueprints.workers.appId,
        clientSecret: DEMO.blueprints.workers.secret,
        authority: `${emu.baseUrl}/${DEMO.tenantId}`,
      },
      // Every request reaches the emulator in-process, whatever its host (as a proxy would route it).
      system: { networkClient: emu.networkModule },
    });
    const r = await app.acquireTokenByClientCredential({ scopes: ['api://tools/.default'] });
    expect(r?.accessToken).toMatch(/^eyJ/);
    const discovery = emu.counters.requests().filter((q) => q.route === 'discovery');
    expect(discovery.map((q) => q.path)).toEqual(['/common/discovery/instance']);
  });

  it('names the host and tenant of authorization_endpoint, as Entra does', async () => {
    const ask = `https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`https://127.0.0.1:8443/${DEMO.tenantId}/oauth2/v2.0/authorize`)}`;
    const body = (await (await emu.fetch(ask)).json()) as Record<string, unknown>;
    expect(body).toEqual({
      tenant_discovery_endpoint: `https://127.0.0.1:8443/${DEMO.tenantId}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [
        {
          preferred_network: '127.0.0.1:8443',
          preferred_cache: '127.0.0.1:8443',
          aliases: ['127.0.0.1:8443'],
        },
      ],
    });
  });
});
