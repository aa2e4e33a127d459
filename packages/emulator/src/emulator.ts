import { randomBytes } from 'node:crypto';
import { createAdmin } from './admin.js';
import { type Clock, issuerV2, tokenEndpoint, type EmulatorContext } from './context.js';
import { type CaFile, writeCaFile } from './crypto/certs.js';
import { KeySet } from './crypto/keys.js';
import { Directory } from './directory/directory.js';
import { defaultSeed, loadSeedFile } from './directory/seed.js';
import type { DirectorySeed } from './directory/types.js';
import { Counters } from './http/counters.js';
import { Faults } from './http/faults.js';
import {
  createInProcessFetch,
  createEmulatorNetworkModule,
  type EmulatorNetworkModule,
} from './http/fetch.js';
import { type GraphSettings, Replication } from './graph/replication.js';
import { createRouter } from './http/router.js';
import { close, createTls, listen, type Listening, type Tls } from './http/server.js';
import type { EmuRequest, EmuResponse } from './http/types.js';
import { EXCHANGE_AUDIENCE } from './ids.js';
import { instanceDiscovery, openIdConfiguration } from './oauth/discovery.js';
import { issueAccessToken } from './oauth/issue.js';
import { parseScopes } from './oauth/scopes.js';
import {
  DEFAULT_REFRESH_TOKEN_LIFETIME_SEC,
  DEFAULT_REFRESH_TOKEN_MAX_AGE_SEC,
  revokeSignInSessions,
} from './oauth/refresh-token.js';
import { type ConditionalAccess, createConditionalAccess } from './policy/conditional-access.js';

/** Options of {@link createEmulator}. */
export interface EmulatorOptions {
  /** The directory: a seed object, or the path of a JSON/YAML seed file. Default: the demo tenant ({@link DEMO}). */
  seed?: DirectorySeed | string;
  /** The source of time (epoch ms) of everything the emulator issues and checks; inject one for tests. Default: the system clock. */
  clock?: Clock;
  /** Lifetime of issued access tokens, seconds. Default 3600. */
  tokenLifetimeSec?: number;
  /** Refresh tokens remembered (the oldest are forgotten beyond this). Default 10 000. */
  maxRefreshTokens?: number;
  /** Inactivity window of a refresh token, seconds: each redemption issues a new one (rotation). Default 86 400 (24 h). */
  refreshTokenLifetimeSec?: number;
  /** Maximum age of a refresh token's session, seconds from its first grant, kept across rotations. Default 90 days. */
  refreshTokenMaxAgeSec?: number;
  /** `refresh_in` in token responses: 'half' (default), 'none' or seconds. */
  refreshIn?: 'half' | 'none' | number;
  /** Reject a reused certificate-assertion `jti`. Default false: MSAL Node reuses assertions. */
  strictJti?: boolean;
  /** Clock skew tolerated on incoming assertions, seconds. Default 300 (as Entra). */
  clockSkewSec?: number;
  /** Base URL used by the in-process fetch and network module. Default https://login.agentid.test. */
  inProcessBaseUrl?: string;
  /** Graph behaviour: replication lag after a create, a tenant quota (see {@link GraphSettings}). */
  graph?: Partial<GraphSettings>;
}

/** Where the emulator listens, once started with {@link Emulator.listen}. */
export interface ListenResult {
  httpsUrl: string | undefined;
  httpUrl: string | undefined;
  /** PEM of the CA that signed the HTTPS certificate (trust it, e.g. with NODE_EXTRA_CA_CERTS). */
  caPem: string | undefined;
  caPath: string | undefined;
}

/** Options of a user access token minted directly (a signed-in user's token for tests and demos). */
export interface UserTokenOptions {
  /** UPN or object id of a human user (or agent user). */
  user: string;
  /** Scopes, e.g. `['api://<blueprint>/access_agent']`. */
  scopes: string[];
  /** The client app the user signed in to (azp). Default: the first app of the tenant. */
  clientId?: string;
  tenantId?: string;
  lifetimeSec?: number;
  extraClaims?: Record<string, unknown>;
  baseUrl?: string;
}

