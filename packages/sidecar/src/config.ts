import { readFileSync } from 'node:fs';
import { type ParseError, parse as parseJsonc, printParseErrorCode } from 'jsonc-parser';
import {
  type BlueprintCredential,
  certificateCredential,
  ConfigurationError,
  managedIdentityCredential,
  secretCredential,
  workloadIdentityCredential,
} from '@agentid/core';
import { PUBLIC_AUTHORITY_HOST } from '@agentid/core/broker';
import { parseHost } from './local.js';
import { RedisSettings } from './redis-settings.js';

/** One downstream API profile (`DownstreamApis:<name>`). */
export interface DownstreamApiProfile {
  readonly name: string;
  /** Absent: the profile only issues authorization headers. */
  readonly baseUrl?: string;
  readonly relativePath: string;
  readonly scopes: readonly string[];
  readonly requestAppToken: boolean;
  readonly httpMethod: string;
  readonly acceptHeader?: string;
  readonly contentType?: string;
}

/** `Sidecar:AllowOverrides`: whether a route honours `optionsOverride.*` and agent parameters. */
export interface AllowOverrides {
  readonly getAuthorizationHeader: boolean;
  readonly getAuthorizationHeaderUnauthenticated: boolean;
  readonly callDownstreamApi: boolean;
  readonly callDownstreamApiUnauthenticated: boolean;
}

/**
 * The sidecar's configuration, normalized from Microsoft's shape (`AzureAd`, `DownstreamApis`,
 * `Sidecar`) plus agentid's own section (`AgentId`: listening, Redis).
 *
 * @example
 * ```ts
 * const config = loadSidecarConfig({ file: 'appsettings.json', env: process.env });
 * ```
 */
export interface SidecarConfig {
  readonly tenantId: string;
  readonly clientId: string;
  /** Authority host, from `AzureAd:Instance` (default `https://login.microsoftonline.com`). */
  readonly authorityHost: string;
  /** Accepted audiences of caller tokens: `AzureAd:Audience` (or `Audiences`), else the client id and `api://<client id>`. */
  readonly audiences: readonly string[];
  /** `AzureAd:Scopes`: scopes `/Validate` requires (any one). */
  readonly requiredScopes: readonly string[];
  readonly credential: BlueprintCredential;
  /** What the credential is, for logs (`ClientSecret`, `Path`, ...). */
  readonly credentialSource: string;
  readonly downstreamApis: ReadonlyMap<string, DownstreamApiProfile>;
  readonly allowOverrides: AllowOverrides;
  readonly allowOutboundRedirects: boolean;
  readonly listen: { readonly host: string; readonly port: number; readonly socket?: string };
  /** Serve callers that are not on loopback (Microsoft's container refuses them, and so do we by default). */
  readonly allowRemoteCallers: boolean;
  /** `AgentId:AllowedHosts`: `Host` names served besides loopback ones (`name` or `name:port`). */
  readonly allowedHosts: readonly string[];
  /**
   * `AgentId:AllowedTenants`: customer tenants of a multi-tenant blueprint served besides
   * `AzureAd:TenantId` (tenant ids, or `'*'` for any): `optionsOverride.AcquireTokenOptions.Tenant`
   * may name them, and their users' tokens are accepted. Default: the home tenant only.
   */
  readonly allowedTenants?: readonly string[] | '*';
  /** `AgentId:ExchangeAudience`: the token-exchange audience, for an `AzureAd:Instance` of no known cloud. */
  readonly exchangeAudience?: string;
  /** `AgentId:AllowedAgentIdentities`: when set, the only `AgentIdentity` values served (lower case); others are a 403 without a token request. */
  readonly allowedAgentIdentities?: readonly string[];
  /** Agent ids the token endpoint refused as unknown (AADSTS700016) are answered from memory for `ttlMs` (`AgentId:UnknownAgentCacheSeconds`, default 60; 0: off), at most `maxEntries` (`AgentId:UnknownAgentCacheSize`, default 10 000). */
  readonly unknownAgentCache: { readonly ttlMs: number; readonly maxEntries: number };
  /** The Redis L2. Its URL and keys are kept out of `util.inspect` and `JSON.stringify`. */
  readonly redis?: {
    readonly url: string;
    readonly namespace: string;
    readonly currentKeyId: string;
    readonly keys: Readonly<Record<string, string>>;
  };
  /** Downstream API call timeout. Default 30 000 ms. */
  readonly downstreamTimeoutMs: number;
}

