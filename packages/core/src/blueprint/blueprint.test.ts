import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { createCertificate, createEmulator, DEMO, defaultSeed, type Emulator } from '@agentid/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestTracing } from '../test-support/otel.js';
import { certificateCredential, createBlueprint, federatedCredential, secretCredential, workloadIdentityCredential, type BlueprintCredential } from '../index.js';

const W = DEMO.blueprints.workers;
const cert = createCertificate({ subject: 'core-test' });
let emu: Emulator;
const tracing = createTestTracing();

beforeAll(async () => {
  const seed = defaultSeed();
  const bp = seed.tenants[0]!.blueprints!.find((b) => b.appId === W.appId)!;
  bp.credentials = { ...bp.credentials, certificates: [cert.certPem], federated: [{ issuer: 'https://login.agentid.test/_issuers/k8s', subject: 'system:serviceaccount:agents:workers' }] };
  emu = await createEmulator({ seed });
});
afterAll(() => emu.close());
beforeEach(() => {
  emu.counters.reset();
  emu.faults.clear();
  tracing.reset();
});

const make = (credential: BlueprintCredential, extra: Record<string, unknown> = {}) =>
  createBlueprint({ tenantId: DEMO.tenantId, clientId: W.appId, credential, authorityHost: emu.baseUrl, network: { fetch: emu.fetch }, telemetry: { tracerProvider: tracing.provider }, ...extra });

describe('createBlueprint against the emulator', () => {
  it('gets an autonomous agent token (legs 1-2) with every credential type', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentid-wi-'));
    const file = join(dir, 'token');
    writeFileSync(file, await emu.issueExternalToken('k8s', { subject: 'system:serviceaccount:agents:workers' }));
    const creds = [
      secretCredential(W.secret, { silenceWarning: true }),
      certificateCredential({ certificate: cert.certPem, privateKey: cert.keyPem }),
      federatedCredential(() => emu.issueExternalToken('k8s', { subject: 'system:serviceaccount:agents:workers' })),
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
    writeFileSync(file, await emu.issueExternalToken('k8s', { subject: 'system:serviceaccount:agents:other' }));
    const bp = make(workloadIdentityCredential({ tokenFilePath: file }));
    await expect(bp.agent(DEMO.agents.mail).getToken(['api://tools/.default'])).rejects.toMatchObject({ code: 'AGENTID_FIC_NOT_MATCHED' });
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(file, await emu.issueExternalToken('k8s', { subject: 'system:serviceaccount:agents:workers' }));
    expect((await bp.agent(DEMO.agents.mail).getToken(['api://tools/.default'])).subject).toBe(DEMO.agents.mail);
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
    const t1 = await agent.getExchangeToken();
    expect(t1.claims?.aud).toBe('api://AzureADTokenExchange');
    const t2 = await agent.getInstanceToken();
    expect(t2.subject).toBe(DEMO.agents.digitalWorker);
    await bp.invalidate({ agent: DEMO.agents.digitalWorker });
    await agent.getInstanceToken();
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 2, leg2: 2 });
  });

  it('retries 429 with Retry-After and 503, never invalid_grant-like errors; tokens never leak', async () => {
    emu.faults.add({ route: 'token', grant: 'leg1', kind: 'status', status: 429, retryAfterSec: 0, times: 1 });
    emu.faults.add({ route: 'token', grant: 'leg2', kind: 'status', status: 503, times: 2 });
    const t = await make(secretCredential(W.secret, { silenceWarning: true })).agent(DEMO.agents.mail).getToken(['api://tools/.default']);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 2, leg2: 3 });
    expect(`${t} ${JSON.stringify(t)} ${inspect(t)}`).not.toContain(t.token);
    emu.counters.reset();
    const bad = make(secretCredential('wrong', { silenceWarning: true }));
    const err = await bad.agent(DEMO.agents.mail).getToken(['api://tools/.default']).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AGENTID_INVALID_CLIENT', aadsts: 7000215 });
    expect(emu.counters.tokenRequests('leg1')).toBe(1);
    const text = tracing.spans().map((s) => JSON.stringify({ a: s.attributes, e: s.events, st: s.status })).join('');
    expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
    expect(text).not.toContain(W.secret);
  });

  it('validates options and scopes with typed errors', async () => {
    expect(() => createBlueprint({ tenantId: DEMO.tenantId, clientId: W.appId, credential: secretCredential('x', { silenceWarning: true }), authorityHost: 'http://insecure' })).toThrow(/https/);
    expect(() => createBlueprint({ tenantId: '', clientId: W.appId, credential: secretCredential('x', { silenceWarning: true }) })).toThrow(/tenantId/);
    expect(() => certificateCredential({ certificate: cert.certPem, privateKey: createCertificate().keyPem })).toThrow(/does not match/);
    const agent = make(secretCredential(W.secret, { silenceWarning: true })).agent(DEMO.agents.mail);
    await expect(agent.getToken(['api://tools/Mail.Read'])).rejects.toMatchObject({ code: 'AGENTID_INVALID_OPTIONS' });
    await expect(make(secretCredential(W.secret, { silenceWarning: true })).agent(DEMO.agents.orchestrator).getToken(['api://tools/.default'])).rejects.toMatchObject({ aadsts: 700016 });
  });
});
