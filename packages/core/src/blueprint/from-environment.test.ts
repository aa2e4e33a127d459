import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificate, createEmulator, DEMO, defaultSeed, type Emulator } from '@agentid/emulator';
import type { TokenCredential } from '@azure/core-auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  blueprintFromEnvironment,
  createBlueprint,
  federatedCredential,
  type BlueprintFromEnvironmentOptions,
  type Logger,
} from '../index.js';
import { exchangeAudienceFor } from './authority.js';

const W = DEMO.blueprints.workers;
const K8S_SUBJECT = 'system:serviceaccount:agents:workers';
const cert = createCertificate({ subject: 'from-environment-test' });
const dir = mkdtempSync(join(tmpdir(), 'agentid-env-'));
const file = (name: string, content: string | Buffer): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
let emu: Emulator;
let tokenFile: string;

beforeAll(async () => {
  const seed = defaultSeed();
  const bp = seed.tenants[0]!.blueprints!.find((b) => b.appId === W.appId)!;
  bp.credentials = {
    ...bp.credentials,
    certificates: [cert.certPem],
    federated: [
      { issuer: 'https://login.agentid.test/_issuers/k8s', subject: K8S_SUBJECT },
      { issuer: `https://login.agentid.test/${DEMO.tenantId}/v2.0`, subject: DEMO.managedIdentity.id },
    ],
  };
  emu = await createEmulator({ seed });
  tokenFile = file('k8s-token', await emu.issueExternalToken('k8s', { subject: K8S_SUBJECT }));
});
afterAll(() => emu.close());

const logs: string[] = [];
const logger: Logger = { debug() {}, info() {}, warn: (m) => logs.push(m), error() {} };
const fromEnv = (env: Record<string, string>, extra: BlueprintFromEnvironmentOptions = {}) =>
  blueprintFromEnvironment({
    env: { AZURE_AUTHORITY_HOST: emu.baseUrl, ...env },
    network: { fetch: emu.fetch },
    telemetry: { logger },
    ...extra,
  });
const ids = { AZURE_TENANT_ID: DEMO.tenantId, AZURE_CLIENT_ID: W.appId };
const mailToken = async (env: Record<string, string>, extra?: BlueprintFromEnvironmentOptions) =>
  (await fromEnv(env, extra).agent(DEMO.agents.mail).getToken(['api://tools/.default'])).subject;
