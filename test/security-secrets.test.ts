// Secrets never leak: a broad run of every flow (autonomous, OBO, agent user, tools through
// Express, the sidecar, a Redis-like L2, failures, faults, bad credentials) while capturing every
// log line, console output, span (name, attributes, events, status), error message (with causes)
// and util.inspect output; then a scan for any token, assertion, secret or private key material.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { inspect } from 'node:util';
import { agentUser } from '@agentid/agent-user';
import {
  type Blueprint,
  certificateCredential,
  createBlueprint,
  type Logger,
  secretCredential,
} from '@agentid/core';
import { brokerOf, createMemoryL2 } from '@agentid/core/broker';
import { createCertificate, createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { agentid, agentidErrors } from '@agentid/express';
import { createTokenValidator, onBehalfOf, validatorForBlueprint } from '@agentid/obo';
import { createSidecar, loadSidecarConfig } from '@agentid/sidecar';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestTracing } from '@agentid/test-support/otel';

const W = DEMO.blueprints.workers;
const O = DEMO.blueprints.orchestrator;
const tracing = createTestTracing();
const captured: string[] = [];
const secrets = new Set<string>();
const logger: Logger = {
  debug: (m, f) => captured.push(m, JSON.stringify(f ?? {})),
  info: (m, f) => captured.push(m, JSON.stringify(f ?? {})),
  warn: (m, f) => captured.push(m, JSON.stringify(f ?? {})),
  error: (m, f) => captured.push(m, JSON.stringify(f ?? {})),
};
let emu: Emulator;
let api: Server;
let apiUrl: string;
const cert = createCertificate();
const redisKey = randomBytes(32);

/** Records everything an error shows: message, stack, causes, and how it inspects. */
function captureError(e: unknown): void {
  let cur: unknown = e;
  for (let depth = 0; cur && depth < 6; depth++) {
    const err = cur as { message?: unknown; stack?: unknown; cause?: unknown };
    captured.push(
      String(err.message ?? ''),
      String(err.stack ?? ''),
      inspect(cur, { depth: 6 }),
      JSON.stringify(cur) ?? '',
    );
    cur = err.cause;
  }
}
async function attempt<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    const v = await Promise.race([
      p,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('attempt timed out')), 10_000)),
    ]);
    captured.push(inspect(v, { depth: 6 }), String(v), JSON.stringify(v) ?? '');
    const token = (v as { token?: unknown }).token;
    if (typeof token === 'string') secrets.add(token);
    return v;
  } catch (e) {
    captureError(e);
    return undefined;
  }
}
const bp = (
  clientId: string,
  secret: string,
  extra: Partial<Parameters<typeof createBlueprint>[0]> = {},
): Blueprint =>
  createBlueprint({
    tenantId: DEMO.tenantId,
    clientId,
    credential: secretCredential(secret),
    authorityHost: emu.baseUrl,
    network: { fetch: emu.fetch, retries: 1 },
    telemetry: { logger, tracerProvider: tracing.provider },
    ...extra,
  });

