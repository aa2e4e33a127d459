import { createEmulator, DEMO, type Emulator, type ListenResult } from '@agentid/emulator';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { aadsts, claimsOf } from '@agentid/test-support/emulator';

// Real sockets on loopback: HTTPS with the emulator's CA, plain HTTP, faults, admin routes.
const T = DEMO.tenantId;
const W = DEMO.blueprints.workers;
const O = DEMO.blueprints.orchestrator;
const EX = 'api://AzureADTokenExchange/.default';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}
const json = (a: Answer): Record<string, unknown> => JSON.parse(a.text) as Record<string, unknown>;

/** One request with node:http(s), no keep-alive; `ca` trusts the emulator's CA for HTTPS. */
function call(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; ca?: string } = {},
): Promise<Answer> {
  const u = new URL(url);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      u,
      {
        method: opts.method ?? 'GET',
        headers: opts.headers ?? {},
        agent: false,
        ...(opts.ca ? { ca: opts.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});
const leg1Fields = (agent: string = DEMO.agents.mail, bp: { appId: string; secret: string } = W) => ({
  client_id: bp.appId,
  client_secret: bp.secret,
  grant_type: 'client_credentials',
  scope: EX,
  fmi_path: agent,
});
const leg2Fields = (agent: string, t1: string, scope = 'api://tools/.default') => ({
  client_id: agent,
  grant_type: 'client_credentials',
  scope,
  client_assertion_type: JWT_BEARER,
  client_assertion: t1,
});

/** Token request over a real socket with fetch (HTTP) or node:https (HTTPS + CA). */
async function token(
  base: string,
  fields: Record<string, string>,
  ca?: string,
): Promise<{ status: number; body: Record<string, unknown>; headers: Answer['headers']; text: string }> {
  const a = await call(`${base}/${T}/oauth2/v2.0/token`, { ...form(fields), ...(ca ? { ca } : {}) });
  let body: Record<string, unknown> = {};
  try {
    body = json(a);
  } catch {
    // left empty: some tests expect a malformed body
  }
  return { status: a.status, body, headers: a.headers, text: a.text };
}

describe('emulator over real sockets', () => {
  let emu: Emulator;
  let l: ListenResult;
  let https: string;
  let http: string;
  let ca: string;
  beforeAll(async () => {
    emu = await createEmulator();
    l = await emu.listen();
    https = l.httpsUrl!;
    http = l.httpUrl!;
    ca = l.caPem!;
  });
  afterAll(() => emu.close());
  afterEach(() => {
    emu.faults.clear();
  });

  it('listen() returns both loopback URLs and the CA, as PEM and as a file', () => {
    expect(https).toMatch(/^https:\/\/localhost:\d+$/);
    expect(http).toMatch(/^http:\/\/localhost:\d+$/);
    expect(l.caPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(readFileSync(l.caPath!, 'utf8')).toBe(l.caPem);
    // Tokens name the HTTPS URL as issuer once listening.
    expect(emu.baseUrl).toBe(https);
  });

  describe('HTTPS with the emulator CA', () => {
    it('serves OpenID metadata whose issuer and endpoints use the HTTPS base', async () => {
      const a = await call(`${https}/${T}/v2.0/.well-known/openid-configuration`, { ca });
      expect(a.status).toBe(200);
      expect(json(a)).toMatchObject({
        issuer: `${https}/${T}/v2.0`,
        token_endpoint: `${https}/${T}/oauth2/v2.0/token`,
        jwks_uri: `${https}/${T}/discovery/v2.0/keys`,
      });
      // By domain too.
      expect(
        json(await call(`${https}/${DEMO.domain}/v2.0/.well-known/openid-configuration`, { ca })).issuer,
      ).toBe(`${https}/${T}/v2.0`);
      expect((await call(`${https}/not-a-tenant/v2.0/.well-known/openid-configuration`, { ca })).status).toBe(
        400,
      );
    });

    it('serves the JWKS with the current signing key', async () => {
      const keys = json(await call(`${https}/${T}/discovery/v2.0/keys`, { ca })).keys as Array<
        Record<string, unknown>
      >;
      expect(keys.length).toBeGreaterThanOrEqual(1);
      expect(keys[0]).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256' });
      expect(keys[0]!.kid).toBeTypeOf('string');
      expect(keys[0]!.d).toBeUndefined();
    });

    it('issues leg 1 with the demo secret; iss is the HTTPS base', async () => {
      const r = await token(https, leg1Fields(), ca);
      expect(r.status).toBe(200);
      const c = claimsOf(r.body.access_token);
      expect(c).toMatchObject({ iss: `${https}/${T}/v2.0`, aud: 'api://AzureADTokenExchange', azp: W.appId });
      const r2 = await token(https, leg2Fields(DEMO.agents.mail, String(r.body.access_token)), ca);
      expect(r2.status).toBe(200);
      expect(claimsOf(r2.body.access_token)).toMatchObject({
        oid: DEMO.agents.mail,
        iss: `${https}/${T}/v2.0`,
      });
    });

    it('the certificate is refused without the CA', async () => {
      const err = await call(`${https}/healthz`).then(
        () => undefined,
        (e: unknown) => e as NodeJS.ErrnoException,
      );
      expect(err).toBeDefined();
      expect(err!.code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);
      // And it is valid for localhost with the CA.
      expect((await call(`${https}/healthz`, { ca })).status).toBe(200);
    });

    it('unmodified MSAL Node in a child process gets leg 1 (fmiPath) and leg 2 over HTTPS, trusting the CA with NODE_EXTRA_CA_CERTS', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'agentid-msal-'));
      try {
        const script = join(dir, 'msal-flow.mjs');
        writeFileSync(
          script,
          `import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(join(ROOT, 'package.json'))});
const { ConfidentialClientApplication } = require('@azure/msal-node');
const cfg = JSON.parse(process.env.EMU_CFG);
const decode = (t) => JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString('utf8'));
const bp = new ConfidentialClientApplication({ auth: { ...cfg.auth, clientId: cfg.blueprint, clientSecret: cfg.secret } });
const r1 = await bp.acquireTokenByClientCredential({ scopes: ['api://AzureADTokenExchange/.default'], fmiPath: cfg.agent });
const again = await bp.acquireTokenByClientCredential({ scopes: ['api://AzureADTokenExchange/.default'], fmiPath: cfg.agent });
const agent = new ConfidentialClientApplication({ auth: { ...cfg.auth, clientId: cfg.agent, clientAssertion: async () => r1.accessToken } });
const r2 = await agent.acquireTokenByClientCredential({ scopes: ['api://tools/.default'] });
const c1 = decode(r1.accessToken);
const c2 = decode(r2.accessToken);
process.stdout.write('RESULT ' + JSON.stringify({
  leg1: { aud: c1.aud, azp: c1.azp, iss: c1.iss, subTail: String(c1.sub).split('/').pop(), cachedSecondTime: again.accessToken === r1.accessToken },
  leg2: { aud: c2.aud, oid: c2.oid, azp: c2.azp, iss: c2.iss, idtyp: c2.idtyp, roles: c2.roles, parent: c2.xms_par_app_azp, fromCache: r2.fromCache },
}) + '\\n');
`,
        );
        emu.counters.reset();
        const cfg = {
          auth: emu.msalAuthOptions(T, https),
          blueprint: W.appId,
          secret: W.secret,
          agent: DEMO.agents.mail,
        };
        const { stdout } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
          execFile(
            process.execPath,
            [script],
            {
              env: { ...process.env, NODE_EXTRA_CA_CERTS: l.caPath!, EMU_CFG: JSON.stringify(cfg) },
              timeout: 30_000,
            },
            (err, out, errOut) => {
              if (err) reject(new Error(`child failed: ${err.message}\n${errOut}`));
              else resolve({ stdout: out, stderr: errOut });
            },
          );
        });
        const line = stdout.split('\n').find((x) => x.startsWith('RESULT '));
        expect(line, stdout).toBeDefined();
        expect(stdout).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
        const summary = JSON.parse(line!.slice(7)) as Record<string, Record<string, unknown>>;
        expect(summary.leg1).toEqual({
          aud: 'api://AzureADTokenExchange',
          azp: W.appId,
          iss: `${https}/${T}/v2.0`,
          subTail: DEMO.agents.mail,
          cachedSecondTime: true,
        });
        expect(summary.leg2).toMatchObject({
          aud: DEMO.resources.tools.appId,
          oid: DEMO.agents.mail,
          azp: DEMO.agents.mail,
          iss: `${https}/${T}/v2.0`,
          idtyp: 'app',
          roles: ['Mail.Send.All'],
          parent: W.appId,
          fromCache: false,
        });
        // MSAL used the supplied metadata: no discovery calls, one leg 1 (the second was cached), one leg 2.
        const s = emu.counters.snapshot();
        expect(s.byGrant).toEqual({ leg1: 1, leg2: 1 });
        expect(s.byRoute.openid ?? 0).toBe(0);
        expect(s.byRoute.discovery ?? 0).toBe(0);
        expect(emu.counters.requests({ grant: 'leg1' })[0]).toMatchObject({
          fmiPath: DEMO.agents.mail,
          clientId: W.appId,
          status: 200,
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 40_000);
  });

  describe('plain HTTP', () => {
    it('leg 1 via fetch; iss is the HTTP base for tokens requested over HTTP', async () => {
      const res = await fetch(`${http}/${T}/oauth2/v2.0/token`, form(leg1Fields()));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
      expect(claimsOf(body.access_token)).toMatchObject({ iss: `${http}/${T}/v2.0`, azp: W.appId });
      expect((await fetch(`${http}/healthz`)).status).toBe(200);
    });

    it('errors keep the Entra shape over the wire; a GET on the token endpoint is 405', async () => {
      const r = await token(http, { ...leg1Fields(), client_secret: 'wrong' });
      expect(r.status).toBe(401);
      expect(r.body.error).toBe('invalid_client');
      expect(String(r.body.error_description)).toMatch(/^AADSTS7000215: /);
      expect(r.body.error_codes).toEqual([7000215]);
      expect((await call(`${http}/${T}/oauth2/v2.0/token`)).status).toBe(405);
      expect((await call(`${http}/no/such/route`)).status).toBe(404);
    });

    it('a request body over 1 MiB is 413; exactly 1 MiB is read', async () => {
      const over = await call(`${http}/${T}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=client_credentials&pad=${'a'.repeat(1024 * 1024)}`,
      });
      expect(over.status).toBe(413);
      expect(json(over)).toMatchObject({ error: 'invalid_request', error_codes: [90015] });
      expect(json(over).error_description).toMatch(/^AADSTS90015/);
      const viaFetch = await fetch(`${http}/${T}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'x'.repeat(3 * 1024 * 1024),
      });
      expect(viaFetch.status).toBe(413);
      await viaFetch.arrayBuffer();
      const prefix = 'grant_type=client_credentials&pad=';
      const exact = await call(`${http}/${T}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: prefix + 'a'.repeat(1024 * 1024 - prefix.length),
      });
      expect(exact.status).toBe(400);
      expect(aadsts(json(exact))).toBe(900144);
      // The server is still fine.
      expect((await token(http, leg1Fields())).status).toBe(200);
    });

    it('the in-process fetch enforces the same 1 MiB limit', async () => {
      const r = await emu.fetch(`${emu.baseUrl}/${T}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'x'.repeat(1024 * 1024 + 1),
      });
      expect(r.status).toBe(413);
    });
  });

  describe('key rotation', () => {
    it('POST /_emulator/keys/rotate: JWKS lists the new kid and the old; tokens signed before still verify; two rotations retire the oldest', async () => {
      const jwksKids = async () =>
        (json(await call(`${http}/${T}/discovery/v2.0/keys`)).keys as Array<{ kid: string }>).map(
          (k) => k.kid,
        );
      const t1 = String((await token(http, leg1Fields())).body.access_token);
      const oldKid = (JSON.parse(Buffer.from(t1.split('.')[0]!, 'base64url').toString()) as { kid: string })
        .kid;
      expect(await jwksKids()).toContain(oldKid);

      const rot = await call(`${http}/_emulator/keys/rotate`, { method: 'POST' });
      expect(rot.status).toBe(200);
      const newKid = String(json(rot).kid);
      expect(newKid).not.toBe(oldKid);
      const kids = await jwksKids();
      expect(kids).toEqual(expect.arrayContaining([newKid, oldKid]));
      expect(kids[0]).toBe(newKid);

      // T1 signed by the old key is still accepted for leg 2; new tokens use the new key.
      const l2 = await token(http, leg2Fields(DEMO.agents.mail, t1));
      expect(l2.status).toBe(200);
      const header = JSON.parse(
        Buffer.from(String(l2.body.access_token).split('.')[0]!, 'base64url').toString(),
      ) as { kid: string };
      expect(header.kid).toBe(newKid);

      // After a second rotation the first key is gone from the JWKS and its tokens no longer verify.
      const third = String(
        json(
          await call(`${http}/_emulator/keys/rotate`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{}',
          }),
        ).kid,
      );
      expect(await jwksKids()).toEqual([third, newKid]);
      const stale = await token(http, leg2Fields(DEMO.agents.mail, t1));
      expect(stale.status).toBe(400);
      expect(aadsts(stale.body)).toBe(700027);
    });
  });

  describe('faults over real HTTP', () => {
    it('429 with Retry-After and an Entra-shaped body, once; then the next request succeeds', async () => {
      emu.faults.add({ route: 'token', kind: 'status', status: 429, retryAfterSec: 2, times: 1 });
      const r = await token(http, leg1Fields());
      expect(r.status).toBe(429);
      expect(r.headers['retry-after']).toBe('2');
      expect(r.body.error).toBe('temporarily_unavailable');
      expect(String(r.body.error_description)).toMatch(/^AADSTS\d+: /);
      expect(Array.isArray(r.body.error_codes)).toBe(true);
      expect((await token(http, leg1Fields())).status).toBe(200);
      expect(emu.faults.active()).toEqual([]);
    });

    it('a burst of three 503s, then success', async () => {
      emu.faults.add({ route: 'token', kind: 'status', status: 503, times: 3 });
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await token(http, leg1Fields())).status);
      expect(statuses).toEqual([503, 503, 503, 200]);
    });

    it('latency delays the answer by at least latencyMs', async () => {
      emu.faults.add({ route: 'token', kind: 'latency', latencyMs: 150, times: 1 });
      const t0 = performance.now();
      const r = await token(http, leg1Fields());
      const slow = performance.now() - t0;
      expect(r.status).toBe(200);
      expect(slow).toBeGreaterThanOrEqual(140);
      const t1 = performance.now();
      await token(http, leg1Fields());
      expect(performance.now() - t1).toBeLessThan(slow);
    });

    it('drop closes the connection: the client sees a socket error', async () => {
      emu.faults.add({ route: 'token', kind: 'drop', times: 1 });
      const err = await call(`${http}/${T}/oauth2/v2.0/token`, form(leg1Fields())).then(
        () => undefined,
        (e: unknown) => e as NodeJS.ErrnoException,
      );
      expect(err).toBeDefined();
      expect(`${err!.code} ${err!.message}`).toMatch(/ECONNRESET|socket hang up/);
      emu.faults.add({ route: 'jwks', kind: 'drop', times: 1 });
      await expect(fetch(`${http}/${T}/discovery/v2.0/keys`)).rejects.toThrow(/fetch failed/);
      // And the server still answers.
      expect((await token(http, leg1Fields())).status).toBe(200);
    });

    it('malformed answers 200 with a body that is not JSON', async () => {
      emu.faults.add({ route: 'token', kind: 'malformed', times: 1 });
      const r = await token(http, leg1Fields());
      expect(r.status).toBe(200);
      expect(() => JSON.parse(r.text) as unknown).toThrow();
    });

    it('a fault scoped to grant leg2 spares leg 1; one scoped to a client spares the others', async () => {
      emu.faults.add({ route: 'token', grant: 'leg2', kind: 'status', status: 503 });
      const t1 = await token(http, leg1Fields());
      expect(t1.status).toBe(200);
      expect((await token(http, leg2Fields(DEMO.agents.mail, String(t1.body.access_token)))).status).toBe(
        503,
      );
      emu.faults.clear();
      emu.faults.add({ route: 'token', clientId: O.appId, kind: 'status', status: 500 });
      expect((await token(http, leg1Fields(DEMO.agents.orchestrator, O))).status).toBe(500);
      expect((await token(http, leg1Fields())).status).toBe(200);
      // Faults on the token route do not touch other routes.
      expect((await call(`${http}/${T}/discovery/v2.0/keys`)).status).toBe(200);
    });

    it('counts faulted requests with the fault that hit them', async () => {
      emu.counters.reset();
      emu.faults.add({ route: 'token', kind: 'status', status: 503, times: 1 });
      await token(http, leg1Fields());
      await token(http, leg1Fields());
      const recs = emu.counters.requests({ grant: 'leg1' });
      expect(recs.map((r) => [r.status, r.fault])).toEqual([
        [503, 'status'],
        [200, undefined],
      ]);
    });
  });

  describe('admin routes over HTTP', () => {
    it('POST/GET/DELETE /_emulator/faults', async () => {
      const add = await call(`${http}/_emulator/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ route: 'token', kind: 'status', status: 503, times: 2 }),
      });
      expect(add.status).toBe(201);
      expect(json(add).id).toMatch(/^[0-9a-f-]{36}$/);
      expect(JSON.parse((await call(`${http}/_emulator/faults`)).text)).toEqual([
        expect.objectContaining({ kind: 'status', status: 503, times: 2 }),
      ]);
      expect((await token(http, leg1Fields())).status).toBe(503);
      const del = await call(`${http}/_emulator/faults`, { method: 'DELETE' });
      expect(del.status).toBe(200);
      expect(JSON.parse((await call(`${http}/_emulator/faults`)).text)).toEqual([]);
      expect((await token(http, leg1Fields())).status).toBe(200);
      // Invalid specs are 400, and add nothing.
      for (const bad of [
        { kind: 'explode' },
        { kind: 'status', status: 200 },
        { kind: 'latency' },
        { kind: 'status', status: 503, probability: 2 },
        { kind: 'status', status: 503, times: 0 },
        { kind: 'drop', route: 'nowhere' },
        { kind: 'status', status: 429, retryAfterSec: '2\r\nx-injected: 1' },
      ]) {
        const r = await call(`${http}/_emulator/faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(bad),
        });
        expect(r.status, JSON.stringify(bad)).toBe(400);
      }
      expect(emu.faults.active()).toEqual([]);
      expect((await call(`${http}/_emulator/faults`, { method: 'POST', body: 'not json' })).status).toBe(400);
    });

    it('DELETE /_emulator/faults/{id} removes one fault', async () => {
      const a = String(
        json(
          await call(`${http}/_emulator/faults`, {
            method: 'POST',
            body: JSON.stringify({ route: 'jwks', kind: 'status', status: 500 }),
          }),
        ).id,
      );
      const b = String(
        json(
          await call(`${http}/_emulator/faults`, {
            method: 'POST',
            body: JSON.stringify({ route: 'openid', kind: 'status', status: 500 }),
          }),
        ).id,
      );
      expect((await call(`${http}/_emulator/faults/${a}`, { method: 'DELETE' })).status).toBe(200);
      expect((await call(`${http}/_emulator/faults/${a}`, { method: 'DELETE' })).status).toBe(404);
      expect(emu.faults.active().map((f) => f.route)).toEqual(['openid']);
      expect((await call(`${http}/${T}/discovery/v2.0/keys`)).status).toBe(200);
      expect((await call(`${http}/${T}/v2.0/.well-known/openid-configuration`)).status).toBe(500);
      expect((await call(`${http}/_emulator/faults/${b}`, { method: 'DELETE' })).status).toBe(200);
    });

    it('GET /_emulator/counters (byGrant) and POST /_emulator/counters/reset without a body', async () => {
      const reset = await call(`${http}/_emulator/counters/reset`, { method: 'POST' });
      expect(reset.status).toBe(200);
      const t1 = String((await token(http, leg1Fields())).body.access_token);
      await token(http, leg1Fields(DEMO.agents.calendar));
      await token(http, leg2Fields(DEMO.agents.mail, t1));
      await token(http, { ...leg1Fields(), client_secret: 'nope' });
      const c = json(await call(`${http}/_emulator/counters`));
      expect(c).toMatchObject({
        total: 4,
        byGrant: { leg1: 3, leg2: 1 },
        byRoute: { token: 4 },
        byStatus: { '200': 3, '401': 1 },
      });
      expect((c.byClient as Record<string, number>)[W.appId]).toBe(3);
      // Admin calls are not counted.
      expect(json(await call(`${http}/_emulator/counters`)).total).toBe(4);
      const reqs = JSON.parse((await call(`${http}/_emulator/requests`)).text) as Array<
        Record<string, unknown>
      >;
      expect(reqs).toHaveLength(4);
      expect(JSON.stringify(reqs)).not.toContain(W.secret);
      expect(JSON.stringify(reqs)).not.toContain(t1);
      expect((await call(`${http}/_emulator/counters/reset`, { method: 'POST', body: '{}' })).status).toBe(
        200,
      );
      expect(json(await call(`${http}/_emulator/counters`))).toMatchObject({ total: 0, byGrant: {} });
    });

    it('POST /_emulator/tokens/user mints a user token usable for agent OBO over HTTP', async () => {
      const r = await call(`${http}/_emulator/tokens/user`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: DEMO.users.alice.upn, scopes: [`api://${O.appId}/access_agent`] }),
      });
      expect(r.status).toBe(200);
      const tc = String(json(r).access_token);
      expect(claimsOf(tc)).toMatchObject({
        iss: `${http}/${T}/v2.0`,
        oid: DEMO.users.alice.id,
        aud: O.appId,
        scp: 'access_agent',
        idtyp: 'user',
      });
      const t1 = String((await token(http, leg1Fields(DEMO.agents.orchestrator, O))).body.access_token);
      const obo = await token(http, {
        client_id: DEMO.agents.orchestrator,
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        requested_token_use: 'on_behalf_of',
        assertion: tc,
        scope: `api://${W.appId}/access_agent`,
        client_assertion_type: JWT_BEARER,
        client_assertion: t1,
      });
      expect(obo.status).toBe(200);
      expect(claimsOf(obo.body.access_token)).toMatchObject({
        oid: DEMO.users.alice.id,
        azp: DEMO.agents.orchestrator,
        scp: 'access_agent',
      });
      // Unknown users and bad bodies are 400.
      expect(
        (
          await call(`${http}/_emulator/tokens/user`, {
            method: 'POST',
            body: JSON.stringify({
              user: 'ghost@contoso.onmicrosoft.com',
              scopes: ['api://tools/Mail.Read'],
            }),
          })
        ).status,
      ).toBe(400);
      expect(
        (
          await call(`${http}/_emulator/tokens/user`, {
            method: 'POST',
            body: JSON.stringify({ user: DEMO.users.alice.upn }),
          })
        ).status,
      ).toBe(400);
      expect((await call(`${http}/_emulator/nothing`)).status).toBe(404);
    });

    it('GET /_emulator/directory describes the tenant with the HTTP base', async () => {
      const d = json(await call(`${http}/_emulator/directory`));
      expect(d.baseUrl).toBe(http);
      expect((d.tenants as Array<Record<string, unknown>>)[0]).toMatchObject({
        id: T,
        tokenEndpoint: `${http}/${T}/oauth2/v2.0/token`,
      });
    });
  });

  describe('counters', () => {
    it('requests() filters by grant and fmiPath; an undefined filter value matches anything', async () => {
      emu.counters.reset();
      await token(http, leg1Fields(DEMO.agents.mail));
      await token(http, leg1Fields(DEMO.agents.mail));
      await token(http, leg1Fields(DEMO.agents.calendar));
      await token(http, leg2Fields(DEMO.agents.mail, 'garbage'));
      expect(emu.counters.requests({ grant: 'leg1', fmiPath: DEMO.agents.mail })).toHaveLength(2);
      expect(emu.counters.requests({ grant: 'leg1', fmiPath: DEMO.agents.calendar })).toHaveLength(1);
      expect(emu.counters.requests({ grant: 'leg2' })).toEqual([
        expect.objectContaining({ clientId: DEMO.agents.mail, status: 400, route: 'token', method: 'POST' }),
      ]);
      expect(emu.counters.requests({ grant: 'leg1', fmiPath: undefined })).toHaveLength(3);
      expect(emu.counters.requests()).toHaveLength(4);
      expect(emu.counters.tokenRequests('leg1')).toBe(3);
      expect(emu.counters.tokenRequests()).toBe(4);
    });
  });

  describe('managed identity endpoints', () => {
    it('App Service style: /_mi/token with X-IDENTITY-HEADER gives a token whose subject is the managed identity', async () => {
      const url = `${http}/_mi/token?resource=api://AzureADTokenExchange&api-version=2019-08-01`;
      const r = await call(url, { headers: { 'x-identity-header': emu.identityHeader } });
      expect(r.status).toBe(200);
      const b = json(r);
      expect(b).toMatchObject({
        token_type: 'Bearer',
        resource: 'api://AzureADTokenExchange',
        client_id: DEMO.managedIdentity.clientId,
      });
      expect(Number(b.expires_on)).toBeGreaterThan(Date.now() / 1000);
      expect(claimsOf(b.access_token)).toMatchObject({
        sub: DEMO.managedIdentity.id,
        oid: DEMO.managedIdentity.id,
        aud: 'api://AzureADTokenExchange',
        tid: T,
      });
      // By client id; an unknown one is 400.
      expect(
        (
          await call(`${url}&client_id=${DEMO.managedIdentity.clientId}`, {
            headers: { 'x-identity-header': emu.identityHeader },
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await call(`${url}&client_id=00000000-0000-4000-8000-000000000000`, {
            headers: { 'x-identity-header': emu.identityHeader },
          })
        ).status,
      ).toBe(400);
      expect(
        (
          await call(`${http}/_mi/token?api-version=2019-08-01`, {
            headers: { 'x-identity-header': emu.identityHeader },
          })
        ).status,
      ).toBe(400);
    });

    it('App Service style: a wrong or missing identity header is 401', async () => {
      const url = `${http}/_mi/token?resource=api://AzureADTokenExchange&api-version=2019-08-01`;
      expect((await call(url, { headers: { 'x-identity-header': 'wrong' } })).status).toBe(401);
      expect((await call(url)).status).toBe(401);
      expect((await call(url, { headers: { 'x-identity-header': `${emu.identityHeader}x` } })).status).toBe(
        401,
      );
    });

    it('IMDS style: /metadata/identity/oauth2/token needs Metadata: true', async () => {
      const url = `${http}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent('https://graph.microsoft.com/')}`;
      const r = await call(url, { headers: { metadata: 'true' } });
      expect(r.status).toBe(200);
      const b = json(r);
      expect(b).toMatchObject({ token_type: 'Bearer', expires_in: '3600' });
      expect(claimsOf(b.access_token)).toMatchObject({ sub: DEMO.managedIdentity.id });
      expect((await call(url)).status).toBe(400);
      expect((await call(url, { headers: { metadata: 'false' } })).status).toBe(400);
    });

    it('other paths under the managed identity prefixes are 404', async () => {
      expect(
        (await call(`${http}/_mi/other?resource=x`, { headers: { 'x-identity-header': emu.identityHeader } }))
          .status,
      ).toBe(404);
      expect(
        (await call(`${http}/metadata/identity/other?resource=x`, { headers: { metadata: 'true' } })).status,
      ).toBe(404);
    });
  });
});

describe('listen and close', () => {
  it('close() frees the ports: the next connection is refused', async () => {
    const emu = await createEmulator();
    const l = await emu.listen({ https: false });
    expect(l.httpsUrl).toBeUndefined();
    expect(l.caPem).toBeUndefined();
    expect((await fetch(`${l.httpUrl!}/healthz`)).status).toBe(200);
    await emu.close();
    const err = await call(`${l.httpUrl!}/healthz`).then(
      () => undefined,
      (e: unknown) => e as NodeJS.ErrnoException,
    );
    expect(err?.code).toBe('ECONNREFUSED');
  });

  it('two emulators in one process each keep their own CA file', async () => {
    const a = await createEmulator();
    const b = await createEmulator();
    try {
      const la = await a.listen({ http: false });
      const lb = await b.listen({ http: false });
      expect(la.caPem).not.toBe(lb.caPem);
      // Each CA path must still hold that emulator's CA after the other started.
      expect(readFileSync(la.caPath!, 'utf8')).toBe(la.caPem);
      expect(readFileSync(lb.caPath!, 'utf8')).toBe(lb.caPem);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