/** Where configuration comes from: a JSON file (comments allowed), a parsed object, and environment variables (which win). */
export interface LoadConfigOptions {
  file?: string;
  json?: Record<string, unknown>;
  env?: Readonly<Record<string, string | undefined>>;
}

type Tree = { [key: string]: Tree | string | undefined };

/**
 * Parses JSON with comments and trailing commas, as appsettings.json allows them (`jsonc-parser`,
 * the parser of VS Code's settings files). A syntax error names its line and column and the kind
 * of error, never the text there (a configuration file may hold a secret).
 */
export function parseJsonWithComments(text: string, what = 'the configuration'): unknown {
  const errors: ParseError[] = [];
  const value: unknown = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first !== undefined) {
    const before = text.slice(0, first.offset).split('\n');
    throw new ConfigurationError(
      `sidecar configuration: ${what} is not valid JSON (${printParseErrorCode(first.error)} at line ${before.length}, column ${before.at(-1)!.length + 1})`,
    );
  }
  return value;
}

/**
 * Removes `//` and `/* *\/` comments and trailing commas: the same JSON, as plain JSON text.
 * Throws `ConfigurationError` on text that is not JSON with comments.
 */
export function stripJsonComments(text: string): string {
  return JSON.stringify(parseJsonWithComments(text));
}

/** Config keys are case-insensitive (as in .NET): find the child whatever its case. */
function child(node: unknown, key: string): unknown {
  if (node === null || typeof node !== 'object') return undefined;
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(node)) if (k.toLowerCase() === lower) return v;
  return undefined;
}
function at(node: unknown, ...path: string[]): unknown {
  return path.reduce(child, node);
}
/** Arrays are objects with keys 0, 1, ... once environment variables are merged in. */
function list(node: unknown): unknown[] {
  if (Array.isArray(node)) return node;
  if (node !== null && typeof node === 'object') {
    return Object.entries(node)
      .filter(([k]) => /^\d+$/.test(k))
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, v]) => v);
  }
  return [];
}
function text(node: unknown, what: string): string | undefined {
  if (node === undefined || node === null || node === '') return undefined;
  if (typeof node === 'string') return node;
  if (typeof node === 'number' || typeof node === 'boolean') return String(node);
  throw new ConfigurationError(`sidecar configuration: ${what} must be a string`);
}
function bool(node: unknown, what: string, fallback: boolean): boolean {
  const t = text(node, what);
  if (t === undefined) return fallback;
  if (/^true$/i.test(t)) return true;
  if (/^false$/i.test(t)) return false;
  throw new ConfigurationError(
    `sidecar configuration: ${what} must be true or false, got '${t.slice(0, 20)}'`,
  );
}
function scopesOf(node: unknown, what: string): string[] {
  if (typeof node === 'string') return node.split(/\s+/).filter(Boolean);
  return list(node)
    .map((s, i) => text(s, `${what}:${i}`) ?? '')
    .filter(Boolean);
}