beforeAll(async () => {
  emu = await createEmulator();
  for (const s of [W.secret, O.secret, cert.keyPem, redisKey.toString('base64'), redisKey.toString('hex')])
    secrets.add(s);
  // Every token the emulator issues during the run is a secret (recorded from its answers).
  const validator = createTokenValidator({
    tenantId: DEMO.tenantId,
    audiences: [DEMO.resources.tools.appId, 'api://tools'],
    authorityHost: emu.baseUrl,
    requiredScopes: [],
    jwks: { fetch: emu.fetch },
  });
  api = (await import('node:http')).createServer((req, res) => {
    const t = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    secrets.add(t);
    validator.validate(t).then(
      () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
      () => res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end(),
    );
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => api.close(r));
  await emu.close();
  await tracing.close();
});

describe('no token, assertion, secret or private key in logs, spans, errors or inspect output', () => {
  it('a broad run of every flow, failure and fault, then the scan', async () => {
    const consoleSpies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) =>
      vi
        .spyOn(console, m)
        .mockImplementation(
          (...a: unknown[]) =>
            void captured.push(
              a.map((x) => (typeof x === 'string' ? x : inspect(x, { depth: 6 }))).join(' '),
            ),
        ),
    );
    const stderr = vi
      .spyOn(process.stderr, 'write')
      .mockImplementation((chunk: unknown) => (captured.push(String(chunk)), true));
    try {
      const workers = bp(W.appId, W.secret, { cache: { l2: createMemoryL2() } });
      const orchestrator = bp(O.appId, O.secret);
      captured.push(
        inspect(workers, { depth: 4 }),
        inspect(workers.agent(DEMO.agents.mail), { depth: 4 }),
        inspect(secretCredential(W.secret)),
        inspect(certificateCredential({ certificate: cert.certPem, privateKey: cert.keyPem })),
      );
      const user = await emu.issueUserToken({
        user: DEMO.users.alice.upn,
        clientId: DEMO.chatApp.appId,
        scopes: [`api://${W.appId}/access_agent`],
      });
      const orchUser = await emu.issueUserToken({
        user: DEMO.users.bob.upn,
        clientId: DEMO.chatApp.appId,
        scopes: [`api://${O.appId}/access_agent`],
      });
      secrets.add(user).add(orchUser);
      // Flows.
      const t1 = await attempt(brokerOf(workers.agent(DEMO.agents.mail)).exchangeToken());
      expect(t1).toBeDefined();
      await attempt(workers.agent(DEMO.agents.mail).getToken(['api://tools/.default']));
      await attempt(
        workers.agent(DEMO.agents.reporter).getToken(['api://reports/.default'], {
          claims: '{"access_token":{"acrs":{"essential":true,"value":"c1"}}}',
        }),
      );
      await attempt(workers.getAppToken(['api://reports/.default']));
      const principal = await attempt(validatorForBlueprint(workers).validate(user));
      captured.push(inspect(principal, { depth: 6 }));
      await attempt(
        onBehalfOf(workers.agent(DEMO.agents.mail), user, ['api://tools/Mail.Read'], {
          principal: principal!,
          audit: (e) => captured.push(JSON.stringify(e)),
        }),
      );
      await attempt(
        agentUser(workers.agent(DEMO.agents.digitalWorker), {
          upn: DEMO.agentUsers.digitalWorker.upn,
        }).getToken(['api://tools/Mail.Read']),
      );
      // Failures: wrong secret, unregistered certificate (a signed assertion is sent), unknown agent,
      // consent missing, a bad user token, an expired one, a forged one.
      await attempt(
        bp(W.appId, 'wrong-secret-value-1234').agent(DEMO.agents.mail).getToken(['api://tools/.default']),
      );
      secrets.add('wrong-secret-value-1234');
      await attempt(
        createBlueprint({
          tenantId: DEMO.tenantId,
          clientId: W.appId,
          credential: certificateCredential({ certificate: cert.certPem, privateKey: cert.keyPem }),
          authorityHost: emu.baseUrl,
          network: { fetch: emu.fetch },
          telemetry: { logger, tracerProvider: tracing.provider },
        })
          .agent(DEMO.agents.mail)
          .getToken(['api://tools/.default']),
      );
      await attempt(workers.agent('00000000-0000-4000-8000-00000000dead').getToken(['api://tools/.default']));
      await attempt(onBehalfOf(workers.agent(DEMO.agents.calendar), user, ['api://tools/Mail.Send'], {}));
      await attempt(validatorForBlueprint(workers).validate(`${user.slice(0, -10)}AAAAAAAAAA`));
      await attempt(onBehalfOf(workers.agent(DEMO.agents.mail), orchUser, ['api://tools/Mail.Read']));
      // Faults.
      emu.faults.add({ kind: 'status', status: 429, retryAfterSec: 0, times: 3 });
      await attempt(bp(W.appId, W.secret).agent(DEMO.agents.calendar).getToken(['api://reports/.default']));
      emu.faults.add({ kind: 'malformed', times: 2 });
      await attempt(bp(W.appId, W.secret).agent(DEMO.agents.reporter).getToken(['api://tools/.default']));
      emu.faults.clear();
      // Tools through Express (tool fetch with a claims challenge-free API), denied and unknown tools.
      const app = express();
      app.use(
        agentid({
          blueprint: orchestrator,
          agentId: DEMO.agents.orchestrator,
          tools: { files: { resource: 'api://tools', scopes: ['Files.Read'], mode: 'obo' } },
          audit: {
            decision: (e) => captured.push(JSON.stringify(e)),
            invocation: (e) => captured.push(JSON.stringify(e)),
          },
        }),
      );
      app.get('/files', async (req, res, next) => {
        try {
          const r = await req.agentid!.tool('files').fetch(`${apiUrl}/files`);
          res.json({ status: r.status });
        } catch (e) {
          next(e);
        }
      });
      app.get('/unknown', (req, _res, next) => {
        try {
          req.agentid!.tool('nope');
          _res.json({});
        } catch (e) {
          next(e);
        }
      });
      app.use(agentidErrors());
      const server = app.listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (const [path, token] of [
        ['/files', orchUser],
        ['/unknown', orchUser],
        ['/files', user],
        ['/files', 'garbage'],
      ] as const) {
        const r = await fetch(base + path, {
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(10_000),
        });
        captured.push(await r.text(), JSON.stringify([...r.headers]));
      }
      await new Promise((r) => server.close(r));
      // The sidecar: logs, problem details.
      const sidecar = createSidecar(
        loadSidecarConfig({
          env: {
            AzureAd__Instance: emu.baseUrl,
            AzureAd__TenantId: DEMO.tenantId,
            AzureAd__ClientId: W.appId,
            AzureAd__ClientCredentials__0__SourceType: 'ClientSecret',
            AzureAd__ClientCredentials__0__ClientSecret: W.secret,
            DownstreamApis__tools__Scopes__0: 'api://tools/.default',
            Sidecar__AllowOverrides__GetAuthorizationHeaderUnauthenticated: 'true',
            AgentId__Listen__Port: '0',
          },
        }),
        { fetch: emu.fetch, logger, tracerProvider: tracing.provider },
      );
      const { url } = await sidecar.listen();
      for (const path of [
        `/AuthorizationHeaderUnauthenticated/tools?AgentIdentity=${DEMO.agents.mail}`,
        '/AuthorizationHeaderUnauthenticated/tools?AgentIdentity=00000000-0000-4000-8000-00000000dead',
        '/Validate',
      ]) {
        const r = await fetch(url + path, {
          headers: { authorization: `Bearer ${user}` },
          signal: AbortSignal.timeout(10_000),
        });
        const text = await r.text();
        const header = /"authorizationHeader":"Bearer ([^"]+)"/.exec(text)?.[1];
        if (header) secrets.add(header);
        // /Validate answers the caller's own token by contract; other answers are scanned.
        if (!path.startsWith('/Validate') && !header) captured.push(text);
      }
      await sidecar.close();
    } finally {
      for (const s of consoleSpies) s.mockRestore();
      stderr.mockRestore();
    }

    // Spans: names, attributes, events, status messages, links.
    for (const s of tracing.spans())
      captured.push(
        s.name,
        JSON.stringify(s.attributes),
        JSON.stringify(s.events),
        JSON.stringify(s.status),
        JSON.stringify(s.links),
      );
    const haystack = captured.join('\n');
    expect(tracing.spans().length).toBeGreaterThan(20);
    expect(captured.length).toBeGreaterThan(100);
    expect(secrets.size).toBeGreaterThan(10);
    const found: string[] = [];
    for (const s of secrets) {
      if (!s || s.length < 12) continue;
      if (haystack.includes(s)) found.push(`secret of length ${s.length}`);
      // A JWT's signature alone identifies it (and a payload part would reveal claims + be replayable with it).
      const parts = s.split('.');
      if (parts.length === 3 && parts[2]!.length > 20 && haystack.includes(parts[2]!))
        found.push('a token signature');
    }
    if (/eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\./.test(haystack))
      found.push('something shaped like a JWT');
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(haystack)) found.push('private key PEM');
    if (/client_assertion=|client_secret=/.test(haystack)) found.push('a token request body');
    expect(found).toEqual([]);
  }, 60_000);
});
