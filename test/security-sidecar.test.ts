// The sidecar against hostile callers, over real HTTP on loopback with the emulator behind it: a
// browser page on the same host (DNS rebinding, cross-site posts, another localhost port), a
// downstream API that answers without end, token failures that must not look like outages, secrets
// in inspected objects, random agent ids, and empty app tokens.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { SidecarAuthProvider } from '@microsoft/agents-hosting';
import { createCertificate, createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createSidecar,
  isLoopbackHost,
  loadSidecarConfig,
  type Sidecar,
  type SidecarOptions,
} from '@agentid/sidecar';

const W = DEMO.blueprints.workers;
const A = DEMO.agents;
const AU = DEMO.agentUsers.digitalWorker;
let emu: Emulator;
let api: Server;
let apiUrl: string;
let apiHits = 0;
const sidecars: Sidecar[] = [];
const servers: Server[] = [];

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    AzureAd__Instance: emu.baseUrl,
    AzureAd__TenantId: DEMO.tenantId,
    AzureAd__ClientId: W.appId,
    AzureAd__ClientCredentials__0__SourceType: 'ClientSecret',
    AzureAd__ClientCredentials__0__ClientSecret: W.secret,
    DownstreamApis__tools__BaseUrl: `${apiUrl}/v1/`,
    DownstreamApis__tools__Scopes__0: 'api://tools/.default',
    DownstreamApis__mail__Scopes__0: 'api://tools/Mail.Read',
    Sidecar__AllowOverrides__GetAuthorizationHeaderUnauthenticated: 'true',
    Sidecar__AllowOverrides__CallDownstreamApiUnauthenticated: 'true',
    AgentId__Listen__Port: '0',
    ...extra,
  };
}

async function start(
  extra: Record<string, string> = {},
  options: SidecarOptions = {},
): Promise<{ url: string; port: number; sidecar: Sidecar }> {
  const sidecar = createSidecar(loadSidecarConfig({ env: env(extra) }), { fetch: emu.fetch, ...options });
  sidecars.push(sidecar);
  const { url } = await sidecar.listen();
  return { url: url ?? '', port: url ? Number(new URL(url).port) : 0, sidecar };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, unknown>;
  text: string;
}

/** A raw HTTP/1.1 request (fetch would not let us choose Host, Origin or Sec-Fetch-Site). */
function send(
  target: { port?: number; socketPath?: string },
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
  body?: string | Buffer,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        ...target,
        path,
        method,
        headers: { host: `127.0.0.1:${target.port ?? 0}`, ...headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode!, headers: res.headers, json, text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  emu = await createEmulator();
  api = createServer((req, res) => {
    apiHits++;
    req.resume();
    req.on('end', () =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ path: req.url, method: req.method })),
    );
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});
afterEach(() => {
  emu.faults.clear();
});
afterAll(async () => {
  await Promise.all(sidecars.map((s) => s.close(100)));
  for (const s of [api, ...servers]) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await emu.close();
});

