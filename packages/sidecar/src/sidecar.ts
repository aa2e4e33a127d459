import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { chmod, rm } from 'node:fs/promises';
import { inspect } from 'node:util';
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type TracerProvider,
} from '@opentelemetry/api';
import {
  type AccessToken,
  type Blueprint,
  type Clock,
  createBlueprint,
  type L2Cache,
  type Logger,
  TokenValidationError,
} from '@agentid/core';
import { brokerOf, createMemo, systemClock } from '@agentid/core/broker';
import { agentUser } from '@agentid/agent-user';
import {
  authorizationHeaderOf,
  createTokenValidator,
  onBehalfOf,
  parseAuthorizationHeader,
  type Principal,
  type TokenValidator,
} from '@agentid/obo';
import { createAgentGate } from './agent-gate.js';
import type { DownstreamApiProfile, SidecarConfig } from './config.js';
import { callDownstream, HttpProblem } from './downstream.js';
import { bodyProblem, browserProblem, isLoopback } from './local.js';
import { NO_CACHE, type Problem, problem, problemFromError, sendProblem } from './problem.js';
import { sendAuthorizationHeader, sendJson } from './respond.js';
import { lazyL2, requireInstalled } from './optional.js';
import { downstreamUrl, type ParsedRequest, parseRequest, type RouteName } from './request.js';

/**
 * Options of {@link createSidecar} that are not configuration: injection points for tests and
 * embedding.
 *
 * @example
 * ```ts
 * const sidecar = createSidecar(config, { logger: pino(), tracerProvider });
 * ```
 */
export interface SidecarOptions {
  /** fetch for the token endpoint and JWKS (default: global fetch). */
  fetch?: typeof fetch;
  /** fetch for `/DownstreamApi` calls (default: global fetch). */
  downstreamFetch?: typeof fetch;
  tracerProvider?: TracerProvider;
  /** One line per request (method, route, API, status, duration: never a query string or token). */
  logger?: Logger;
  /** An L2 of your own instead of `AgentId:Redis`. */
  l2?: L2Cache;
  /** Resolves an optional package by name (`@agentid/redis` when Redis is configured). Default: `require.resolve`. */
  resolveOptional?: (name: string) => unknown;
  /** Largest accepted request body for `/DownstreamApi`. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Largest downstream response relayed; a larger one is cut off at the limit (502). Default 10 MiB. */
  maxResponseBytes?: number;
  /** The sidecar's own clock (how long an unknown agent id is remembered). Default the system clock. */
  clock?: Clock;
}

/**
 * A running (or ready to run) sidecar.
 *
 * @example
 * ```ts
 * const sidecar = createSidecar(loadSidecarConfig({ file: 'appsettings.json' }));
 * const { url } = await sidecar.listen();
 * process.on('SIGTERM', () => void sidecar.close());
 * ```
 */
export interface Sidecar {
  readonly blueprint: Blueprint;
  readonly config: SidecarConfig;
  /** The request listener, to mount in a server of your own. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Listens on `AgentId:Listen` (loopback port 5178 by default, or a Unix socket). */
  listen(): Promise<{ url?: string; socket?: string }>;
  /** Stops accepting, lets requests in flight finish (up to `graceMs`), closes Redis. */
  close(graceMs?: number): Promise<void>;
}

interface RouteEntry {
  route: RouteName | 'Validate' | 'healthz';
  method: string;
  authenticated: boolean;
}

/**
 * What a request target (path and query) resolves to, before anything of the request but its
 * target is looked at: a problem found before the method is (not found, a bad URL), or the route
 * with, for the token routes, the API profile and the parsed query, or the problem with them
 * (answered only after the caller is authenticated, as without the memo).
 */
type Routed =
  | { problem: Problem }
  | {
      entry: RouteEntry;
      httpRoute: string;
      late?: Problem;
      api?: DownstreamApiProfile;
      parsed?: ParsedRequest;
    };

