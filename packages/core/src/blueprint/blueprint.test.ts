import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { createCertificate, createEmulator, DEMO, defaultSeed, type Emulator } from '@agentid/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestTracing } from '@agentid/test-support/otel';
import {
  certificateCredential,
  createBlueprint,
  federatedCredential,
  secretCredential,
  workloadIdentityCredential,
  type BlueprintCredential,
} from '../index.js';
import { brokerOf, servicesOf } from '../broker.js';

const W = DEMO.blueprints.workers;
const cert = createCertificate({ subject: 'core-test' });
let emu: Emulator;
const tracing = createTestTracing();

beforeAll(async () => {
  const seed = defaultSeed();
  const bp = seed.tenants[0]!.blueprints!.find((b) => b.appId === W.appId)!;
  bp.credentials = {
    ...bp.credentials,
    certificates: [cert.certPem],
    federated: [
      { issuer: 'https://login.agentid.test/_issuers/k8s', subject: 'system:serviceaccount:agents:workers' },
    ],
  };
  emu = await createEmulator({ seed });
});
afterAll(() => emu.close());
beforeEach(() => {
  emu.counters.reset();
  emu.faults.clear();
  tracing.reset();
});

const make = (credential: BlueprintCredential, extra: Record<string, unknown> = {}) =>
  createBlueprint({
    tenantId: DEMO.tenantId,
    clientId: W.appId,
    credential,
    authorityHost: emu.baseUrl,
    network: { fetch: emu.fetch },
    telemetry: { tracerProvider: tracing.provider },
    ...extra,
  });

describe('createBlueprint against the emulator', () => {
  it('gets an autonomous agent token (legs 1-2) with every credential type', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentid-wi-'));
    const file = join(dir, 'token');
    writeFileSync(
      file,
      await emu.issueExternalToken('k8s', { subject: 'system:serviceaccount:agents:workers' }),
    );
    const creds = [
      secretCredential(W.secret, { silenceWarning: true }),
      certificateCredential({ certificate: cert.certPem, privateKey: cert.keyPem }),
      federatedCredential(() =>
        emu.issueExternalToken('k8s', { subject: 'system:serviceaccount:agents:workers' }),
      ),
      workloadIdentityCredential({ tokenFilePath: file }),
    ];
    for (const c of creds) {
      const t = await make(c).agent(DEMO.agents.mail).getToken(['api://tools/.default']);
      expect(t.subject).toBe(DEMO.agents.mail);
      expect(t.actor).toBe(DEMO.agents.mail);
      expect(t.claims?.roles).toEqual(['Mail.Send.All']);
    }
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 4, leg2: 4 });
  });

  it('re-reads a rotated workload identity file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentid-wi-'));
    const file = join(dir, 'token');
    writeFileSync(
      file,
      await emu.issueExternalToken('k8s', { subject: 'system:serviceaccount:agents:other' }),
    );
    const bp = make(workloadIdentityCredential({ tokenFilePath: file }));
    await expect(bp.agent(DEMO.agents.mail).getToken(['api://tools/.default'])).rejects.toMatchObject({
      code: 'AGENTID_FIC_NOT_MATCHED',
    });
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(
      file,
      await emu.issueExternalToken('k8s', { subject: 'system:serviceaccount:agents:workers' }),
    );
    expect((await bp.agent(DEMO.agents.mail).getToken(['api://tools/.default'])).subject).toBe(
      DEMO.agents.mail,
    );
  });

  it('serves hits from cache and coalesces concurrent misses: one request per leg', async () => {
    const agent = make(secretCredential(W.secret, { silenceWarning: true })).agent(DEMO.agents.calendar);
    const all = await Promise.all(Array.from({ length: 50 }, () => agent.getToken(['api://tools/.default'])));
    expect(new Set(all.map((t) => t.token)).size).toBe(1);
    await agent.getToken(['api://tools/.default']);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 1, leg2: 1 });
    const spans = tracing.spans().filter((s) => s.name === 'agentid.autonomous');
    const outcomes = spans.map((s) => s.attributes['agentid.cache.outcome']);
    expect(outcomes.filter((o) => o === 'miss')).toHaveLength(1);
    expect(outcomes).toContain('coalesced');
    expect(outcomes.at(-1)).toBe('hit');
    expect(spans[0]!.attributes['agentid.agent.id']).toBe(DEMO.agents.calendar);
  });

  it('gets T1 and T2 for sibling packages, and invalidates per agent', async () => {
    const bp = make(secretCredential(W.secret, { silenceWarning: true }));
    const agent = bp.agent(DEMO.agents.digitalWorker);
    const t1 = await brokerOf(agent).exchangeToken();
    expect(t1.claims?.aud).toBe('api://AzureADTokenExchange');
    const t2 = await brokerOf(agent).instanceToken();
    expect(t2.subject).toBe(DEMO.agents.digitalWorker);
    await bp.invalidate({ agent: DEMO.agents.digitalWorker });
    await brokerOf(agent).instanceToken();
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 2, leg2: 2 });
  });

  it('retries 429 with Retry-After and 503, never invalid_grant-like errors; tokens never leak', async () => {
    emu.faults.add({
      route: 'token',
      grant: 'leg1',
      kind: 'status',
      status: 429,
      retryAfterSec: 0,
      times: 1,
    });
    emu.faults.add({ route: 'token', grant: 'leg2', kind: 'status', status: 503, times: 2 });
    const t = await make(secretCredential(W.secret, { silenceWarning: true }))
      .agent(DEMO.agents.mail)
      .getToken(['api://tools/.default']);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 2, leg2: 3 });
    expect(`${t} ${JSON.stringify(t)} ${inspect(t)}`).not.toContain(t.token);
    emu.counters.reset();
    const bad = make(secretCredential('wrong', { silenceWarning: true }));
    const err = await bad
      .agent(DEMO.agents.mail)
      .getToken(['api://tools/.default'])
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AGENTID_INVALID_CLIENT', aadsts: 7000215 });
    expect(emu.counters.tokenRequests('leg1')).toBe(1);
    const text = tracing
      .spans()
      .map((s) => JSON.stringify({ a: s.attributes, e: s.events, st: s.status }))
      .join('');
    expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
    expect(text).not.toContain(W.secret);
  });

  it('validates options and scopes with typed errors', async () => {
    expect(() =>
      createBlueprint({
        tenantId: DEMO.tenantId,
        clientId: W.appId,
        credential: secretCredential('x', { silenceWarning: true }),
        authorityHost: 'http://insecure',
      }),
    ).toThrow(/https/);
    expect(() =>
      createBlueprint({
        tenantId: '',
        clientId: W.appId,
        credential: secretCredential('x', { silenceWarning: true }),
      }),
    ).toThrow(/tenantId/);
    expect(() =>
      certificateCredential({ certificate: cert.certPem, privateKey: createCertificate().keyPem }),
    ).toThrow(/does not match/);
    const agent = make(secretCredential(W.secret, { silenceWarning: true })).agent(DEMO.agents.mail);
    await expect(agent.getToken(['api://tools/Mail.Read'])).rejects.toMatchObject({
      code: 'AGENTID_INVALID_OPTIONS',
    });
    await expect(
      make(secretCredential(W.secret, { silenceWarning: true }))
        .agent(DEMO.agents.orchestrator)
        .getToken(['api://tools/.default']),
    ).rejects.toMatchObject({ aadsts: 700016 });
  });
});