describe('item 5: DNS rebinding and cross-site requests from a browser on the same host', () => {
  it('a Host that is not loopback (or configured) is a 400 on every route, /healthz included, and costs no token request', async () => {
    const { port } = await start();
    emu.counters.reset();
    for (const path of [
      '/healthz',
      `/AuthorizationHeaderUnauthenticated/tools?AgentIdentity=${A.mail}`,
      '/Validate',
    ]) {
      for (const host of [
        `attacker.example:${port}`,
        'attacker.example',
        `127.0.0.1.nip.io:${port}`,
        `localhost.attacker.example:${port}`,
        `[::2]:${port}`,
        '10.0.0.1',
        'localhost@evil',
        'localhost:5178/x',
        'localhost.',
      ]) {
        const r = await send({ port }, path, { host });
        expect(r.status, `${host} ${path}`).toBe(400);
        expect(r.json, host).toMatchObject({ status: 400, code: 'AGENTID_INVALID_REQUEST' });
        expect(r.text).not.toContain('eyJ');
      }
    }
    expect(emu.counters.tokenRequests()).toBe(0);
  });

  it('a request without any Host header (HTTP/1.0) is refused too', async () => {
    const { port } = await start();
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () =>
        socket.end(`GET /AuthorizationHeaderUnauthenticated/tools?AgentIdentity=${A.mail} HTTP/1.0\r\n\r\n`),
      );
      let text = '';
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.[01] 400/);
    expect(raw).not.toContain('eyJ');
  });

  it('loopback names and addresses, with or without a port, are served; AgentId:AllowedHosts adds names', async () => {
    const { port } = await start({
      AgentId__AllowedHosts__0: 'sidecar.internal',
      AgentId__AllowedHosts__1: 'pinned.internal:1234',
    });
    for (const host of [
      'localhost',
      `localhost:${port}`,
      `LOCALHOST:${port}`,
      `127.0.0.1:${port}`,
      '127.9.8.7',
      `[::1]:${port}`,
      '[::1]',
      `sidecar.internal:${port}`,
      'SIDECAR.internal',
      'pinned.internal:1234',
    ]) {
      const r = await send({ port }, `/AuthorizationHeaderUnauthenticated/tools?AgentIdentity=${A.mail}`, {
        host,
      });
      expect(r.status, host).toBe(200);
    }
    expect((await send({ port }, '/healthz', { host: 'pinned.internal:80' })).status).toBe(400);
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('127.0.0.1.attacker.example')).toBe(false);
    expect(() => loadSidecarConfig({ env: env({ AgentId__AllowedHosts__0: '*' }) })).toThrow(
      /AgentId:AllowedHosts/,
    );
  });

  it('any Origin header, or a Sec-Fetch-Site other than none, is a 403: a page on another localhost port is refused too', async () => {
    const { port } = await start();
    emu.counters.reset();
    const cases: Record<string, string>[] = [
      { origin: 'https://attacker.example' },
      { origin: `http://localhost:${port + 1}` },
      { origin: `http://127.0.0.1:${port}` },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'same-origin' },
    ];
    for (const headers of cases) {
      for (const path of ['/healthz', `/AuthorizationHeaderUnauthenticated/tools?AgentIdentity=${A.mail}`]) {
        const r = await send({ port }, path, headers);
        expect(r.status, JSON.stringify(headers)).toBe(403);
        expect(r.json).toMatchObject({ status: 403, code: 'AGENTID_FORBIDDEN' });
      }
    }
    expect(emu.counters.tokenRequests()).toBe(0);
    // A user typing the URL (Sec-Fetch-Site: none) and Node's fetch (Sec-Fetch-Mode: cors, no Origin) are served.
    expect(
      (
        await send({ port }, `/AuthorizationHeaderUnauthenticated/tools?AgentIdentity=${A.mail}`, {
          'sec-fetch-site': 'none',
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await fetch(
          `http://127.0.0.1:${port}/AuthorizationHeaderUnauthenticated/tools?AgentIdentity=${A.mail}`,
        )
      ).status,
    ).toBe(200);
  });

  it('a cross-site form post (text/plain, form encodings, no type) to /DownstreamApiUnauthenticated is a 415: no token, no downstream call', async () => {
    const { port } = await start();
    emu.counters.reset();
    apiHits = 0;
    const path = `/DownstreamApiUnauthenticated/tools?AgentIdentity=${A.mail}&optionsOverride.HttpMethod=POST`;
    for (const type of [
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonp',
      'text/json',
      undefined,
    ]) {
      const r = await send(
        { port },
        path,
        type === undefined ? {} : { 'content-type': type },
        'POST',
        '{"to":"attacker"}',
      );
      expect(r.status, String(type)).toBe(415);
      expect(r.json).toMatchObject({ status: 415, title: 'Unsupported Media Type' });
    }
    expect(emu.counters.tokenRequests()).toBe(0);
    expect(apiHits).toBe(0);
    // JSON bodies, and POSTs without a body, are served.
    for (const headers of [
      { 'content-type': 'application/json' },
      { 'content-type': 'application/json; charset=utf-8' },
      { 'content-type': 'application/merge-patch+json' },
    ]) {
      const r = await send({ port }, path, headers, 'POST', '{"a":1}');
      expect(r.status, headers['content-type']).toBe(200);
      expect(r.json['statusCode']).toBe(200);
    }
    expect((await send({ port }, path, {}, 'POST')).status).toBe(200);
    expect(apiHits).toBe(4);
  });

  it('the Unix socket is local by construction (no Host check), but still refuses a browser Origin', async () => {
    const socketPath = join(tmpdir(), `agentid-sec-sidecar-${process.pid}.sock`);
    await start({ AgentId__Listen__Socket: socketPath });
    const path = `/AuthorizationHeaderUnauthenticated/tools?AgentIdentity=${A.mail}`;
    expect((await send({ socketPath }, path, { host: 'localhost' })).status).toBe(200);
    expect((await send({ socketPath }, path, { host: 'docker' })).status).toBe(200);
    expect(
      (await send({ socketPath }, path, { host: 'localhost', origin: 'https://attacker.example' })).status,
    ).toBe(403);
  });
});