const error = (f: () => unknown): Error & { code?: string } => {
  try {
    f();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a throw');
};

describe('blueprintFromEnvironment: each credential, against the emulator', () => {
  it('AGENTID_EMULATOR alone: the demo tenant, workers blueprint and its secret, no secret warning', async () => {
    logs.length = 0;
    const env = { AGENTID_EMULATOR: emu.baseUrl, NODE_EXTRA_CA_CERTS: '/ca.pem' };
    const bp = blueprintFromEnvironment({ env, network: { fetch: emu.fetch }, telemetry: { logger } });
    // Core's copy of the demo ids is the emulator's.
    expect([bp.tenantId, bp.clientId, bp.authorityHost]).toEqual([DEMO.tenantId, W.appId, emu.baseUrl]);
    expect((await bp.agent(DEMO.agents.mail).getToken(['api://tools/.default'])).subject).toBe(
      DEMO.agents.mail,
    );
    const orchestrator = blueprintFromEnvironment({
      env: { ...env, AZURE_CLIENT_ID: DEMO.blueprints.orchestrator.appId },
      network: { fetch: emu.fetch },
    });
    const t = await orchestrator.agent(DEMO.agents.orchestrator).getToken(['api://tools/.default']);
    expect(t.subject).toBe(DEMO.agents.orchestrator);
    expect(logs).toEqual([]);
  });

  it('AZURE_CLIENT_SECRET: warned once through the logger as development only', async () => {
    logs.length = 0;
    expect(await mailToken({ ...ids, AZURE_CLIENT_SECRET: W.secret })).toBe(DEMO.agents.mail);
    expect(await mailToken({ ...ids, AZURE_CLIENT_SECRET: W.secret })).toBe(DEMO.agents.mail);
    expect(logs.filter((l) => l.includes('development only'))).toHaveLength(1);
    expect(logs.join('\n')).not.toContain(W.secret);
  });

  it('AZURE_CLIENT_CERTIFICATE_PATH: one PEM file with an encrypted key and the certificate', async () => {
    const encrypted = createPrivateKey(cert.keyPem)
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pem-pass' })
      .toString();
    const path = file('bp.pem', `${encrypted}\n${cert.certPem}`);
    expect(
      await mailToken({
        ...ids,
        AZURE_CLIENT_CERTIFICATE_PATH: path,
        AZURE_CLIENT_CERTIFICATE_PASSWORD: 'pem-pass',
      }),
    ).toBe(DEMO.agents.mail);
    const wrong = error(() =>
      fromEnv({ ...ids, AZURE_CLIENT_CERTIFICATE_PATH: path, AZURE_CLIENT_CERTIFICATE_PASSWORD: 'not-it' }),
    );
    expect(wrong).toMatchObject({ code: 'AGENTID_CREDENTIAL' });
    expect(wrong.message).not.toContain('not-it');
  });

  it('AZURE_FEDERATED_TOKEN_FILE: workload identity', async () => {
    expect(await mailToken({ ...ids, AZURE_FEDERATED_TOKEN_FILE: tokenFile })).toBe(DEMO.agents.mail);
  });

  it('a managed identity when on Azure (IDENTITY_ENDPOINT, read by MSAL from process.env)', async () => {
    const saved = { ep: process.env.IDENTITY_ENDPOINT, h: process.env.IDENTITY_HEADER };
    process.env.IDENTITY_ENDPOINT = `${emu.baseUrl}/_mi/token`;
    process.env.IDENTITY_HEADER = emu.identityHeader;
    try {
      emu.counters.reset();
      expect(await mailToken({ ...ids, IDENTITY_ENDPOINT: process.env.IDENTITY_ENDPOINT })).toBe(
        DEMO.agents.mail,
      );
      expect(emu.counters.snapshot().byRoute.mi).toBe(1);
    } finally {
      for (const [k, v] of [
        ['IDENTITY_ENDPOINT', saved.ep],
        ['IDENTITY_HEADER', saved.h],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('an @azure/identity TokenCredential as the federated credential source, asked for the exchange audience', async () => {
    const asked: unknown[] = [];
    const external = await emu.issueExternalToken('k8s', { subject: K8S_SUBJECT });
    const tokenCredential: TokenCredential = {
      getToken: (scopes) => {
        asked.push(scopes);
        return Promise.resolve({ token: external, expiresOnTimestamp: Date.now() + 3_600_000 });
      },
    };
    expect(await mailToken(ids, { credential: federatedCredential({ tokenCredential }) })).toBe(
      DEMO.agents.mail,
    );
    expect(asked).toEqual(['api://AzureADTokenExchange/.default']);
    const none = createBlueprint({
      ...{ tenantId: DEMO.tenantId, clientId: W.appId, authorityHost: emu.baseUrl },
      network: { fetch: emu.fetch },
      credential: federatedCredential({ tokenCredential: { getToken: () => Promise.resolve(null) } }),
    });
    await expect(none.agent(DEMO.agents.mail).getToken(['api://tools/.default'])).rejects.toMatchObject({
      code: 'AGENTID_CREDENTIAL',
    });
  });
});

describe('blueprintFromEnvironment: precedence (DefaultAzureCredential order)', () => {
  it('a secret wins over a certificate, as in @azure/identity, and the overlap is named', async () => {
    logs.length = 0;
    const bad = error(() =>
      fromEnv({ ...ids, AZURE_CLIENT_CERTIFICATE_PATH: file('x.pfx', Buffer.from([0x30, 0x82])) }),
    );
    expect(bad.message).toContain('openssl pkcs12');
    // With a secret as well, the unreadable certificate is not even opened.
    expect(
      await mailToken({
        ...ids,
        AZURE_CLIENT_SECRET: W.secret,
        AZURE_CLIENT_CERTIFICATE_PATH: join(dir, 'x.pfx'),
      }),
    ).toBe(DEMO.agents.mail);
    expect(logs.join('\n')).toMatch(/AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH are both set/);
  });

  it('a certificate wins over a token file, a token file over a managed identity', async () => {
    const path = file('both.pem', `${cert.keyPem}\n${cert.certPem}`);
    const missing = join(dir, 'no-such-token');
    expect(
      await mailToken({ ...ids, AZURE_CLIENT_CERTIFICATE_PATH: path, AZURE_FEDERATED_TOKEN_FILE: missing }),
    ).toBe(DEMO.agents.mail);
    emu.counters.reset();
    expect(
      await mailToken({
        ...ids,
        AZURE_FEDERATED_TOKEN_FILE: tokenFile,
        IDENTITY_ENDPOINT: 'https://127.0.0.1:1/mi',
      }),
    ).toBe(DEMO.agents.mail);
    expect(emu.counters.snapshot().byRoute.mi).toBeUndefined();
  });

  it('AZURE_TOKEN_CREDENTIALS narrows the chain to one credential; options win over variables', async () => {
    const env = {
      ...ids,
      AZURE_CLIENT_SECRET: W.secret,
      AZURE_TOKEN_CREDENTIALS: 'WorkloadIdentityCredential',
    };
    expect(error(() => fromEnv(env)).message).toMatch(
      /no blueprint credential .*AZURE_TOKEN_CREDENTIALS=Workload/,
    );
    expect(await mailToken({ ...env, AZURE_FEDERATED_TOKEN_FILE: tokenFile })).toBe(DEMO.agents.mail);
    expect(error(() => fromEnv({ ...ids, AZURE_TOKEN_CREDENTIALS: 'AzureCliCredential' })).message).toMatch(
      /AZURE_TOKEN_CREDENTIALS='AzureCliCredential' is not one this package supports/,
    );
    const bp = fromEnv(
      { AZURE_TENANT_ID: 'other.onmicrosoft.com', AZURE_CLIENT_ID: 'x', AZURE_CLIENT_SECRET: 's' },
      {
        tenantId: DEMO.tenantId,
        clientId: W.appId,
      },
    );
    expect([bp.tenantId, bp.clientId]).toEqual([DEMO.tenantId, W.appId]);
  });

  it('AZURE_AUTHORITY_HOST takes a bare host as @azure/identity does; the audience follows the cloud', () => {
    const bp = blueprintFromEnvironment({
      env: { ...ids, AZURE_CLIENT_SECRET: 's', AZURE_AUTHORITY_HOST: 'login.microsoftonline.us' },
    });
    expect(bp.authorityHost).toBe('https://login.microsoftonline.us');
    expect(
      [
        'https://login.microsoftonline.com',
        'https://login.microsoftonline.us',
        'https://login.usgovcloudapi.net',
        'https://login.chinacloudapi.cn',
        'https://login.partner.microsoftonline.cn',
        'https://login.sovcloud-identity.fr',
        'https://login.sovcloud-identity.de',
        'https://login.microsoftonline.eaglex.ic.gov',
      ].map(exchangeAudienceFor),
    ).toEqual([
      'api://AzureADTokenExchange',
      'api://AzureADTokenExchangeUSGov',
      'api://AzureADTokenExchangeUSGov',
      'api://AzureADTokenExchangeChina',
      'api://AzureADTokenExchangeChina',
      'api://AzureADTokenExchangeFrance',
      'api://AzureADTokenExchangeGermany',
      'api://AzureADTokenExchangeUSNat',
    ]);
  });
});

describe('blueprintFromEnvironment: errors name the variables, never a secret', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['nothing set', {}, /set AZURE_TENANT_ID \(the blueprint's tenant\) and AZURE_CLIENT_ID/],
    ['no client id', { AZURE_TENANT_ID: DEMO.tenantId }, /set AZURE_CLIENT_ID/],
    [
      'empty is unset',
      { ...ids, AZURE_CLIENT_SECRET: '  ' },
      /no blueprint credential in the environment: set AZURE_CLIENT_CERTIFICATE_PATH/,
    ],
    [
      'a password without a path',
      { ...ids, AZURE_CLIENT_CERTIFICATE_PASSWORD: 'p4ss' },
      /AZURE_CLIENT_CERTIFICATE_PASSWORD is set without AZURE_CLIENT_CERTIFICATE_PATH/,
    ],
    [
      'a bad tenant id',
      { ...ids, AZURE_TENANT_ID: '!', AZURE_CLIENT_SECRET: 'sekrit-value' },
      /from AZURE_TENANT_ID/,
    ],
    [
      'an http emulator',
      { AGENTID_EMULATOR: 'http://127.0.0.1:8080' },
      /AGENTID_EMULATOR must be the emulator's https URL/,
    ],
    [
      'emulator and authority disagree',
      {
        AGENTID_EMULATOR: 'https://127.0.0.1:8443',
        AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.com',
      },
      /AGENTID_EMULATOR \(https:\/\/127.0.0.1:8443\) and AZURE_AUTHORITY_HOST .* disagree/,
    ],
    [
      'a non-demo blueprint on the emulator',
      { AGENTID_EMULATOR: 'https://127.0.0.1:8443', AZURE_CLIENT_ID: 'c0ffee00-0000-4000-8000-000000000000' },
      /no blueprint credential/,
    ],
  ];
  for (const [name, env, message] of cases)
    it(name, () => {
      const e = error(() => blueprintFromEnvironment({ env: { NODE_EXTRA_CA_CERTS: '/ca.pem', ...env } }));
      expect(e).toMatchObject({ code: 'AGENTID_INVALID_OPTIONS' });
      expect(e.message).toMatch(message);
      expect(e.message).not.toMatch(/p4ss|sekrit-value/);
    });

  it('a certificate file without a key, or not PEM at all', () => {
    const noKey = error(() =>
      fromEnv({ ...ids, AZURE_CLIENT_CERTIFICATE_PATH: file('cert-only.pem', cert.certPem) }),
    );
    expect(noKey.message).toMatch(
      /AZURE_CLIENT_CERTIFICATE_PATH \(.*\) must be one PEM file .*; it has no PRIVATE KEY block/,
    );
    const pfx = error(() =>
      fromEnv({ ...ids, AZURE_CLIENT_CERTIFICATE_PATH: file('bp.p12', Buffer.from([0x30, 0x82, 1])) }),
    );
    expect(pfx).toMatchObject({ code: 'AGENTID_INVALID_OPTIONS' });
    expect(pfx.message).toMatch(/PKCS#12 \(PFX\).*openssl pkcs12 -in '.*bp\.p12' -out '.*bp\.pem' -nodes/);
  });
});
