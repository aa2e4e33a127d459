import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertificate } from '@agentid/emulator';
import { describe, expect, it } from 'vitest';
import { loadSidecarConfig, stripJsonComments } from './config.js';

const TID = '11111111-1111-4111-8111-111111111111';
const CID = '22222222-2222-4222-8222-222222222222';
const base = {
  AzureAd__TenantId: TID,
  AzureAd__ClientId: CID,
  AzureAd__ClientCredentials__0__SourceType: 'ClientSecret',
  AzureAd__ClientCredentials__0__ClientSecret: 'dev-secret-value',
};
const dir = mkdtempSync(join(tmpdir(), 'agentid-sidecar-config-'));

describe('loadSidecarConfig: Microsoft shape', () => {
  it('maps environment variables (Section__Key__0__Sub), case-insensitively, with Microsoft defaults', () => {
    const c = loadSidecarConfig({
      env: {
        ...base,
        AZUREAD__INSTANCE: 'https://login.microsoftonline.com/',
        DownstreamApis__Graph__BaseUrl: 'https://graph.microsoft.com/v1.0',
        DownstreamApis__Graph__RelativePath: 'me',
        DownstreamApis__Graph__Scopes__0: 'User.Read',
        DownstreamApis__Graph__Scopes__1: 'Mail.Read',
        downstreamapis__graph__httpmethod: 'post',
        DownstreamApis__Reports__Scopes: 'api://reports/.default',
        DownstreamApis__Reports__RequestAppToken: 'True',
        Unrelated__Thing: 'x',
      },
    });
    expect(c.tenantId).toBe(TID);
    expect(c.authorityHost).toBe('https://login.microsoftonline.com');
    expect(c.audiences).toEqual([CID, `api://${CID}`]);
    expect(c.credentialSource).toBe('ClientSecret');
    const graph = c.downstreamApis.get('graph')!;
    expect(graph).toMatchObject({
      name: 'Graph',
      baseUrl: 'https://graph.microsoft.com/v1.0',
      relativePath: 'me',
      scopes: ['User.Read', 'Mail.Read'],
      httpMethod: 'POST',
      requestAppToken: false,
    });
    expect(c.downstreamApis.get('reports')).toMatchObject({
      scopes: ['api://reports/.default'],
      requestAppToken: true,
    });
    expect(c.allowOverrides).toEqual({
      getAuthorizationHeader: true,
      getAuthorizationHeaderUnauthenticated: false,
      callDownstreamApi: true,
      callDownstreamApiUnauthenticated: false,
    });
    expect(c.allowOutboundRedirects).toBe(false);
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 5178 });
    expect(c.allowRemoteCallers).toBe(false);
    expect(c.redis).toBeUndefined();
  });

  it('reads an appsettings.json with comments and trailing commas; environment variables win', () => {
    const file = join(dir, 'appsettings.json');
    writeFileSync(
      file,
      `{
        // identity
        "AzureAd": { "Instance": "https://login.microsoftonline.com/", "TenantId": "${TID}", "ClientId": "${CID}", "Audience": "api://my-agent",
          "ClientCredentials": [ { "SourceType": "ClientSecret", "ClientSecret": "from-file" }, ], /* trailing */ },
        "DownstreamApis": { "Tools": { "BaseUrl": "https://tools.example/api", "Scopes": [ "api://tools/.default" ] } },
        "Sidecar": { "AllowOverrides": { "GetAuthorizationHeaderUnauthenticated": true }, "AllowOutboundRedirects": false },
        "Note": "a // not a comment, and a /* not a comment */ either"
      }`,
    );
    const c = loadSidecarConfig({
      file,
      env: { DownstreamApis__Tools__Scopes__0: 'api://tools/Mail.Read', AgentId__Listen__Port: '6000' },
    });
    expect(c.audiences).toEqual(['api://my-agent']);
    expect(c.downstreamApis.get('tools')!.scopes).toEqual(['api://tools/Mail.Read']);
    expect(c.allowOverrides.getAuthorizationHeaderUnauthenticated).toBe(true);
    expect(c.listen.port).toBe(6000);
    expect(stripJsonComments('{"a":"//x","b":1,}')).toBe('{"a":"//x","b":1}');
  });

  it('reads JSON with comments through jsonc-parser; a syntax error names the place, never the text', () => {
    expect(stripJsonComments('{"a":"x,}/*y*/", /* c */ "b":[1,2,],}')).toBe('{"a":"x,}/*y*/","b":[1,2]}');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{\n  // a comment\n  "AzureAd": { "ClientSecret": "s3cr3t-value" oops }\n}');
    expect(() => loadSidecarConfig({ file: bad, env: {} })).toThrow(
      /bad\.json is not valid JSON \(InvalidSymbol at line 3, column \d+\)/,
    );
    try {
      loadSidecarConfig({ file: bad, env: {} });
    } catch (e) {
      expect(String((e as Error).message)).not.toContain('s3cr3t');
    }
  });

  it('maps every supported credential source; unsupported ones are named in the error', () => {
    const cert = createCertificate();
    const pem = join(dir, 'blueprint.pem');
    writeFileSync(pem, cert.certPem + cert.keyPem);
    const withCred = (cred: Record<string, string>) =>
      loadSidecarConfig({
        env: {
          AzureAd__TenantId: TID,
          AzureAd__ClientId: CID,
          ...Object.fromEntries(
            Object.entries(cred).map(([k, v]) => [`AzureAd__ClientCredentials__0__${k}`, v]),
          ),
        },
      });
    expect(withCred({ SourceType: 'Path', CertificateDiskPath: pem }).credentialSource).toBe('Path');
    expect(
      withCred({
        SourceType: 'SignedAssertionFilePath',
        SignedAssertionFileDiskPath: '/var/run/secrets/token',
      }).credentialSource,
    ).toBe('SignedAssertionFilePath');
    expect(
      withCred({ SourceType: 'SignedAssertionFromManagedIdentity', ManagedIdentityClientId: CID })
        .credentialSource,
    ).toBe('SignedAssertionFromManagedIdentity');
    expect(() => withCred({ SourceType: 'StoreWithThumbprint', CertificateThumbprint: 'AB' })).toThrow(
      /unsupported: StoreWithThumbprint/,
    );
    expect(() => withCred({ SourceType: 'KeyVault' })).toThrow(/supported: ClientSecret, Path/);
    const pfx = join(dir, 'cert.pfx');
    writeFileSync(pfx, Buffer.from([0x30, 0x82, 0x01]));
    expect(() => withCred({ SourceType: 'Path', CertificateDiskPath: pfx })).toThrow(/PFX is not supported/);
    // The first supported entry wins, after unsupported ones.
    const c = loadSidecarConfig({
      env: {
        AzureAd__TenantId: TID,
        AzureAd__ClientId: CID,
        AzureAd__ClientCredentials__0__SourceType: 'KeyVault',
        AzureAd__ClientCredentials__1__SourceType: 'ClientSecret',
        AzureAd__ClientCredentials__1__ClientSecret: 's',
      },
    });
    expect(c.credentialSource).toBe('ClientSecret');
  });

  it('Redis (AgentId section): key required, single key or a key ring', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const c = loadSidecarConfig({
      env: { ...base, AgentId__Redis__Url: 'redis://127.0.0.1:6379', AgentId__Redis__EncryptionKey: key },
    });
    expect(c.redis).toMatchObject({ url: 'redis://127.0.0.1:6379', currentKeyId: 'k1', keys: { k1: key } });
    const ring = loadSidecarConfig({
      env: {
        ...base,
        AgentId__Redis__Url: 'redis://r',
        AgentId__Redis__Keys__new: key,
        AgentId__Redis__Keys__old: key,
        AgentId__Redis__CurrentKeyId: 'new',
      },
    });
    expect(ring.redis?.currentKeyId).toBe('new');
    expect(() => loadSidecarConfig({ env: { ...base, AgentId__Redis__Url: 'redis://r' } })).toThrow(
      /EncryptionKey .* is required/,
    );
  });

  it('invalid configuration is a typed error that names the key and never echoes a secret', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ ...base, AzureAd__TenantId: '' }, /AzureAd:TenantId is required/],
      [{ ...base, AzureAd__ClientId: 'x' }, /AzureAd:ClientId is required/],
      [{ ...base, AzureAd__ClientCredentials__0__ClientSecret: '' }, /ClientSecret is empty/],
      [{ ...base, DownstreamApis__x__BaseUrl: 'not a url' }, /DownstreamApis:x:BaseUrl/],
      [{ ...base, DownstreamApis__x__BaseUrl: 'ftp://h/' }, /http\(s\)/],
      [{ ...base, DownstreamApis__x__HttpMethod: 'TRACE' }, /HttpMethod/],
      [{ ...base, Sidecar__AllowOutboundRedirects: 'yes' }, /true or false/],
      [{ ...base, AgentId__Listen__Port: '99999' }, /Port/],
    ];
    for (const [env, message] of cases) {
      let error: (Error & { code?: string }) | undefined;
      try {
        loadSidecarConfig({ env });
      } catch (e) {
        error = e as Error & { code?: string };
      }
      expect(error?.message, JSON.stringify(env)).toMatch(message);
      expect(error?.code).toBe('AGENTID_INVALID_OPTIONS');
      expect(error?.message).not.toContain('dev-secret-value');
    }
    expect(() => loadSidecarConfig({ file: join(dir, 'missing.json'), env: base })).toThrow(/cannot read/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ nope');
    expect(() => loadSidecarConfig({ file: bad, env: base })).toThrow(/not valid JSON/);
  });
});