describe('item 6: a downstream answer larger than the limit is cut off, not buffered', () => {
  /** A downstream API that streams `total` bytes (respecting backpressure) and counts what it got to send. */
  async function streamingApi(
    total: number,
    declareLength: boolean,
  ): Promise<{ url: string; sent: () => number; closed: Promise<void> }> {
    let sent = 0;
    let resolveClosed!: () => void;
    const closed = new Promise<void>((r) => (resolveClosed = r));
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        ...(declareLength ? { 'content-length': String(total) } : {}),
      });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let open = true;
      res.on('close', () => {
        open = false;
        resolveClosed();
      });
      const pump = (): void => {
        while (open && sent < total) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (open) res.end();
      };
      pump();
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, sent: () => sent, closed };
  }

  for (const declareLength of [false, true]) {
    it(`a 128 MiB answer (${declareLength ? 'with' : 'without'} Content-Length) is a 502 after at most the limit is read; the downstream socket is closed`, async () => {
      const total = 128 * 1024 * 1024;
      const big = await streamingApi(total, declareLength);
      const { port } = await start({
        DownstreamApis__big__BaseUrl: big.url,
        DownstreamApis__big__Scopes__0: 'api://tools/.default',
      });
      const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
      const r = await send({ port }, `/DownstreamApiUnauthenticated/big?AgentIdentity=${A.mail}`, {}, 'POST');
      expect(r.status).toBe(502);
      expect(r.json).toMatchObject({ status: 502, code: 'AGENTID_DOWNSTREAM' });
      expect(String(r.json['detail'])).toMatch(/more than 10485760 bytes/);
      await big.closed;
      // The limit (10 MiB), plus what loopback socket buffers hold: far from the 128 MiB on offer.
      expect(big.sent()).toBeLessThan(40 * 1024 * 1024);
      const grown = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers - heapBefore;
      expect(grown).toBeLessThan(64 * 1024 * 1024);
    });
  }

  it('an answer within the limit is relayed whole', async () => {
    const small = await streamingApi(256 * 1024, false);
    const { port } = await start({
      DownstreamApis__small__BaseUrl: small.url,
      DownstreamApis__small__Scopes__0: 'api://tools/.default',
    });
    const r = await send({ port }, `/DownstreamApiUnauthenticated/small?AgentIdentity=${A.mail}`, {}, 'POST');
    expect(r.status).toBe(200);
    expect(String(r.json['content']).length).toBe(256 * 1024);
  });
});

