import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuthenticationResult } from '@azure/msal-node';
import { createTestTracing } from '@agentid/test-support/otel';
import { createBlueprint, OAuthError, secretCredential } from '../index.js';
import { brokerOf, type Exchange, type SendContext } from '../broker.js';

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

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
/** An exchange whose n-th token is an unsigned JWT with `n` in its claims (the broker only decodes claims). */
const exchangeOf = () => {
  let n = 0;
  const send = vi.fn(async (_context: SendContext) => {
    n++;
    const accessToken = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ n, oid: 'user-1', exp: Math.floor(Date.now() / 1000) + 3600 })}.c2ln`;
    return { accessToken, expiresOn: new Date(Date.now() + 3600_000) } as unknown as AuthenticationResult;
  });
  return { send } satisfies Exchange;
};
const nOf = (token: { token: string }) =>
  JSON.parse(Buffer.from(token.token.split('.')[1]!, 'base64url').toString()).n as number;

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
    expect(hit?.attributes).toMatchObject({
      'agentid.agent.id': DEMO.agents.mail,
      'agentid.blueprint.id': W.appId,
      'agentid.flow': 'autonomous',
      'agentid.cache.outcome': 'hit',
    });
    expect(hit?.parentSpanContext?.spanId).toBe(caller?.spanContext().spanId);
    expect(hit?.ended).toBe(true);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 1, leg2: 1 });
  });

  it('serves a prepared request from the cache, keys claims apart, and refuses it to another agent', async () => {
    const bp = make();
    const broker = brokerOf(bp.agent(DEMO.agents.mail));
    const other = brokerOf(bp.agent(DEMO.agents.orchestrator));
    const prepared = broker.prepare(
      {
        flow: 'custom',
        scopes: ['api://tools/.default'],
        subject: 'user-1',
        attributes: { 'test.attr': 'x' },
      },
      { label: 'mine', data: { n: 1 } },
    );
    expect(prepared).toMatchObject({ label: 'mine', data: { n: 1 } });
    expect(broker.owns(prepared)).toBe(true);
    expect(other.owns(prepared)).toBe(false);
    const acquire = exchangeOf();
    expect(nOf(await broker.acquire(prepared, acquire))).toBe(1);
    expect(nOf(await broker.acquire(prepared, acquire))).toBe(1);
    // A plain request with the same parts has the same key.
    expect(
      nOf(
        await broker.acquire(
          { flow: 'custom', scopes: ['api://tools/.default'], subject: 'user-1' },
          acquire,
        ),
      ),
    ).toBe(1);
    // Claims make another key (and skip the cache); the prepared request's own entry stays.
    expect(
      nOf(
        await broker.acquire(prepared, acquire, { claims: '{"access_token":{"xms_cc":{"values":["cp1"]}}}' }),
      ),
    ).toBe(2);
    expect(nOf(await broker.acquire(prepared, acquire))).toBe(1);
    expect(acquire.send).toHaveBeenCalledTimes(2);
    await expect(other.acquire(prepared, acquire)).rejects.toThrow(/prepared by another agent/);
    expect(() =>
      broker.prepare({
        flow: 'custom',
        scopes: ['api://tools/.default'],
        subject: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl',
      }),
    ).toThrow(TypeError);
    const spans = tracing.spans().filter((s) => s.name === 'agentid.custom');
    expect(spans.map((s) => s.attributes['agentid.cache.outcome'])).toEqual([
      'miss',
      'hit',
      'hit',
      'miss',
      'hit',
    ]);
    expect(spans.map((s) => s.attributes['test.attr'])).toEqual(['x', 'x', undefined, 'x', 'x']);
  });

  it('drops a prepared request’s token when its tag is invalidated', async () => {
    const bp = make();
    const broker = brokerOf(bp.agent(DEMO.agents.mail));
    const prepared = broker.prepare({
      flow: 'custom',
      scopes: ['api://tools/.default'],
      subject: 'user-2',
      tags: ['user:user-2'],
    });
    const acquire = exchangeOf();
    expect(nOf(await broker.acquire(prepared, acquire))).toBe(1);
    expect(nOf(await broker.acquire(prepared, acquire))).toBe(1);
    await bp.invalidate({ user: 'user-2' });
    expect(nOf(await broker.acquire(prepared, acquire))).toBe(2);
    await bp.invalidate({ agent: DEMO.agents.mail });
    expect(nOf(await broker.acquire(prepared, acquire))).toBe(3);
  });
});

describe('the one acquisition path: T1 first, one retry with a fresh T1 when Entra rejects it', () => {
  const rejected = (code: 'AGENTID_INVALID_CLIENT' | 'AGENTID_ASSERTION_EXPIRED', aadsts?: number) =>
    new OAuthError(code, 'refused', { status: 400, ...(aadsts ? { aadsts } : {}) });

  it('a rejected T1 (invalid_client, or AADSTS700024) is replaced once: leg 1 again, the request again with the new T1', async () => {
    for (const error of [rejected('AGENTID_INVALID_CLIENT'), rejected('AGENTID_ASSERTION_EXPIRED', 700024)]) {
      emu.counters.reset();
      const broker = brokerOf(make().agent(DEMO.agents.mail));
      const seen: string[] = [];
      const ok = exchangeOf();
      const exchange: Exchange = {
        send: async (context) => {
          seen.push(context.clientAssertion);
          if (seen.length === 1) throw error;
          return ok.send(context);
        },
      };
      expect(
        nOf(
          await broker.acquire({ flow: 'custom', scopes: ['api://tools/.default'], subject: 'u' }, exchange),
        ),
      ).toBe(1);
      expect(seen).toHaveLength(2);
      expect(seen[1]).not.toBe(seen[0]);
      expect(emu.counters.tokenRequests('leg1')).toBe(2);
    }
  });

  it("never retries anything else: a user's expired assertion (AADSTS500133), a bad grant, a second rejection", async () => {
    for (const error of [
      rejected('AGENTID_ASSERTION_EXPIRED', 500133),
      new OAuthError('AGENTID_INVALID_GRANT', 'bad grant', { status: 400 }),
    ]) {
      const broker = brokerOf(make().agent(DEMO.agents.mail));
      const send = vi.fn(async () => {
        throw error;
      });
      await expect(
        broker.acquire({ flow: 'custom', scopes: ['api://tools/.default'], subject: 'u' }, { send }),
      ).rejects.toBe(error);
      expect(send).toHaveBeenCalledTimes(1);
    }
    const broker = brokerOf(make().agent(DEMO.agents.mail));
    const always = vi.fn(async () => {
      throw rejected('AGENTID_INVALID_CLIENT');
    });
    await expect(
      broker.acquire({ flow: 'custom', scopes: ['api://tools/.default'], subject: 'u' }, { send: always }),
    ).rejects.toMatchObject({ code: 'AGENTID_INVALID_CLIENT' });
    expect(always).toHaveBeenCalledTimes(2);
  });

  it('a refused blueprint credential (leg 1 invalid_client) is thrown as it is: sent once, the request never made', async () => {
    const bp = createBlueprint({
      tenantId: DEMO.tenantId,
      clientId: W.appId,
      credential: secretCredential('wrong-secret', { silenceWarning: true }),
      authorityHost: emu.baseUrl,
      network: { fetch: emu.fetch },
    });
    const exchange = exchangeOf();
    await expect(
      brokerOf(bp.agent(DEMO.agents.mail)).acquire(
        { flow: 'custom', scopes: ['api://tools/.default'] },
        exchange,
      ),
    ).rejects.toMatchObject({ code: 'AGENTID_INVALID_CLIENT' });
    expect(emu.counters.tokenRequests('leg1')).toBe(1);
    expect(exchange.send).not.toHaveBeenCalled();
  });

  it("the agent's MSAL client sends the T1 the broker got for this request, even one no longer cached (no leg 1 inside MSAL)", async () => {
    const bp = make();
    const broker = brokerOf(bp.agent(DEMO.agents.mail));
    const token = await broker.acquire(
      { flow: 'custom-cc', scopes: ['api://reports/.default'] },
      {
        // A request that takes no clientAssertion field (like on-behalf-of): MSAL asks the client's callback.
        send: async ({ msal }) => {
          await bp.invalidate({ agent: DEMO.agents.mail }); // T1 gone from the cache meanwhile
          return msal.acquireTokenByClientCredential({ scopes: ['api://reports/.default'], skipCache: true });
        },
      },
    );
    expect(token.subject).toBe(DEMO.agents.mail);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 1, leg2: 1 });
    // Outside the broker the client has no T1 to send: a typed error, no request.
    await expect(
      broker.msal.acquireTokenByClientCredential({ scopes: ['api://reports/.default'], skipCache: true }),
    ).rejects.toThrow(/outside the broker/);
    expect(emu.counters.snapshot().byGrant).toEqual({ leg1: 1, leg2: 1 });
  });

  it('verify() discards a token before it is cached or returned', async () => {
    const broker = brokerOf(make().agent(DEMO.agents.mail));
    const ok = exchangeOf();
    const verify = vi.fn(() => {
      throw new OAuthError('AGENTID_TOKEN_ENDPOINT', 'not the one asked for');
    });
    await expect(
      broker.acquire({ flow: 'custom', scopes: ['api://tools/.default'] }, { send: ok.send, verify }),
    ).rejects.toThrow(/not the one asked for/);
    expect(nOf(await broker.acquire({ flow: 'custom', scopes: ['api://tools/.default'] }, ok))).toBe(2);
  });
});