/** A running Entra Agent ID emulator. */
export interface Emulator {
  readonly directory: Directory;
  readonly faults: Faults;
  readonly counters: Counters;
  /** Graph settings, changeable at run time (`emu.graph.replicationLag = 1`). */
  readonly graph: GraphSettings;
  /** Conditional Access policies and agent risk, changed at run time (also via `/_emulator/conditional-access`). */
  readonly conditionalAccess: ConditionalAccess;
  /** The base URL tokens name as issuer: the HTTPS URL once listening, else the in-process base. */
  readonly baseUrl: string;
  /** Handles one request (the shared in-process entry point). */
  handle(req: EmuRequest): Promise<EmuResponse>;
  /** `fetch` served in-process by the emulator. */
  readonly fetch: typeof fetch;
  /** MSAL Node network client served in-process. */
  readonly networkModule: EmulatorNetworkModule;
  /** Secret for the managed-identity endpoint (`IDENTITY_HEADER`). */
  readonly identityHeader: string;
  /** Serves over HTTPS (with its own CA) and/or HTTP on loopback. */
  listen(opts?: {
    host?: string;
    httpsPort?: number;
    httpPort?: number;
    https?: boolean;
    http?: boolean;
    caDir?: string;
  }): Promise<ListenResult>;
  /** Stops the servers started by `listen` and removes the CA folder it created (`caPath`; a `caDir` of yours keeps all but `ca.pem`). */
  close(): Promise<void>;
  /** Rotates the signing key; returns the new kid. */
  rotateKeys(opts?: { dropRetired?: boolean }): Promise<string>;
  /**
   * Revokes a user's refresh tokens, as Graph's `revokeSignInSessions` (or an admin) does: every
   * refresh token issued to anyone for that user until now is refused with AADSTS50173. Returns
   * how many were live. The user is an object id or a UPN.
   */
  revokeSignInSessions(user: string, tenantId?: string): number;
  /** A signed-in user's access token, minted directly (for tests and demos). */
  issueUserToken(opts: UserTokenOptions): Promise<string>;
  /** A token from an external issuer (workload identity, GitHub, ...), to use as a federated credential. */
  issueExternalToken(
    issuer: string,
    opts: { subject: string; audience?: string; lifetimeSec?: number; baseUrl?: string },
  ): Promise<string>;
  /** MSAL `auth` options that need no discovery call: authority, knownAuthorities and metadata. */
  msalAuthOptions(
    tenantId: string,
    baseUrl?: string,
  ): {
    authority: string;
    knownAuthorities: string[];
    authorityMetadata: string;
    cloudDiscoveryMetadata: string;
  };
  /** Token endpoint URL of a tenant. */
  tokenEndpoint(tenantId: string, baseUrl?: string): string;
  /** Endpoints and seeded ids, for printing. */
  describe(baseUrl?: string): Record<string, unknown>;
}

/**
 * Creates an emulator over a directory. It serves in-process at once; call `listen()` for
 * real HTTPS and HTTP servers on loopback.
 *
 * @example
 * ```ts
 * const emu = await createEmulator();            // the demo tenant
 * const { httpsUrl, caPath } = await emu.listen();
 * console.log(emu.counters.tokenRequests('leg1'));
 * await emu.close();
 * ```
 */