/** Merges `A__B__0__C=value` variables of the known sections into the tree (case-insensitively). */
function mergeEnv(tree: Tree, env: Readonly<Record<string, string | undefined>>): void {
  const sections = new Set(['azuread', 'downstreamapis', 'sidecar', 'agentid']);
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    const path = name.split('__');
    if (path.length < 2 || !sections.has(path[0]!.toLowerCase())) continue;
    let node = tree;
    for (let i = 0; i < path.length; i++) {
      const key = Object.keys(node).find((k) => k.toLowerCase() === path[i]!.toLowerCase()) ?? path[i]!;
      if (i === path.length - 1) {
        node[key] = value;
      } else {
        let next = node[key];
        if (Array.isArray(next)) next = Object.fromEntries(next.map((v, j) => [String(j), v])) as Tree;
        if (next === undefined || typeof next !== 'object') next = {};
        node[key] = next;
        node = next;
      }
    }
  }
}

function credentialFrom(
  entries: unknown[],
  env: Readonly<Record<string, string | undefined>>,
): { credential: BlueprintCredential; source: string } {
  const unsupported: string[] = [];
  for (const [i, entry] of entries.entries()) {
    const source = text(at(entry, 'SourceType'), `AzureAd:ClientCredentials:${i}:SourceType`) ?? '';
    switch (source.toLowerCase()) {
      case 'clientsecret': {
        const secret = text(at(entry, 'ClientSecret'), 'ClientSecret');
        if (!secret)
          throw new ConfigurationError(
            `sidecar configuration: AzureAd:ClientCredentials:${i}:ClientSecret is empty`,
          );
        return { credential: secretCredential(secret), source: 'ClientSecret' };
      }
      case 'path': {
        const path = text(at(entry, 'CertificateDiskPath'), 'CertificateDiskPath');
        if (!path)
          throw new ConfigurationError(
            `sidecar configuration: AzureAd:ClientCredentials:${i}:CertificateDiskPath is required`,
          );
        let pem: string;
        try {
          pem = readFileSync(path, 'utf8');
        } catch {
          throw new ConfigurationError(`sidecar configuration: cannot read the certificate file ${path}`);
        }
        const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
        const key =
          /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.exec(
            pem,
          )?.[0];
        if (!cert || !key) {
          throw new ConfigurationError(
            `sidecar configuration: ${path} must be a PEM file with the certificate and its private key (PFX is not supported: convert it with 'openssl pkcs12 -in cert.pfx -out cert.pem -nodes')`,
          );
        }
        const password = text(at(entry, 'CertificatePassword'), 'CertificatePassword');
        return {
          credential: certificateCredential({
            certificate: cert,
            privateKey: key,
            ...(password ? { passphrase: password } : {}),
          }),
          source: 'Path',
        };
      }
      case 'signedassertionfilepath': {
        const path =
          text(at(entry, 'SignedAssertionFileDiskPath'), 'SignedAssertionFileDiskPath') ??
          env['AZURE_FEDERATED_TOKEN_FILE'];
        return {
          credential: workloadIdentityCredential(path ? { tokenFilePath: path } : {}),
          source: 'SignedAssertionFilePath',
        };
      }
      case 'signedassertionfrommanagedidentity': {
        const clientId = text(at(entry, 'ManagedIdentityClientId'), 'ManagedIdentityClientId');
        return {
          credential: managedIdentityCredential(clientId ? { clientId } : {}),
          source: 'SignedAssertionFromManagedIdentity',
        };
      }
      default:
        unsupported.push(source || '(none)');
    }
  }
  throw new ConfigurationError(
    `sidecar configuration: no supported AzureAd:ClientCredentials entry (${unsupported.length ? `unsupported: ${unsupported.join(', ')}; ` : ''}supported: ClientSecret, Path (PEM), SignedAssertionFilePath, SignedAssertionFromManagedIdentity)`,
  );
}

const GUID_OR_DOMAIN = /^[0-9a-z][0-9a-z.-]{2,254}$/i;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function listOf(node: unknown, what: string, check: (v: string) => boolean, expected: string): string[] {
  const values = scopesOf(node, what);
  for (const v of values)
    if (!check(v))
      throw new ConfigurationError(
        `sidecar configuration: ${what} entries must be ${expected}, got '${v.slice(0, 60)}'`,
      );
  return values;
}