describe('freshness with an injected clock', () => {
  it('refreshes ahead in the background, and never serves an expired token during an outage', async () => {
    const { createManualClock } = await import('../util/clock.js');
    const clock = createManualClock(Date.now());
    const e = await createEmulator({ clock });
    const bp = createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: W.appId,
      credential: secretCredential(W.secret, { silenceWarning: true }),
      authorityHost: e.baseUrl,
      network: { fetch: e.fetch, retries: 0 },
      clock,
      telemetry: { tracerProvider: tracing.provider },
    });
    const agent = bp.agent(DEMO.agents.mail);
    const first = await agent.getToken(['api://tools/.default']);
    expect(e.counters.snapshot().byGrant).toEqual({ leg1: 1, leg2: 1 });
    clock.advance(1_000_000);
    expect((await agent.getToken(['api://tools/.default'])).token).toBe(first.token);
    expect(e.counters.tokenRequests('leg2')).toBe(1);
    // Past refresh_in (1800 s): the valid token is served while one background refresh runs.
    clock.advance(900_000);
    const during = await Promise.all([
      agent.getToken(['api://tools/.default']),
      agent.getToken(['api://tools/.default']),
    ]);
    expect(during.every((t) => t.token === first.token)).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(e.counters.tokenRequests('leg2')).toBe(2);
    const refreshed = await agent.getToken(['api://tools/.default']);
    expect(refreshed.token).not.toBe(first.token);
    expect(refreshed.expiresOn.getTime()).toBeGreaterThan(first.expiresOn.getTime());
    // Outage: every token request fails; once the cached token is no longer usable it is not served.
    e.faults.add({ route: 'token', kind: 'status', status: 503 });
    clock.advance(3_300_000);
    await expect(agent.getToken(['api://tools/.default'])).rejects.toMatchObject({
      code: 'AGENTID_SERVER_ERROR',
    });
    e.faults.clear();
    const after = await agent.getToken(['api://tools/.default']);
    expect(after.expiresOn.getTime() - clock.now()).toBeGreaterThan(300_000);
  });

  it('caps a long-lived token at the maximum lifetime and hands out none with less than the minimum left', async () => {
    const { createManualClock } = await import('../util/clock.js');
    const clock = createManualClock(Date.now());
    const e = await createEmulator({ clock, tokenLifetimeSec: 24 * 3600, refreshIn: 'none' });
    const bp = createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: W.appId,
      credential: secretCredential(W.secret, { silenceWarning: true }),
      authorityHost: e.baseUrl,
      network: { fetch: e.fetch },
      clock,
      policy: { maxLifetimeSec: 3600 },
    });
    const t = await bp.agent(DEMO.agents.mail).getToken(['api://tools/.default']);
    expect(t.expiresOn.getTime() - clock.now()).toBeLessThanOrEqual(3600_000);
    clock.advance(3600_000 - 200_000);
    const next = await bp.agent(DEMO.agents.mail).getToken(['api://tools/.default']);
    expect(next.token).not.toBe(t.token);
    const short = await createEmulator({ tokenLifetimeSec: 120 });
    const bp2 = createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: W.appId,
      credential: secretCredential(W.secret, { silenceWarning: true }),
      authorityHost: short.baseUrl,
      network: { fetch: short.fetch },
    });
    await expect(bp2.agent(DEMO.agents.mail).getToken(['api://tools/.default'])).rejects.toMatchObject({
      code: 'AGENTID_TOKEN_LIFETIME',
    });
  });

  it('managed identity credential through MSAL ManagedIdentityApplication', async () => {
    const seed = defaultSeed();
    const b = seed.tenants[0]!.blueprints!.find((x) => x.appId === W.appId)!;
    b.credentials = {
      federated: [
        { issuer: `https://login.agentid.test/${DEMO.tenantId}/v2.0`, subject: DEMO.managedIdentity.id },
      ],
    };
    const e = await createEmulator({ seed });
    const saved = { ep: process.env.IDENTITY_ENDPOINT, h: process.env.IDENTITY_HEADER };
    process.env.IDENTITY_ENDPOINT = `${e.baseUrl}/_mi/token`;
    process.env.IDENTITY_HEADER = e.identityHeader;
    try {
      const { managedIdentityCredential } = await import('../index.js');
      const bp = createBlueprint({
        tenantId: DEMO.tenantId,
        clientId: W.appId,
        credential: managedIdentityCredential(),
        authorityHost: e.baseUrl,
        network: { fetch: e.fetch },
      });
      expect((await bp.agent(DEMO.agents.mail).getToken(['api://tools/.default'])).subject).toBe(
        DEMO.agents.mail,
      );
      expect(e.counters.snapshot().byRoute.mi).toBe(1);
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

  it("gets the blueprint's own app token for Graph, cached, and refuses a non-.default scope", async () => {
    const bp = make(secretCredential(W.secret, { silenceWarning: true }));
    const t = await bp.getAppToken(['https://graph.microsoft.com/.default']);
    expect(t.claims?.roles).toEqual(expect.arrayContaining(['AgentIdentity.CreateAsManager']));
    expect((await bp.getAppToken(['https://graph.microsoft.com/.default'])).token).toBe(t.token);
    expect(emu.counters.snapshot().byGrant).toEqual({ client_credentials: 1 });
    expect(() => bp.getAppToken(['User.Read'])).toThrow(/\.default/);
    expect(servicesOf(bp).tenantId).toBe(DEMO.tenantId);
    expect(() => servicesOf({} as never)).toThrow(TypeError);
  });

  it('lets sibling packages add cached, single-flight flows through brokerOf(agent).acquire', async () => {
    const bp = make(secretCredential(W.secret, { silenceWarning: true }));
    const agent = bp.agent(DEMO.agents.mail);
    const broker = brokerOf(agent);
    let calls = 0;
    // A flow of its own: a client-credentials request as the agent (T1 from the broker).
    const exchange = {
      send: async ({ msal, clientAssertion }: { msal: typeof broker.msal; clientAssertion: string }) => {
        calls++;
        await new Promise((r) => setTimeout(r, 5));
        return msal.acquireTokenByClientCredential({
          scopes: ['api://reports/.default'],
          skipCache: true,
          clientAssertion,
        });
      },
    };
    const req = {
      flow: 'custom',
      scopes: ['api://reports/.default'],
      subject: 'user-1',
      tags: ['user:user-1'],
      attributes: { 'agentid.obo.user.id': 'user-1' },
    };
    const [a, b] = await Promise.all([broker.acquire(req, exchange), broker.acquire(req, exchange)]);
    expect(calls).toBe(1);
    expect(a.token).toBe(b.token);
    await broker.acquire({ ...req, subject: 'user-2' }, exchange);
    expect(calls).toBe(2);
    await bp.invalidate({ user: 'user-1' });
    await broker.acquire(req, exchange);
    expect(calls).toBe(3);
    const span = tracing.spans().find((s) => s.name === 'agentid.custom');
    expect(span?.attributes['agentid.obo.user.id']).toBe('user-1');
    expect(() => brokerOf({} as never)).toThrow(TypeError);
    // The broker is not part of the agent's enumerable surface (JSON, inspect, keys).
    expect(Object.keys(agent)).toEqual(['id', 'blueprintId', 'tenantId', 'getToken', 'toString']);
    expect(JSON.stringify(agent)).not.toMatch(/msal|broker/i);
  });
});