export async function createEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const seed =
    typeof options.seed === 'string' ? loadSeedFile(options.seed) : (options.seed ?? defaultSeed());
  if (options.clock !== undefined && (options.clock === null || typeof options.clock.now !== 'function'))
    throw new TypeError('clock must be an object with a now() method');
  const clock: Clock = options.clock ?? { now: () => Date.now() };
  const lifetime = options.tokenLifetimeSec ?? 3600;
  if (!(Number.isInteger(lifetime) && lifetime > 0))
    throw new TypeError('tokenLifetimeSec must be a positive integer');
  if (
    options.maxRefreshTokens !== undefined &&
    !(Number.isInteger(options.maxRefreshTokens) && options.maxRefreshTokens > 0)
  )
    throw new TypeError('maxRefreshTokens must be a positive integer');
  const graph = graphSettings(options.graph);
  const rtLifetime = options.refreshTokenLifetimeSec ?? DEFAULT_REFRESH_TOKEN_LIFETIME_SEC;
  const rtMaxAge = options.refreshTokenMaxAgeSec ?? DEFAULT_REFRESH_TOKEN_MAX_AGE_SEC;
  if (!(Number.isInteger(rtLifetime) && rtLifetime > 0))
    throw new TypeError('refreshTokenLifetimeSec must be a positive integer');
  if (!(Number.isInteger(rtMaxAge) && rtMaxAge > 0))
    throw new TypeError('refreshTokenMaxAgeSec must be a positive integer');
  const directory = new Directory(seed);
  const issuers = new Map<string, { issuer: string | undefined; keys: KeySet }>();
  for (const i of directory.externalIssuers)
    issuers.set(i.name, { issuer: i.issuer, keys: await KeySet.create({ clock }) });
  const ctx: EmulatorContext = {
    directory,
    keys: await KeySet.create({ clock }),
    issuers,
    clock,
    tokenLifetimeSec: lifetime,
    refreshIn: options.refreshIn ?? 'half',
    strictJti: options.strictJti ?? false,
    seenJti: new Map(),
    clockSkewSec: options.clockSkewSec ?? 300,
    refreshTokens: new Map(),
    maxRefreshTokens: options.maxRefreshTokens ?? 10_000,
    refreshTokenLifetimeSec: rtLifetime,
    refreshTokenMaxAgeSec: rtMaxAge,
    identityHeader: randomBytes(16).toString('hex'),
    graph,
    replication: new Replication(graph),
    conditionalAccess: createConditionalAccess(clock),
  };
  const faults = new Faults();
  const counters = new Counters();
  let self: Emulator | undefined;
  const handle = createRouter({ ctx, faults, counters, admin: createAdmin(() => self!) });
  const inProcessBase = (options.inProcessBaseUrl ?? 'https://login.agentid.test').replace(/\/$/, '');
  const servers: Listening[] = [];
  let tls: Tls | undefined;
  let caFile: CaFile | undefined;
  let httpsUrl: string | undefined;
  let httpUrl: string | undefined;

  const emu: Emulator = {
    directory,
    faults,
    counters,
    graph,
    conditionalAccess: ctx.conditionalAccess,
    get baseUrl() {
      return httpsUrl ?? inProcessBase;
    },
    handle,
    fetch: createInProcessFetch(handle),
    networkModule: createEmulatorNetworkModule(handle),
    identityHeader: ctx.identityHeader,
    async listen(listenOptions = {}) {
      const host = listenOptions.host ?? '127.0.0.1';
      let caPath: string | undefined;
      if (listenOptions.https !== false) {
        tls ??= createTls();
        const s = await listen(handle, { protocol: 'https', host, port: listenOptions.httpsPort ?? 0, tls });
        servers.push(s);
        httpsUrl = s.url;
        caFile ??= writeCaFile(tls.ca.certPem, listenOptions.caDir);
        caPath = caFile.path;
      }
      if (listenOptions.http !== false) {
        const s = await listen(handle, { protocol: 'http', host, port: listenOptions.httpPort ?? 0 });
        servers.push(s);
        httpUrl = s.url;
      }
      return { httpsUrl, httpUrl, caPem: tls?.ca.certPem, caPath };
    },
    async close() {
      await Promise.all(servers.splice(0).map((s) => close(s.server)));
      // The CA folder it created goes with the servers (a caller's caDir keeps everything but ca.pem).
      caFile?.remove();
      caFile = undefined;
      httpsUrl = undefined;
      httpUrl = undefined;
    },
    rotateKeys: (rotateOptions) => ctx.keys.rotate(rotateOptions),
    revokeSignInSessions(user, tenantId) {
      const tenant = tenantId ? directory.tenant(tenantId) : directory.tenants.values().next().value;
      if (!tenant) throw new TypeError(`unknown tenant ${tenantId ?? ''}`);
      const found =
        tenant.users.get(user) ?? tenant.agentUsers.get(user) ?? directory.findUserByUpn(tenant, user);
      if (!found) throw new TypeError(`unknown user ${user}`);
      return revokeSignInSessions(ctx, tenant, found.id);
    },
    async issueUserToken(request) {
      const tenant = request.tenantId
        ? directory.tenant(request.tenantId)
        : directory.tenants.values().next().value;
      if (!tenant) throw new TypeError(`unknown tenant ${request.tenantId ?? ''}`);
      const user =
        tenant.users.get(request.user) ??
        tenant.agentUsers.get(request.user) ??
        directory.findUserByUpn(tenant, request.user);
      if (!user) throw new TypeError(`unknown user ${request.user}`);
      const clientId = request.clientId ?? tenant.apps.keys().next().value;
      if (!clientId) throw new TypeError('clientId is required: the tenant has no app');
      const parsed = parseScopes(directory, tenant, request.scopes.join(' '));
      if (!parsed.resource) throw new TypeError('scopes must name a resource');
      const resource = parsed.resource;
      const scp = parsed.isDefault ? [...resource.scopes] : parsed.values;
      const t = await issueAccessToken(ctx, {
        base: (request.baseUrl ?? emu.baseUrl).replace(/\/$/, ''),
        tenant,
        resource,
        idtyp: 'user',
        oid: user.id,
        azp: clientId,
        azpacr: '0',
        scp,
        upn: user.userPrincipalName,
        name: user.displayName,
        ...(request.lifetimeSec ? { lifetimeSec: request.lifetimeSec } : {}),
        ...(request.extraClaims ? { extra: request.extraClaims } : {}),
      });
      return t.accessToken;
    },
    async issueExternalToken(name, request) {
      const iss = issuers.get(name);
      if (!iss) throw new TypeError(`unknown external issuer '${name}'`);
      const t = Math.floor(clock.now() / 1000);
      const base = (request.baseUrl ?? emu.baseUrl).replace(/\/$/, '');
      return iss.keys.sign({
        iss: iss.issuer ?? `${base}/_issuers/${name}`,
        sub: request.subject,
        aud: request.audience ?? EXCHANGE_AUDIENCE,
        iat: t,
        nbf: t,
        exp: t + (request.lifetimeSec ?? 3600),
        jti: randomBytes(8).toString('hex'),
      });
    },
    msalAuthOptions(tenantId, baseUrl = emu.baseUrl) {
      return {
        authority: `${baseUrl}/${tenantId}`,
        knownAuthorities: [new URL(baseUrl).host],
        authorityMetadata: JSON.stringify(openIdConfiguration(baseUrl, tenantId, false)),
        cloudDiscoveryMetadata: JSON.stringify(instanceDiscovery(baseUrl)),
      };
    },
    tokenEndpoint: (tenantId, baseUrl = emu.baseUrl) => tokenEndpoint(baseUrl, tenantId),
    describe(baseUrl = emu.baseUrl) {
      return {
        baseUrl,
        tenants: [...directory.tenants.values()].map((t) => ({
          id: t.id,
          domain: t.domain,
          issuer: issuerV2(baseUrl, t.id),
          tokenEndpoint: tokenEndpoint(baseUrl, t.id),
          jwksUri: `${baseUrl}/${t.id}/discovery/v2.0/keys`,
          blueprints: [...t.blueprints.values()].map((b) => ({
            appId: b.appId,
            displayName: b.displayName,
            identifierUri: b.identifierUri,
            principalId: b.principalId,
            enabled: b.enabled,
          })),
          agents: [...t.agents.values()]
            .filter((a) => !a.deleted)
            .map((a) => ({
              id: a.id,
              displayName: a.displayName,
              blueprintAppId: a.blueprintAppId,
              enabled: a.enabled,
            })),
          agentUsers: [...t.agentUsers.values()].map((u) => ({
            id: u.id,
            userPrincipalName: u.userPrincipalName,
            identityParentId: u.identityParentId,
          })),
          users: [...t.users.values()].map((u) => ({ id: u.id, userPrincipalName: u.userPrincipalName })),
          resources: [...t.resources.values()].map((r) => ({
            appId: r.appId,
            identifierUri: r.identifierUri,
            scopes: [...r.scopes],
            appRoles: [...r.appRoles],
          })),
        })),
        managedIdentityEndpoint: `${baseUrl}/_mi/token`,
        externalIssuers: [...issuers.entries()].map(([name, i]) => ({
          name,
          issuer: i.issuer ?? `${baseUrl}/_issuers/${name}`,
        })),
      };
    },
  };
  self = emu;
  return emu;
}

function graphSettings(o: Partial<GraphSettings> | undefined): GraphSettings {
  if (o !== undefined && (o === null || typeof o !== 'object'))
    throw new TypeError('graph must be an object');
  const lag = o?.replicationLag ?? 0;
  if (!(Number.isInteger(lag) && lag >= 0))
    throw new TypeError('graph.replicationLag must be a non-negative integer');
  const quota = o?.directoryQuota;
  if (quota !== undefined && !(Number.isInteger(quota) && quota > 0))
    throw new TypeError('graph.directoryQuota must be a positive integer');
  return { replicationLag: lag, directoryQuota: quota };
}