describe('item 7: permanent token failures are 4xx (401, as Microsoft), outages stay 5xx', () => {
  it('unknown agent, disabled agent, missing consent, agent user of another agent: 401 with the typed code', async () => {
    const { port } = await start({ AgentId__UnknownAgentCacheSeconds: '0' });
    emu.directory.setAgentEnabled(DEMO.tenantId, A.calendar, false);
    try {
      const cases: [string, string[]][] = [
        [`tools?AgentIdentity=${randomUUID()}`, ['AGENTID_NOT_FOUND']],
        [`tools?AgentIdentity=${A.calendar}`, ['AGENTID_AGENT_DISABLED']],
        [
          `mail?AgentIdentity=${A.digitalWorker}&AgentUserId=${AU.id}&optionsOverride.Scopes=api://tools/Calendars.Read`,
          ['AGENTID_CONSENT_REQUIRED'],
        ],
        [
          `mail?AgentIdentity=${A.mail}&AgentUserId=${AU.id}`,
          ['AGENTID_TOKEN_ENDPOINT', 'AGENTID_INVALID_GRANT', 'AGENTID_AGENT_USER_NOT_LINKED'],
        ],
      ];
      for (const [q, codes] of cases) {
        const r = await send({ port }, `/AuthorizationHeaderUnauthenticated/${q}`);
        expect(r.status, q).toBe(401);
        expect(codes, q).toContain(r.json['code']);
        expect(r.json).toMatchObject({ status: 401, title: 'Unauthorized' });
      }
    } finally {
      emu.directory.setAgentEnabled(DEMO.tenantId, A.calendar, true);
    }
  });

  it('a wrong blueprint secret (invalid_client) is a 401', async () => {
    const { port } = await start({ AzureAd__ClientCredentials__0__ClientSecret: 'not-the-secret' });
    const r = await send({ port }, `/AuthorizationHeaderUnauthenticated/tools?AgentIdentity=${A.mail}`);
    expect(r.status).toBe(401);
    expect(r.json['code']).toBe('AGENTID_INVALID_CLIENT');
    expect(r.text).not.toContain('not-the-secret');
  });

  it("agents-hosting's SidecarAuthProvider (default retries) fails an unknown agent at once instead of retrying for seconds", async () => {
    const served: string[] = [];
    const logger = { debug() {}, info: (m: string) => served.push(m), warn() {}, error() {} };
    // The cache of unknown agents off: each attempt would reach the token endpoint.
    const { url } = await start(
      {
        DownstreamApis__default__Scopes__0: 'api://reports/.default',
        AgentId__UnknownAgentCacheSeconds: '0',
      },
      { logger },
    );
    const provider = new SidecarAuthProvider({
      sidecarBaseUrl: url,
      scopes: ['api://reports/.default'],
    } as ConstructorParameters<typeof SidecarAuthProvider>[0]);
    emu.counters.reset();
    await expect(provider.getAgenticInstanceToken(DEMO.tenantId, randomUUID())).rejects.toThrow();
    // One request, one token request: a 5xx would have been retried (with backoff) by the client.
    expect(served.filter((l) => l.startsWith('sidecar GET AuthorizationHeaderUnauthenticated'))).toHaveLength(
      1,
    );
    expect(emu.counters.tokenRequests('leg1')).toBe(1);
  });

  it('outages of the token service (5xx, 429, dropped connections) stay 503 with Retry-After when known', async () => {
    const { port } = await start();
    const path = `/AuthorizationHeaderUnauthenticated/tools?AgentIdentity=${A.reporter}&optionsOverride.AcquireTokenOptions.ForceRefresh=true`;
    for (const [fault, code] of [
      [{ kind: 'status', status: 503, retryAfterSec: 0 }, 'AGENTID_SERVER_ERROR'],
      [{ kind: 'status', status: 429, retryAfterSec: 0 }, 'AGENTID_THROTTLED'],
      [{ kind: 'drop' }, 'AGENTID_NETWORK'],
    ] as const) {
      emu.faults.clear();
      emu.faults.add({ route: 'token', ...fault });
      const r = await send({ port }, path);
      expect(r.status, fault.kind).toBe(503);
      expect(r.json['code'], fault.kind).toBe(code);
    }
  });
});

