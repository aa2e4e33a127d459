import {
  ConfidentialClientApplication,
  ManagedIdentityApplication,
  type INetworkModule,
} from '@azure/msal-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCertificate, createEmulator, DEMO, defaultSeed, type Emulator } from './index.js';
import { claimsOf } from '@agentid/test-support/emulator';

// Unmodified MSAL Node 7 against the emulator, through an injected network client.
const EXCHANGE = ['api://AzureADTokenExchange/.default'];
const T = DEMO.tenantId;

function msalApp(
  emu: Emulator,
  auth: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: { ...emu.msalAuthOptions(T), ...auth } as never,
    system: { networkClient: emu.networkModule as unknown as INetworkModule },
    ...extra,
  });
}

async function leg1(bp: ConfidentialClientApplication, agentId: string, scopes = EXCHANGE): Promise<string> {
  const r = await bp.acquireTokenByClientCredential({ scopes, fmiPath: agentId, skipCache: true });
  return r!.accessToken;
}

describe('unmodified MSAL Node against the emulator', () => {
  let emu: Emulator;
  const cert = createCertificate({ subject: 'workers-blueprint' });
  const sniCert = createCertificate({ subject: 'workers-sni' });
  beforeEach(async () => {
    const seed = defaultSeed();
    const t = seed.tenants[0]!;
    const workers = t.blueprints!.find((b) => b.appId === DEMO.blueprints.workers.appId)!;
    workers.credentials = {
      ...workers.credentials,
      certificates: [cert.certPem],
      trustedSubjects: ['workers-sni'],
      federated: [
        {
          issuer: 'https://login.agentid.test/_issuers/k8s',
          subject: 'system:serviceaccount:agents:workers',
        },
        { issuer: `https://login.agentid.test/${T}/v2.0`, subject: DEMO.managedIdentity.id },
      ],
    };
    emu = await createEmulator({ seed });
  });
  afterEach(() => emu.close());

  const secretBp = () =>
    msalApp(emu, { clientId: DEMO.blueprints.workers.appId, clientSecret: DEMO.blueprints.workers.secret });

  it('leg 1 (fmiPath) with a secret, then leg 2 with T1 as client assertion', async () => {
    const bp = secretBp();
    const t1 = await leg1(bp, DEMO.agents.mail);
    const c1 = claimsOf(t1);
    expect(c1.aud).toBe('api://AzureADTokenExchange');
    expect(c1.azp).toBe(DEMO.blueprints.workers.appId);
    expect(String(c1.sub).endsWith(`/${DEMO.agents.mail}`)).toBe(true);
    const agent = msalApp(emu, { clientId: DEMO.agents.mail, clientAssertion: async () => t1 });
    const r = await agent.acquireTokenByClientCredential({ scopes: ['api://tools/.default'] });
    const c2 = claimsOf(r!.accessToken);
    expect(c2).toMatchObject({
      idtyp: 'app',
      oid: DEMO.agents.mail,
      azp: DEMO.agents.mail,
      xms_par_app_azp: DEMO.blueprints.workers.appId,
      xms_act_fct: '11',
      xms_sub_fct: '11',
      tid: T,
      ver: '2.0',
    });
    expect(c2.roles).toEqual(['Mail.Send.All']);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 1, leg2: 1 });
  });

  it('accepts the exchange scope in any case (agents-hosting sends api://AzureAdTokenExchange)', async () => {
    const t1 = await leg1(secretBp(), DEMO.agents.mail, ['api://AzureAdTokenExchange/.default']);
    expect(claimsOf(t1).aud).toBe('api://AzureADTokenExchange');
  });

  it('certificate (PS256, x5t#S256): MSAL reuses one assertion and its jti across requests', async () => {
    const bp = msalApp(emu, {
      clientId: DEMO.blueprints.workers.appId,
      clientCertificate: { thumbprintSha256: cert.thumbprintSha256, privateKey: cert.keyPem },
    });
    const seen: string[] = [];
    const origPost = emu.networkModule.sendPostRequestAsync.bind(emu.networkModule);
    emu.networkModule.sendPostRequestAsync = (url, o) => {
      seen.push(new URLSearchParams(o?.body).get('client_assertion') ?? '');
      return origPost(url, o);
    };
    await leg1(bp, DEMO.agents.mail);
    await leg1(bp, DEMO.agents.calendar);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
    const header = JSON.parse(Buffer.from(seen[0]!.split('.')[0]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    expect(header.alg).toBe('PS256');
    expect(header['x5t#S256']).toBe(cert.x5tS256);
    emu.networkModule.sendPostRequestAsync = origPost;
  });

  it('certificate by SHA-1 thumbprint (RS256, x5t) and by subject name + issuer (x5c)', async () => {
    const sha1 = msalApp(emu, {
      clientId: DEMO.blueprints.workers.appId,
      clientCertificate: { thumbprint: cert.thumbprintSha1, privateKey: cert.keyPem },
    });
    expect(claimsOf(await leg1(sha1, DEMO.agents.mail)).azp).toBe(DEMO.blueprints.workers.appId);
    const sni = msalApp(emu, {
      clientId: DEMO.blueprints.workers.appId,
      clientCertificate: {
        thumbprintSha256: sniCert.thumbprintSha256,
        privateKey: sniCert.keyPem,
        x5c: sniCert.certPem,
      },
    });
    expect(claimsOf(await leg1(sni, DEMO.agents.mail)).azp).toBe(DEMO.blueprints.workers.appId);
  });

  it('federated credential: a workload identity token from an external issuer', async () => {
    const bp = msalApp(emu, {
      clientId: DEMO.blueprints.workers.appId,
      clientAssertion: () =>
        emu.issueExternalToken('k8s', { subject: 'system:serviceaccount:agents:workers' }),
    });
    expect(claimsOf(await leg1(bp, DEMO.agents.calendar)).azp).toBe(DEMO.blueprints.workers.appId);
    const wrong = msalApp(emu, {
      clientId: DEMO.blueprints.workers.appId,
      clientAssertion: () => emu.issueExternalToken('k8s', { subject: 'system:serviceaccount:other:sa' }),
    });
    await expect(leg1(wrong, DEMO.agents.calendar)).rejects.toMatchObject({
      errorCode: 'invalid_client',
      errorMessage: expect.stringContaining('AADSTS7002137'),
    });
  });

  it('federated credential: a managed identity token from MSAL ManagedIdentityApplication', async () => {
    const saved = { e: process.env.IDENTITY_ENDPOINT, h: process.env.IDENTITY_HEADER };
    process.env.IDENTITY_ENDPOINT = `${emu.baseUrl}/_mi/token`;
    process.env.IDENTITY_HEADER = emu.identityHeader;
    try {
      const mi = new ManagedIdentityApplication({
        system: { networkClient: emu.networkModule as unknown as INetworkModule },
      });
      const bp = msalApp(emu, {
        clientId: DEMO.blueprints.workers.appId,
        clientAssertion: async () =>
          (await mi.acquireToken({ resource: 'api://AzureADTokenExchange', forceRefresh: true })).accessToken,
      });
      expect(claimsOf(await leg1(bp, DEMO.agents.mail)).azp).toBe(DEMO.blueprints.workers.appId);
    } finally {
      process.env.IDENTITY_ENDPOINT = saved.e;
      process.env.IDENTITY_HEADER = saved.h;
      if (saved.e === undefined) delete process.env.IDENTITY_ENDPOINT;
      if (saved.h === undefined) delete process.env.IDENTITY_HEADER;
    }
  });

  it('agent on-behalf-of: the user is the subject, the agent the actor, scopes limited to consent', async () => {
    const bp = secretBp();
    const agent = msalApp(emu, {
      clientId: DEMO.agents.mail,
      clientAssertion: () => leg1(bp, DEMO.agents.mail),
    });
    const tc = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      scopes: [`api://${DEMO.blueprints.workers.appId}/access_agent`],
    });
    const r = await agent.acquireTokenOnBehalfOf({ oboAssertion: tc, scopes: ['api://tools/Mail.Read'] });
    const c = claimsOf(r!.accessToken);
    expect(c).toMatchObject({
      idtyp: 'user',
      oid: DEMO.users.alice.id,
      azp: DEMO.agents.mail,
      scp: 'Mail.Read',
      xms_act_fct: '11',
      xms_par_app_azp: DEMO.blueprints.workers.appId,
    });
    expect(r!.account?.username).toBe(DEMO.users.alice.upn);
    await expect(
      agent.acquireTokenOnBehalfOf({ oboAssertion: tc, scopes: ['api://tools/Calendars.Read'] }),
    ).rejects.toMatchObject({ errorMessage: expect.stringContaining('AADSTS65001') });
  });

  it('multi-hop: orchestrator OBO to the workers blueprint, then the mail agent OBO onward', async () => {
    const orchBp = msalApp(emu, {
      clientId: DEMO.blueprints.orchestrator.appId,
      clientSecret: DEMO.blueprints.orchestrator.secret,
    });
    const orch = msalApp(emu, {
      clientId: DEMO.agents.orchestrator,
      clientAssertion: () => leg1(orchBp, DEMO.agents.orchestrator),
    });
    const tc = await emu.issueUserToken({
      user: DEMO.users.bob.id,
      clientId: DEMO.chatApp.appId,
      scopes: [`api://${DEMO.blueprints.orchestrator.appId}/access_agent`],
    });
    const hop1 = await orch.acquireTokenOnBehalfOf({
      oboAssertion: tc,
      scopes: [`api://${DEMO.blueprints.workers.appId}/access_agent`],
    });
    expect(claimsOf(hop1!.accessToken)).toMatchObject({
      aud: DEMO.blueprints.workers.appId,
      azp: DEMO.agents.orchestrator,
      oid: DEMO.users.bob.id,
    });
    const mail = msalApp(emu, {
      clientId: DEMO.agents.mail,
      clientAssertion: () => leg1(secretBp(), DEMO.agents.mail),
    });
    const hop2 = await mail.acquireTokenOnBehalfOf({
      oboAssertion: hop1!.accessToken,
      scopes: ['api://tools/Mail.Send'],
    });
    expect(claimsOf(hop2!.accessToken)).toMatchObject({
      aud: DEMO.resources.tools.appId,
      azp: DEMO.agents.mail,
      oid: DEMO.users.bob.id,
      scp: 'Mail.Send',
    });
  });

  it('agent user (user_fic) by UPN and by object id: T1, T2, then leg 3', async () => {
    const bp = secretBp();
    const dw = msalApp(emu, {
      clientId: DEMO.agents.digitalWorker,
      clientAssertion: () => leg1(bp, DEMO.agents.digitalWorker),
    });
    const t2 = (await dw.acquireTokenByClientCredential({ scopes: EXCHANGE }))!.accessToken;
    expect(claimsOf(t2)).toMatchObject({
      aud: 'api://AzureADTokenExchange',
      sub: DEMO.agents.digitalWorker,
      azp: DEMO.agents.digitalWorker,
    });
    const byUpn = await dw.acquireTokenByUserFederatedIdentityCredential({
      scopes: ['api://tools/Mail.Read'],
      assertion: t2,
      username: DEMO.agentUsers.digitalWorker.upn,
    });
    const byId = await dw.acquireTokenByUserFederatedIdentityCredential({
      scopes: ['api://tools/Files.Read'],
      assertion: t2,
      userObjectId: DEMO.agentUsers.digitalWorker.id,
    });
    for (const r of [byUpn, byId]) {
      expect(claimsOf(r!.accessToken)).toMatchObject({
        idtyp: 'user',
        oid: DEMO.agentUsers.digitalWorker.id,
        azp: DEMO.agents.digitalWorker,
        xms_sub_fct: '13',
        xms_act_fct: '11',
      });
    }
    expect(emu.counters.tokenRequests('user_fic')).toBe(2);
  });

  it('claims challenge: MSAL sends claims merged with client capabilities, the token carries them', async () => {
    const bp = secretBp();
    const agent = msalApp(emu, {
      clientId: DEMO.agents.mail,
      clientAssertion: () => leg1(bp, DEMO.agents.mail),
      clientCapabilities: ['cp1'],
    });
    const claims = JSON.stringify({ access_token: { acrs: { essential: true, value: 'c1' } } });
    const r = await agent.acquireTokenByClientCredential({ scopes: ['api://tools/.default'], claims });
    expect(claimsOf(r!.accessToken)).toMatchObject({ xms_cc: ['cp1'], acrs: ['c1'] });
  });

  it('plain client credentials and OBO for a non-agent app', async () => {
    const seed = defaultSeed();
    seed.tenants[0]!.apps!.push({
      appId: '0a990000-0000-4000-8000-000000000001',
      identifierUri: 'api://classic',
      scopes: ['user_impersonation'],
      credentials: { secrets: ['classic-secret'] },
    });
    seed.tenants[0]!.delegatedGrants!.push({
      clientId: '0a990000-0000-4000-8000-000000000001',
      resourceAppId: DEMO.resources.tools.appId,
      scopes: ['Files.Read'],
    });
    const e2 = await createEmulator({ seed });
    const app = new ConfidentialClientApplication({
      auth: {
        clientId: '0a990000-0000-4000-8000-000000000001',
        clientSecret: 'classic-secret',
        ...e2.msalAuthOptions(T),
      },
      system: { networkClient: e2.networkModule as unknown as INetworkModule },
    });
    const cc = await app.acquireTokenByClientCredential({ scopes: ['api://reports/.default'] });
    expect(claimsOf(cc!.accessToken)).toMatchObject({
      idtyp: 'app',
      azp: '0a990000-0000-4000-8000-000000000001',
    });
    expect(claimsOf(cc!.accessToken).xms_act_fct).toBeUndefined();
    const tc = await e2.issueUserToken({
      user: DEMO.users.alice.id,
      scopes: ['api://classic/user_impersonation'],
    });
    const obo = await app.acquireTokenOnBehalfOf({ oboAssertion: tc, scopes: ['api://tools/Files.Read'] });
    expect(claimsOf(obo!.accessToken)).toMatchObject({
      idtyp: 'user',
      oid: DEMO.users.alice.id,
      azp: '0a990000-0000-4000-8000-000000000001',
    });
    await expect(
      app.acquireTokenByClientCredential({ scopes: EXCHANGE, fmiPath: DEMO.agents.mail }),
    ).rejects.toMatchObject({ errorMessage: expect.stringContaining('AADSTS82008') });
  });
});