const ROUTES = new Map<string, RouteEntry>([
  ['validate', { route: 'Validate', method: 'GET', authenticated: true }],
  ['healthz', { route: 'healthz', method: 'GET', authenticated: false }],
  ['authorizationheader', { route: 'AuthorizationHeader', method: 'GET', authenticated: true }],
  [
    'authorizationheaderunauthenticated',
    { route: 'AuthorizationHeaderUnauthenticated', method: 'GET', authenticated: false },
  ],
  ['downstreamapi', { route: 'DownstreamApi', method: 'POST', authenticated: true }],
  [
    'downstreamapiunauthenticated',
    { route: 'DownstreamApiUnauthenticated', method: 'POST', authenticated: false },
  ],
]);
const EXCHANGE_SCOPE = /^api:\/\/azureadtokenexchange[a-z]*\/\.default$/i;
const NO_OPTIONS = Object.freeze({});
const noopLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Creates the sidecar: Microsoft's Entra SDK for AgentID contract (`/Validate`,
 * `/AuthorizationHeader[Unauthenticated]/{api}`, `/DownstreamApi[Unauthenticated]/{api}`,
 * `/healthz`) on agentid's broker, failing closed where Microsoft's only warns.
 *
 * @example
 * ```ts
 * const sidecar = createSidecar(loadSidecarConfig({ env: process.env }));
 * await sidecar.listen(); // http://127.0.0.1:5178
 * ```
 */