describe('item 8: secrets never show in util.inspect or JSON.stringify of the configuration or the sidecar', () => {
  it('Redis URL password, encryption keys, client secret, certificate key and password', async () => {
    const key1 = randomBytes(32).toString('base64');
    const key2 = randomBytes(32).toString('base64');
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const secret = `secret-${randomBytes(12).toString('hex')}`;
    const redis = {
      AgentId__Redis__Url: `redis://default:${password}@127.0.0.1:1/0`,
      AgentId__Redis__Keys__k1: key1,
      AgentId__Redis__Keys__k2: key2,
      AgentId__Redis__CurrentKeyId: 'k2',
    };
    const withSecret = loadSidecarConfig({
      env: env({ ...redis, AzureAd__ClientCredentials__0__ClientSecret: secret }),
    });
    const cert = createCertificate();
    const dir = mkdtempSync(join(tmpdir(), 'agentid-sec-sidecar-'));
    writeFileSync(join(dir, 'bp.pem'), cert.certPem + cert.keyPem);
    const withCert = loadSidecarConfig({
      env: env({
        ...redis,
        AzureAd__ClientCredentials__0__SourceType: 'Path',
        AzureAd__ClientCredentials__0__CertificateDiskPath: join(dir, 'bp.pem'),
        AzureAd__ClientCredentials__0__ClientSecret: '',
      }),
    });
    const keyBody = cert.keyPem.split('\n')[3]!;
    expect(keyBody.length).toBeGreaterThan(40);
    for (const config of [withSecret, withCert]) {
      const sidecar = createSidecar(config, { fetch: emu.fetch });
      sidecars.push(sidecar);
      const dumps = [
        inspect(config, { depth: Infinity, showHidden: true }),
        inspect(config, { depth: Infinity, showHidden: true, getters: true }),
        inspect(sidecar, { depth: Infinity, showHidden: true }),
        inspect({ ...config, redis: { ...config.redis } }, { depth: Infinity, showHidden: true }),
        JSON.stringify(config),
        JSON.stringify(sidecar),
        JSON.stringify({ ...config }),
        String(config.redis),
      ].join('\n');
      for (const s of [password, key1, key2, secret, keyBody, 'PRIVATE KEY'])
        expect(dumps, s.slice(0, 8)).not.toContain(s);
      expect(dumps).toContain('127.0.0.1:1'); // The Redis host is still shown.
      // The values are still there for the sidecar itself.
      expect(config.redis!.url).toContain(password);
      expect(config.redis!.keys['k1']).toBe(key1);
    }
  });
});

describe('item 13: random AgentIdentity values cost bounded token requests', () => {
  const pool = async <T>(items: T[], n: number, f: (t: T) => Promise<void>) => {
    const queue = [...items];
    await Promise.all(
      Array.from({ length: n }, async () => {
        for (let t = queue.shift(); t !== undefined; t = queue.shift()) await f(t);
      }),
    );
  };

  it('with AgentId:AllowedAgentIdentities, 1,000 random ids are a 403 each and make no token request', async () => {
    const { port } = await start({ AgentId__AllowedAgentIdentities__0: A.mail.toUpperCase() });
    emu.counters.reset();
    const ids = Array.from({ length: 1000 }, () => randomUUID());
    await pool(ids, 16, async (id) => {
      const r = await send({ port }, `/AuthorizationHeaderUnauthenticated/tools?AgentIdentity=${id}`);
      expect(r.status).toBe(403);
      expect(r.json['code']).toBe('AGENTID_FORBIDDEN');
    });
    expect(emu.counters.tokenRequests()).toBe(0);
    expect(
      (await send({ port }, `/AuthorizationHeaderUnauthenticated/tools?AgentIdentity=${A.mail}`)).status,
    ).toBe(200);
    expect(() =>
      loadSidecarConfig({ env: env({ AgentId__AllowedAgentIdentities__0: 'not-a-guid' }) }),
    ).toThrow(/AllowedAgentIdentities/);
  });

  it('without one, the unknown-agent cache: one request per distinct id, repeats cost nothing until it expires; it is bounded', async () => {
    let now = Date.now();
    const { port } = await start(
      { AgentId__UnknownAgentCacheSeconds: '60', AgentId__UnknownAgentCacheSize: '500' },
      { clock: { now: () => now } },
    );
    const ids = Array.from({ length: 1000 }, () => randomUUID());
    const ask = async (list: string[]) => {
      emu.counters.reset();
      await pool(list, 16, async (id) => {
        const r = await send({ port }, `/AuthorizationHeaderUnauthenticated/tools?AgentIdentity=${id}`);
        expect(r.status).toBe(401);
        expect(r.json['code']).toBe('AGENTID_NOT_FOUND');
      });
      return emu.counters.tokenRequests();
    };
    expect(await ask(ids)).toBe(1000);
    // The newest 500 are remembered: asking again costs nothing.
    expect(await ask(ids.slice(500))).toBe(0);
    expect(await ask(ids.slice(500))).toBe(0);
    // The oldest 500 were evicted (the cache holds at most 500): one request each again.
    expect(await ask(ids.slice(0, 500))).toBe(500);
    // After the TTL, the token endpoint is asked again (a newly created agent is not refused forever).
    now += 61_000;
    expect(await ask(ids.slice(0, 10))).toBe(10);
    // Known agents and other failures are not cached as unknown.
    expect(
      (await send({ port }, `/AuthorizationHeaderUnauthenticated/tools?AgentIdentity=${A.mail}`)).status,
    ).toBe(200);
  }, 60_000);
});

