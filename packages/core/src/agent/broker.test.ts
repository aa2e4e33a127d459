import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTestTracing } from '../test-support/otel.js';
import { agentBroker, createBlueprint, secretCredential, type Acquire } from '../index.js';

const W = DEMO.blueprints.workers;
let emu: Emulator;
const tracing = createTestTracing();

beforeAll(async () => {
  emu = await createEmulator();
});
afterAll(() => emu.close());
beforeEach(() => {
  emu.counters.reset();
  tracing.reset();
});

const make = () =>
  createBlueprint({
    tenantId: DEMO.tenantId,
    clientId: W.appId,
    credential: secretCredential(W.secret, { silenceWarning: true }),
    authorityHost: emu.baseUrl,
    network: { fetch: emu.fetch },
    telemetry: { tracerProvider: tracing.provider },
  });

const acquireOf = () => {
  let n = 0;
  return vi.fn<Acquire>(async () => ({ token: `opaque-${++n}`, expiresInSec: 3600, meta: { scopes: ['api://tools/.default'] } }));
};

describe('agent broker: cache hits and prepared requests', () => {
  it('records one span per hit (outcome hit, the agent and request attributes) under the caller’s active span', async () => {
    const agent = make().agent(DEMO.agents.mail);
    const first = await agent.getToken(['api://tools/.default']);
    tracing.reset();
    const tracer = tracing.provider.getTracer('test');
    await tracer.startActiveSpan('caller', async (parent) => {
      expect((await agent.getToken(['api://tools/.default'])).token).toBe(first.token);
      parent.end();
    });
    const hit = tracing.spans().find((s) => s.name === 'agentid.autonomous');
    const caller = tracing.spans().find((s) => s.name === 'caller');
    expect(hit?.attributes).toMatchObject({ 'agentid.agent.id': DEMO.agents.mail, 'agentid.blueprint.id': W.appId, 'agentid.flow': 'autonomous', 'agentid.cache.outcome': 'hit' });
    expect(hit?.parentSpanContext?.spanId).toBe(caller?.spanContext().spanId);
    expect(hit?.ended).toBe(true);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 1, leg2: 1 });
  });

  it('serves a prepared request from the cache, keys claims apart, and refuses it to another agent', async () => {
    const bp = make();
    const broker = agentBroker(bp.agent(DEMO.agents.mail));
    const other = agentBroker(bp.agent(DEMO.agents.orchestrator));
    const prepared = broker.prepare({ flow: 'custom', scopes: ['api://tools/.default'], subject: 'user-1', attributes: { 'test.attr': 'x' } }, { label: 'mine', data: { n: 1 } });
    expect(prepared).toMatchObject({ label: 'mine', data: { n: 1 } });
    expect(broker.owns(prepared)).toBe(true);
    expect(other.owns(prepared)).toBe(false);
    const acquire = acquireOf();
    expect((await broker.get(prepared, acquire)).token).toBe('opaque-1');
    expect((await broker.get(prepared, acquire)).token).toBe('opaque-1');
    // A plain request with the same parts has the same key.
    expect((await broker.get({ flow: 'custom', scopes: ['api://tools/.default'], subject: 'user-1' }, acquire)).token).toBe('opaque-1');
    // Claims make another key (and skip the cache); the prepared request's own entry stays.
    expect((await broker.get(prepared, acquire, { claims: '{"access_token":{"xms_cc":{"values":["cp1"]}}}' })).token).toBe('opaque-2');
    expect((await broker.get(prepared, acquire)).token).toBe('opaque-1');
    expect(acquire).toHaveBeenCalledTimes(2);
    await expect(other.get(prepared, acquire)).rejects.toThrow(/prepared by another agent/);
    expect(() => broker.prepare({ flow: 'custom', scopes: ['api://tools/.default'], subject: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl' })).toThrow(TypeError);
    const spans = tracing.spans().filter((s) => s.name === 'agentid.custom');
    expect(spans.map((s) => s.attributes['agentid.cache.outcome'])).toEqual(['miss', 'hit', 'hit', 'miss', 'hit']);
    expect(spans.map((s) => s.attributes['test.attr'])).toEqual(['x', 'x', undefined, 'x', 'x']);
  });

  it('drops a prepared request’s token when its tag is invalidated', async () => {
    const bp = make();
    const broker = agentBroker(bp.agent(DEMO.agents.mail));
    const prepared = broker.prepare({ flow: 'custom', scopes: ['api://tools/.default'], subject: 'user-2', tags: ['user:user-2'] });
    const acquire = acquireOf();
    expect((await broker.get(prepared, acquire)).token).toBe('opaque-1');
    expect((await broker.get(prepared, acquire)).token).toBe('opaque-1');
    await bp.invalidate({ user: 'user-2' });
    expect((await broker.get(prepared, acquire)).token).toBe('opaque-2');
    await bp.invalidate({ agent: DEMO.agents.mail });
    expect((await broker.get(prepared, acquire)).token).toBe('opaque-3');
  });
});