/**
 * Reads and validates the sidecar configuration: Microsoft's `AzureAd`, `DownstreamApis` and
 * `Sidecar` sections (from a JSON file and/or `Section__Key__0__Sub` environment variables, which
 * win), plus `AgentId` (`Listen:Host|Port|Socket`, `AllowRemoteCallers`, `Redis:Url|EncryptionKey|KeyId|Keys:<id>|CurrentKeyId|Namespace`,
 * `DownstreamTimeoutMs`). Errors are {@link ConfigurationError}s naming the key, never a secret.
 *
 * @example
 * ```ts
 * const config = loadSidecarConfig({ env: { AzureAd__TenantId: tid, AzureAd__ClientId: cid, AzureAd__ClientCredentials__0__SourceType: 'SignedAssertionFilePath' } });
 * ```
 */
export function loadSidecarConfig(options: LoadConfigOptions = {}): SidecarConfig {
  let tree: Tree = {};
  if (options.file !== undefined) {
    let raw: string;
    try {
      raw = readFileSync(options.file, 'utf8');
    } catch {
      throw new ConfigurationError(`sidecar configuration: cannot read ${options.file}`);
    }
    tree = parseJsonWithComments(raw, options.file) as Tree;
  }
  if (options.json) tree = { ...(structuredClone(options.json) as Tree), ...tree };
  const env = options.env ?? process.env;
  mergeEnv(tree, env);

  const tenantId = text(at(tree, 'AzureAd', 'TenantId'), 'AzureAd:TenantId');
  const clientId = text(at(tree, 'AzureAd', 'ClientId'), 'AzureAd:ClientId');
  if (!tenantId || !GUID_OR_DOMAIN.test(tenantId))
    throw new ConfigurationError(
      'sidecar configuration: AzureAd:TenantId is required (a tenant id or domain)',
    );
  if (!clientId || !GUID_OR_DOMAIN.test(clientId))
    throw new ConfigurationError(
      "sidecar configuration: AzureAd:ClientId is required (the blueprint's application id)",
    );
  const instance = text(at(tree, 'AzureAd', 'Instance'), 'AzureAd:Instance') ?? PUBLIC_AUTHORITY_HOST;
  let authorityHost: string;
  try {
    const u = new URL(instance);
    authorityHost = `${u.protocol}//${u.host}`;
  } catch {
    throw new ConfigurationError('sidecar configuration: AzureAd:Instance must be an https URL');
  }
  const audience = text(at(tree, 'AzureAd', 'Audience'), 'AzureAd:Audience');
  const audiences = audience
    ? [audience, ...scopesOf(at(tree, 'AzureAd', 'Audiences'), 'AzureAd:Audiences')]
    : [clientId, `api://${clientId}`, ...scopesOf(at(tree, 'AzureAd', 'Audiences'), 'AzureAd:Audiences')];
  const requiredScopes = scopesOf(at(tree, 'AzureAd', 'Scopes'), 'AzureAd:Scopes');
  const { credential, source } = credentialFrom(list(at(tree, 'AzureAd', 'ClientCredentials')), env);

  const apis = new Map<string, DownstreamApiProfile>();
  const section = at(tree, 'DownstreamApis');
  if (section !== undefined && (section === null || typeof section !== 'object'))
    throw new ConfigurationError('sidecar configuration: DownstreamApis must be an object of named APIs');
  for (const [name, api] of Object.entries((section ?? {}) as Tree)) {
    const where = `DownstreamApis:${name}`;
    if (api === null || typeof api !== 'object')
      throw new ConfigurationError(`sidecar configuration: ${where} must be an object`);
    const baseUrl = text(at(api, 'BaseUrl'), `${where}:BaseUrl`);
    if (baseUrl !== undefined) {
      let u: URL;
      try {
        u = new URL(baseUrl);
      } catch {
        throw new ConfigurationError(`sidecar configuration: ${where}:BaseUrl must be an absolute URL`);
      }
      if (u.protocol !== 'https:' && u.protocol !== 'http:')
        throw new ConfigurationError(`sidecar configuration: ${where}:BaseUrl must be http(s)`);
    }
    const method = (text(at(api, 'HttpMethod'), `${where}:HttpMethod`) ?? 'GET').toUpperCase();
    if (!/^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)$/.test(method))
      throw new ConfigurationError(
        `sidecar configuration: ${where}:HttpMethod '${method.slice(0, 10)}' is not supported`,
      );
    const accept = text(at(api, 'AcceptHeader'), `${where}:AcceptHeader`);
    const contentType = text(at(api, 'ContentType'), `${where}:ContentType`);
    apis.set(name.toLowerCase(), {
      name,
      ...(baseUrl !== undefined ? { baseUrl } : {}),
      relativePath: text(at(api, 'RelativePath'), `${where}:RelativePath`) ?? '',
      scopes: scopesOf(at(api, 'Scopes'), `${where}:Scopes`),
      requestAppToken: bool(at(api, 'RequestAppToken'), `${where}:RequestAppToken`, false),
      httpMethod: method,
      ...(accept ? { acceptHeader: accept } : {}),
      ...(contentType ? { contentType } : {}),
    });
  }

  const o = at(tree, 'Sidecar', 'AllowOverrides');
  const allowOverrides: AllowOverrides = {
    getAuthorizationHeader: bool(
      at(o, 'GetAuthorizationHeader'),
      'Sidecar:AllowOverrides:GetAuthorizationHeader',
      true,
    ),
    getAuthorizationHeaderUnauthenticated: bool(
      at(o, 'GetAuthorizationHeaderUnauthenticated'),
      'Sidecar:AllowOverrides:GetAuthorizationHeaderUnauthenticated',
      false,
    ),
    callDownstreamApi: bool(at(o, 'CallDownstreamApi'), 'Sidecar:AllowOverrides:CallDownstreamApi', true),
    callDownstreamApiUnauthenticated: bool(
      at(o, 'CallDownstreamApiUnauthenticated'),
      'Sidecar:AllowOverrides:CallDownstreamApiUnauthenticated',
      false,
    ),
  };

  const port = Number(text(at(tree, 'AgentId', 'Listen', 'Port'), 'AgentId:Listen:Port') ?? 5178);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigurationError('sidecar configuration: AgentId:Listen:Port must be a port number');
  const socket = text(at(tree, 'AgentId', 'Listen', 'Socket'), 'AgentId:Listen:Socket');
  const timeout = Number(
    text(at(tree, 'AgentId', 'DownstreamTimeoutMs'), 'AgentId:DownstreamTimeoutMs') ?? 30_000,
  );
  if (!(timeout > 0))
    throw new ConfigurationError('sidecar configuration: AgentId:DownstreamTimeoutMs must be positive');

  let redis: SidecarConfig['redis'];
  const redisUrl = text(at(tree, 'AgentId', 'Redis', 'Url'), 'AgentId:Redis:Url');
  if (redisUrl) {
    const keys: Record<string, string> = {};
    const single = text(at(tree, 'AgentId', 'Redis', 'EncryptionKey'), 'AgentId:Redis:EncryptionKey');
    const singleId = text(at(tree, 'AgentId', 'Redis', 'KeyId'), 'AgentId:Redis:KeyId') ?? 'k1';
    if (single) keys[singleId] = single;
    const many = at(tree, 'AgentId', 'Redis', 'Keys');
    if (many !== null && typeof many === 'object')
      for (const [id, v] of Object.entries(many)) keys[id] = text(v, `AgentId:Redis:Keys:${id}`) ?? '';
    const currentKeyId =
      text(at(tree, 'AgentId', 'Redis', 'CurrentKeyId'), 'AgentId:Redis:CurrentKeyId') ??
      (single ? singleId : Object.keys(keys)[0]);
    if (!currentKeyId || Object.keys(keys).length === 0)
      throw new ConfigurationError(
        'sidecar configuration: AgentId:Redis:EncryptionKey (32 bytes, base64) is required with AgentId:Redis:Url: tokens in Redis are always encrypted',
      );
    redis = new RedisSettings(
      redisUrl,
      text(at(tree, 'AgentId', 'Redis', 'Namespace'), 'AgentId:Redis:Namespace') ??
        `agentid-sidecar-${clientId.toLowerCase()}`.slice(0, 64),
      currentKeyId,
      keys,
    );
  }
  const allowedHosts = listOf(
    at(tree, 'AgentId', 'AllowedHosts'),
    'AgentId:AllowedHosts',
    (h) => parseHost(h) !== undefined,
    "host names or 'name:port' (no wildcards)",
  );
  const agentsNode = at(tree, 'AgentId', 'AllowedAgentIdentities');
  const allowedAgents =
    agentsNode === undefined
      ? undefined
      : listOf(
          agentsNode,
          'AgentId:AllowedAgentIdentities',
          (a) => GUID.test(a),
          'agent identity client ids (GUIDs)',
        ).map((a) => a.toLowerCase());
  const tenantsNode = at(tree, 'AgentId', 'AllowedTenants');
  const allowedTenants =
    tenantsNode === undefined
      ? undefined
      : tenantsNode === '*'
        ? ('*' as const)
        : listOf(
            tenantsNode,
            'AgentId:AllowedTenants',
            (t) => GUID.test(t),
            "tenant ids (GUIDs), or '*'",
          ).map((t) => t.toLowerCase());
  const exchangeAudience = text(at(tree, 'AgentId', 'ExchangeAudience'), 'AgentId:ExchangeAudience');
  const unknownTtl = Number(
    text(at(tree, 'AgentId', 'UnknownAgentCacheSeconds'), 'AgentId:UnknownAgentCacheSeconds') ?? 60,
  );
  if (!(unknownTtl >= 0 && unknownTtl <= 86_400))
    throw new ConfigurationError(
      'sidecar configuration: AgentId:UnknownAgentCacheSeconds must be between 0 and 86400',
    );
  const unknownMax = Number(
    text(at(tree, 'AgentId', 'UnknownAgentCacheSize'), 'AgentId:UnknownAgentCacheSize') ?? 10_000,
  );
  if (!Number.isInteger(unknownMax) || unknownMax < 1 || unknownMax > 1_000_000)
    throw new ConfigurationError(
      'sidecar configuration: AgentId:UnknownAgentCacheSize must be an integer between 1 and 1000000',
    );

  return {
    tenantId,
    clientId,
    authorityHost,
    audiences,
    requiredScopes,
    credential,
    credentialSource: source,
    downstreamApis: apis,
    allowOverrides,
    allowOutboundRedirects: bool(
      at(tree, 'Sidecar', 'AllowOutboundRedirects'),
      'Sidecar:AllowOutboundRedirects',
      false,
    ),
    listen: {
      host: text(at(tree, 'AgentId', 'Listen', 'Host'), 'AgentId:Listen:Host') ?? '127.0.0.1',
      port,
      ...(socket ? { socket } : {}),
    },
    allowRemoteCallers: bool(at(tree, 'AgentId', 'AllowRemoteCallers'), 'AgentId:AllowRemoteCallers', false),
    allowedHosts,
    ...(allowedAgents ? { allowedAgentIdentities: allowedAgents } : {}),
    ...(allowedTenants ? { allowedTenants } : {}),
    ...(exchangeAudience ? { exchangeAudience } : {}),
    unknownAgentCache: { ttlMs: unknownTtl * 1000, maxEntries: unknownMax },
    ...(redis ? { redis } : {}),
    downstreamTimeoutMs: timeout,
  };
}