export function createSidecar(config: SidecarConfig, options: SidecarOptions = {}): Sidecar {
  const logger = options.logger ?? noopLogger;
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer('@agentid/sidecar');
  // @agentid/redis (and redis) is an optional peer: checked now, imported only when configured.
  const redis = options.l2 === undefined ? config.redis : undefined;
  if (redis)
    requireInstalled('@agentid/redis', 'sidecar configuration: AgentId:Redis', options.resolveOptional);
  const ownedL2 = redis
    ? lazyL2(
        import('@agentid/redis').then(({ createRedisL2 }) =>
          createRedisL2({
            url: redis.url,
            namespace: redis.namespace,
            encryption: { currentKeyId: redis.currentKeyId, keys: redis.keys },
          }),
        ),
      )
    : undefined;
  const l2 = options.l2 ?? ownedL2;
  const blueprint = createBlueprint({
    tenantId: config.tenantId,
    clientId: config.clientId,
    credential: config.credential,
    authorityHost: config.authorityHost,
    ...(config.allowedTenants ? { allowedTenants: config.allowedTenants } : {}),
    ...(config.exchangeAudience ? { exchangeAudience: config.exchangeAudience } : {}),
    ...(options.fetch ? { network: { fetch: options.fetch } } : {}),
    ...(l2 ? { cache: { l2 } } : {}),
    telemetry: { logger, ...(options.tracerProvider ? { tracerProvider: options.tracerProvider } : {}) },
  });
  const validator: TokenValidator = createTokenValidator({
    tenantId: config.tenantId,
    audiences: config.audiences,
    authorityHost: config.authorityHost,
    // Users of every tenant served (each token with its own tenant's issuer).
    allowedTenants: (tid) => blueprint.allowsTenant(tid),
    // No particular scope on the token routes (a caller token with any scope of this app, or an app
    // token with any role, may call); /Validate checks AzureAd:Scopes when set. Never an empty
    // token: see authenticate().
    requiredScopes: [],
    ...(options.fetch ? { jwks: { fetch: options.fetch } } : {}),
  });
  const tenants = { home: config.tenantId, allows: (t: string) => blueprint.allowsTenant(t) };
  const downstreamFetch = options.downstreamFetch ?? globalThis.fetch;
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  const maxResponse = options.maxResponseBytes ?? 10 * 1024 * 1024;
  const gate = createAgentGate({
    allowed: config.allowedAgentIdentities,
    ttlMs: config.unknownAgentCache.ttlMs,
    maxEntries: config.unknownAgentCache.maxEntries,
    clock: options.clock ?? systemClock,
  });
  /** {@link Routed} of a request target: a pure function of the target and the configuration. */
  function resolveTarget(target: string): Routed {
    let url: URL;
    try {
      url = new URL(target, 'http://sidecar');
    } catch {
      return { problem: problem(400, 'The request target is not a valid URL.', 'AGENTID_INVALID_REQUEST') };
    }
    const segments = url.pathname.split('/').filter(Boolean);
    const entry = ROUTES.get((segments[0] ?? '').toLowerCase());
    const needsApi = entry !== undefined && entry.route !== 'Validate' && entry.route !== 'healthz';
    if (entry === undefined || segments.length !== (needsApi ? 2 : 1))
      return { problem: problem(404, 'No such endpoint.', 'AGENTID_NOT_FOUND') };
    const httpRoute = needsApi ? `/${entry.route}/{apiName}` : `/${entry.route}`;
    if (!needsApi) return { entry, httpRoute };
    let apiName: string;
    try {
      apiName = decodeURIComponent(segments[1]!);
    } catch {
      return {
        entry,
        httpRoute,
        late: problem(400, 'The API name is not valid.', 'AGENTID_INVALID_REQUEST'),
      };
    }
    const api = config.downstreamApis.get(apiName.toLowerCase());
    if (api === undefined)
      return {
        entry,
        httpRoute,
        late: problem(400, `Not able to resolve '${apiName.slice(0, 100)}'.`, 'AGENTID_INVALID_REQUEST'),
      };
    const parsed = parseRequest(
      url.searchParams,
      entry.route as RouteName,
      api,
      config.allowOverrides,
      tenants,
    );
    return 'status' in parsed ? { entry, httpRoute, api, late: parsed } : { entry, httpRoute, api, parsed };
  }
  // Apps ask with the same few targets over and over: parsing them once each keeps URL parsing and
  // query checks off the hit path. Bounded (a caller sending ever new targets only rotates it), and
  // targets longer than any real one are not kept.
  const routes = createMemo<string, Routed>({
    maxEntries: 1024,
    maxBytes: 4 * 1024 * 1024,
    sizeOf: (target) => 2 * target.length + 1024,
  });
  function routeOf(target: string): Routed {
    let routed = routes.get(target);
    if (routed === undefined) {
      routed = resolveTarget(target);
      if (target.length <= 4096) routes.set(target, routed);
    }
    return routed;
  }

  // Connections accepted on the sidecar's own Unix socket: local by construction (no browser can reach one).
  const unixConnections = new WeakSet<Socket>();

  async function authenticate(
    req: IncomingMessage,
    requiredScopes: readonly string[] = [],
  ): Promise<{ token: string; principal: Principal }> {
    const token = parseAuthorizationHeader(authorizationHeaderOf(req));
    const principal = await validator.validate(token, requiredScopes.length ? { requiredScopes } : {});
    // Fail closed, as Microsoft.Identity.Web does unless told to trust ACLs (IDW10201): a token with
    // neither a scope nor an app role grants nothing (any app in the tenant can get one for this
    // audience), yet /Validate would vouch for it and RequestAppToken would hand out the blueprint's
    // token. @agentid/obo refuses such tokens too when no scope is required; this keeps the sidecar
    // closed whatever the validator's defaults.
    if (principal.scopes.length === 0 && principal.roles.length === 0) {
      throw new TokenValidationError(
        'AGENTID_INSUFFICIENT_SCOPE',
        'The token carries neither a delegated scope (scp) nor an app role (roles).',
      );
    }
    return { token, principal };
  }

  /** The token the request asks for: the flow follows from the parameters and the caller's token. */
  async function tokenFor(
    p: ParsedRequest,
    caller: { token: string; principal: Principal } | undefined,
    span: ReturnType<typeof tracer.startSpan>,
  ): Promise<AccessToken> {
    const opts =
      p.forceRefresh || p.claims
        ? { ...(p.forceRefresh ? { forceRefresh: true } : {}), ...(p.claims ? { claims: p.claims } : {}) }
        : NO_OPTIONS;
    // The agent's tenant: the Tenant override, else (OBO) the caller's, else the home tenant.
    const obo = caller !== undefined && !p.requestAppToken;
    const tenantId =
      p.tenantId ?? (obo && caller.principal.tid !== config.tenantId ? caller.principal.tid : undefined);
    span.setAttribute('agentid.tenant.id', tenantId ?? config.tenantId);
    if (p.correlationId) span.setAttribute('agentid.correlation.id', p.correlationId);
    if (p.agentIdentity !== undefined) {
      const agent = blueprint.agent(p.agentIdentity, tenantId !== undefined ? { tenantId } : undefined);
      span.setAttribute('agentid.agent.id', p.agentIdentity);
      if (p.agentUsername !== undefined || p.agentUserId !== undefined) {
        span.setAttribute('agentid.flow', 'agent_user');
        const ref = p.agentUserId !== undefined ? { objectId: p.agentUserId } : { upn: p.agentUsername! };
        return agentUser(agent, ref).getToken(p.scopes, opts);
      }
      if (caller !== undefined && !p.requestAppToken) {
        span.setAttribute('agentid.flow', 'agent_obo');
        span.setAttribute('agentid.user.id', caller.principal.oid);
        return onBehalfOf(agent, caller.token, p.scopes, { ...opts, principal: caller.principal });
      }
      if (p.scopes.length === 1 && EXCHANGE_SCOPE.test(p.scopes[0]!) && !p.requestAppToken) {
        // The blueprint's exchange token for this agent (leg 1): what agents-hosting's
        // getAgenticApplicationToken asks the 'agenticblueprint' profile for.
        span.setAttribute('agentid.flow', 'agent_exchange');
        return brokerOf(agent).exchangeToken(opts);
      }
      span.setAttribute('agentid.flow', 'agent_app');
      return agent.getToken(p.scopes, opts);
    }
    if (caller !== undefined && !p.requestAppToken) {
      throw new HttpProblem(
        400,
        'On-behalf-of as the blueprint itself is not supported: pass AgentIdentity (agent OBO), or optionsOverride.RequestAppToken=true for the app identity.',
        'AGENTID_INVALID_REQUEST',
      );
    }
    if (p.scopes.length !== 1 || !/\/\.default$/i.test(p.scopes[0]!)) {
      throw new HttpProblem(
        400,
        "An app token takes exactly one scope of the form '<resource>/.default'.",
        'AGENTID_INVALID_SCOPE',
      );
    }
    span.setAttribute('agentid.flow', 'app');
    return blueprint.getAppToken(p.scopes, tenantId !== undefined ? { ...opts, tenantId } : opts);
  }

  /** Where a /DownstreamApi call goes, checked before any token is acquired for it. */
  function targetOf(api: DownstreamApiProfile, p: ParsedRequest): URL {
    if (api.baseUrl === undefined)
      throw new HttpProblem(
        400,
        `The API '${api.name}' has no BaseUrl: it only issues authorization headers.`,
        'AGENTID_INVALID_REQUEST',
      );
    const url = downstreamUrl(api.baseUrl, p.relativePath);
    if (url === undefined)
      throw new HttpProblem(
        400,
        'optionsOverride.RelativePath must stay under the configured BaseUrl.',
        'AGENTID_INVALID_REQUEST',
      );
    return url;
  }

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    span: ReturnType<typeof tracer.startSpan>,
    info: { route?: string; api?: string },
  ): Promise<void> {
    const unixSocket = unixConnections.has(req.socket);
    if (
      !config.allowRemoteCallers &&
      !unixSocket &&
      !isLoopback(req.socket.remoteAddress) &&
      !/^\/healthz\/?(\?|$)/i.test(req.url ?? '')
    ) {
      return sendProblem(res, problem(403, 'Only local callers are served.', 'AGENTID_FORBIDDEN'));
    }
    // DNS rebinding and cross-site requests from a browser on this host: refused before routing.
    const browser = browserProblem(req, config.allowedHosts, unixSocket);
    if (browser) return sendProblem(res, browser);
    const routed = routeOf(req.url ?? '/');
    if ('problem' in routed) return sendProblem(res, routed.problem);
    const { entry } = routed;
    info.route = entry.route;
    span.updateName(`sidecar ${entry.route}`);
    span.setAttribute('http.route', routed.httpRoute);
    if (req.method !== entry.method && !(entry.route === 'healthz' && req.method === 'HEAD')) {
      return sendProblem(
        res,
        problem(405, `${entry.route} accepts ${entry.method} only.`, 'AGENTID_INVALID_REQUEST'),
        { allow: entry.method },
      );
    }
    if (entry.route === 'healthz') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', ...NO_CACHE });
      return void res.end('Healthy');
    }
    if (entry.method === 'POST') {
      const body = bodyProblem(req);
      if (body) return sendProblem(res, body);
    }
    const caller = entry.authenticated
      ? await authenticate(req, entry.route === 'Validate' ? config.requiredScopes : [])
      : undefined;
    if (caller) span.setAttribute('agentid.caller.id', caller.principal.oid);
    if (entry.route === 'Validate') {
      const payload = JSON.parse(
        Buffer.from(caller!.token.split('.')[1]!, 'base64url').toString('utf8'),
      ) as unknown;
      return sendJson(res, 200, { protocol: 'Bearer', token: caller!.token, claims: payload });
    }
    if (routed.late) return sendProblem(res, routed.late);
    // A token route without a late problem has both (resolveTarget).
    const api = routed.api!;
    const parsed = routed.parsed!;
    info.api = api.name;
    span.setAttribute('agentid.sidecar.api', api.name);
    if (parsed.agentIdentity !== undefined) {
      const refused = gate.check(parsed.agentIdentity);
      if (refused) return sendProblem(res, refused);
    }
    if (entry.route === 'AuthorizationHeader' || entry.route === 'AuthorizationHeaderUnauthenticated') {
      return sendAuthorizationHeader(res, await tokenOf(parsed, caller, span));
    }
    const target = targetOf(api, parsed);
    const token = await tokenOf(parsed, caller, span);
    const call = {
      fetch: downstreamFetch,
      timeoutMs: config.downstreamTimeoutMs,
      followRedirects: config.allowOutboundRedirects,
      maxBodyBytes: maxBody,
      maxResponseBytes: maxResponse,
    };
    return sendJson(res, 200, await callDownstream(req, api, parsed, target, token, call));
  }

  /** {@link tokenFor}, remembering agent ids the token endpoint does not know. */
  async function tokenOf(
    p: ParsedRequest,
    caller: { token: string; principal: Principal } | undefined,
    span: ReturnType<typeof tracer.startSpan>,
  ): Promise<AccessToken> {
    try {
      return await tokenFor(p, caller, span);
    } catch (error) {
      if (p.agentIdentity !== undefined) gate.observe(p.agentIdentity, error);
      throw error;
    }
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    const info: { route?: string; api?: string } = {};
    tracer.startActiveSpan(
      'sidecar request',
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? '' } },
      // The caller's trace context, read by the configured propagators: this span is its child.
      propagation.extract(context.active(), req.headers),
      (span) => {
        handle(req, res, span, info)
          .catch((error: unknown) => {
            if (error instanceof HttpProblem)
              return sendProblem(res, problem(error.status, error.message, error.code));
            const { problem: p, headers } = problemFromError(error);
            if (p.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: p.code ?? 'error' });
            return sendProblem(res, p, headers);
          })
          .finally(() => {
            span.setAttribute('http.response.status_code', res.statusCode);
            span.end();
            if (logger === noopLogger) return;
            const ms = (performance.now() - started).toFixed(1);
            logger.info(
              `sidecar ${req.method} ${info.route ?? '-'}${info.api ? ` ${info.api}` : ''} ${res.statusCode} ${ms}ms`,
            );
          });
      },
    );
  };

  let server: Server | undefined;
  const sidecar: Sidecar = {
    blueprint,
    config,
    handler,
    async listen() {
      if (server) throw new Error('sidecar: already listening');
      // A Redis L2 that failed to load fails the start, not silently every cache call.
      await ownedL2?.loaded;
      const s = createServer(handler);
      s.headersTimeout = 30_000;
      s.requestTimeout = 120_000;
      server = s;
      if (config.listen.socket) {
        await rm(config.listen.socket, { force: true });
        s.on('connection', (socket: Socket) => unixConnections.add(socket));
        await new Promise<void>((resolve, reject) =>
          s.once('error', reject).listen(config.listen.socket, resolve),
        );
        // Only this user (and root) may connect.
        await chmod(config.listen.socket, 0o600);
        return { socket: config.listen.socket };
      }
      await new Promise<void>((resolve, reject) =>
        s.once('error', reject).listen(config.listen.port, config.listen.host, resolve),
      );
      const a = s.address() as { address: string; port: number };
      const host = a.address.includes(':') ? `[${a.address}]` : a.address;
      return { url: `http://${host}:${a.port}` };
    },
    async close(graceMs = 10_000) {
      const s = server;
      server = undefined;
      if (s) {
        const closed = new Promise<void>((resolve) => s.close(() => resolve()));
        s.closeIdleConnections();
        const timer = setTimeout(() => s.closeAllConnections(), graceMs);
        timer.unref();
        await closed;
        clearTimeout(timer);
        if (config.listen.socket) await rm(config.listen.socket, { force: true });
      }
      await ownedL2?.close();
    },
  };
  // What a log line or a debugger needs (the configuration keeps its secrets private anyway).
  const summary = () => ({
    clientId: config.clientId,
    tenantId: config.tenantId,
    listening: server !== undefined,
  });
  Object.defineProperties(sidecar, { [inspect.custom]: { value: summary }, toJSON: { value: summary } });
  return sidecar;
}