describe('item 16: /Validate and the token routes refuse a caller token that grants nothing', () => {
  async function appToken(clientId: string, secret: string, scope: string): Promise<string> {
    const r = await emu.fetch(emu.tokenEndpoint(DEMO.tenantId), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: clientId,
        client_secret: secret,
        scope,
        grant_type: 'client_credentials',
      }).toString(),
    });
    const body = (await r.json()) as { access_token: string };
    return body.access_token;
  }

  it('an app-only token for the blueprint with no role is a 403 on /Validate and cannot fetch the blueprint token; a user token with a scope passes', async () => {
    const { port } = await start();
    const empty = await appToken(
      DEMO.blueprints.orchestrator.appId,
      DEMO.blueprints.orchestrator.secret,
      `api://${W.appId}/.default`,
    );
    const claims = JSON.parse(Buffer.from(empty.split('.')[1]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    expect([claims['idtyp'], claims['roles'], claims['scp']]).toEqual(['app', undefined, undefined]);
    emu.counters.reset();
    for (const path of ['/Validate', '/AuthorizationHeader/tools?optionsOverride.RequestAppToken=true']) {
      const r = await send({ port }, path, { authorization: `Bearer ${empty}` });
      expect(r.status, path).toBe(403);
      expect(r.json['code']).toBe('AGENTID_INSUFFICIENT_SCOPE');
      expect(r.text).not.toContain(empty);
    }
    expect(emu.counters.tokenRequests()).toBe(0);
    const user = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      clientId: DEMO.chatApp.appId,
      scopes: [`api://${W.appId}/access_agent`],
    });
    expect((await send({ port }, '/Validate', { authorization: `Bearer ${user}` })).status).toBe(200);
  });
});

describe('2xx answers are never cached', () => {
  it('Cache-Control: no-cache, no-store, must-revalidate; Pragma: no-cache; Expires: 0 on every 2xx (and on problems)', async () => {
    const { port } = await start();
    const user = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      clientId: DEMO.chatApp.appId,
      scopes: [`api://${W.appId}/access_agent`],
    });
    const answers = [
      await send({ port }, '/healthz'),
      await send({ port }, `/AuthorizationHeaderUnauthenticated/tools?AgentIdentity=${A.mail}`),
      await send({ port }, '/Validate', { authorization: `Bearer ${user}` }),
      await send({ port }, `/DownstreamApiUnauthenticated/tools?AgentIdentity=${A.mail}`, {}, 'POST'),
      await send({ port }, '/nope'),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 404]);
    for (const a of answers) {
      expect(a.headers['cache-control']).toBe('no-cache, no-store, must-revalidate');
      expect(a.headers['pragma']).toBe('no-cache');
      expect(a.headers['expires']).toBe('0');
    }
  });
});
