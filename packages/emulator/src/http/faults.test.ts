import { createEmulator, DEMO, type Emulator, type FaultSpec } from '@agentid/emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { postToken } from '@agentid/test-support/emulator';
import { Counters, type RequestRecord } from './counters.js';
import { Faults } from './faults.js';

// Fault injection, counters and the in-process transports, without sockets.
const T = DEMO.tenantId;
const W = DEMO.blueprints.workers;
const EX = 'api://AzureADTokenExchange/.default';
const leg1 = {
  client_id: W.appId,
  client_secret: W.secret,
  grant_type: 'client_credentials',
  scope: EX,
  fmi_path: DEMO.agents.mail,
};

describe('Faults', () => {
  it('validates specs, naming the field', () => {
    const f = new Faults();
    const bad: Array<[unknown, RegExp]> = [
      [undefined, /kind/],
      [{ kind: 'explode' }, /kind/],
      [{ kind: 'status' }, /status/],
      [{ kind: 'status', status: 302 }, /status/],
      [{ kind: 'status', status: 600 }, /status/],
      [{ kind: 'latency' }, /latencyMs/],
      [{ kind: 'latency', latencyMs: -1 }, /latencyMs/],
      [{ kind: 'latency', latencyMs: Number.POSITIVE_INFINITY }, /latencyMs/],
      [{ kind: 'drop', route: 'tokens' }, /route/],
      [{ kind: 'drop', grant: 'leg3' }, /grant/],
      [{ kind: 'drop', clientId: 42 }, /clientId/],
      [{ kind: 'status', status: 429, retryAfterSec: 1.5 }, /retryAfterSec/],
      [{ kind: 'status', status: 429, retryAfterSec: '2\r\nset-cookie: x' }, /retryAfterSec/],
      [{ kind: 'drop', times: 0 }, /times/],
      [{ kind: 'drop', times: 1.5 }, /times/],
      [{ kind: 'drop', probability: 1.1 }, /probability/],
      [{ kind: 'drop', probability: -0.1 }, /probability/],
    ];
    for (const [spec, msg] of bad) expect(() => f.add(spec as FaultSpec), JSON.stringify(spec)).toThrow(msg);
    expect(f.active()).toEqual([]);
  });

  it('only keeps the known fields of a spec (specs come as JSON from the admin route)', () => {
    const f = new Faults();
    f.add({ kind: 'drop', extra: 'x', remaining: -5 } as unknown as FaultSpec);
    const [a] = f.active();
    expect(Object.keys(a!).sort()).toEqual(['id', 'kind']);
    expect(f.decide('token', undefined, undefined).fault?.kind).toBe('drop');
  });

  it('matches route (default token), grant and client; "*" is every route but admin', () => {
    const f = new Faults();
    f.add({ kind: 'status', status: 500 });
    expect(f.decide('jwks', undefined, undefined).fault).toBeUndefined();
    expect(f.decide('token', 'leg1', 'x').fault?.status).toBe(500);
    f.clear();
    f.add({ kind: 'status', status: 502, route: 'token', grant: 'obo', clientId: 'c' });
    expect(f.decide('token', 'leg1', 'c').fault).toBeUndefined();
    expect(f.decide('token', 'obo', 'd').fault).toBeUndefined();
    expect(f.decide('token', 'obo', 'c').fault?.status).toBe(502);
    f.clear();
    f.add({ kind: 'malformed', route: '*' });
    expect(f.decide('admin', undefined, undefined).fault).toBeUndefined();
    for (const r of ['token', 'jwks', 'openid', 'graph', 'mi'] as const)
      expect(f.decide(r, undefined, undefined).fault?.kind).toBe('malformed');
  });

  it('times counts matching requests; spent faults leave active() at once', () => {
    const f = new Faults();
    f.add({ kind: 'status', status: 503, times: 2 });
    expect(f.active()).toHaveLength(1);
    expect(f.decide('token', undefined, undefined).fault).toBeDefined();
    expect(f.active()[0]).toMatchObject({ kind: 'status', times: 2 });
    expect(f.decide('jwks', undefined, undefined).fault).toBeUndefined(); // not matching: not counted
    expect(f.decide('token', undefined, undefined).fault).toBeDefined();
    expect(f.active()).toEqual([]);
    expect(f.decide('token', undefined, undefined).fault).toBeUndefined();
  });

  it('latency faults add up and do not answer; the first answering fault wins, in order', () => {
    const f = new Faults();
    f.add({ kind: 'latency', latencyMs: 100 });
    f.add({ kind: 'latency', latencyMs: 50, times: 1 });
    f.add({ kind: 'status', status: 429, retryAfterSec: 3, times: 1 });
    f.add({ kind: 'status', status: 500 });
    const d1 = f.decide('token', undefined, undefined);
    expect(d1.latencyMs).toBe(150);
    expect(d1.fault?.status).toBe(429);
    const d2 = f.decide('token', undefined, undefined);
    expect(d2.latencyMs).toBe(100);
    expect(d2.fault?.status).toBe(500);
  });

  it('probability uses the injected random source; remove() takes one fault out', () => {
    const rolls = [0.9, 0.1];
    const f = new Faults(() => rolls.shift() ?? 0);
    const id = f.add({ kind: 'drop', probability: 0.5 });
    expect(f.decide('token', undefined, undefined).fault).toBeUndefined();
    expect(f.decide('token', undefined, undefined).fault?.kind).toBe('drop');
    expect(f.remove(id)).toBe(true);
    expect(f.remove(id)).toBe(false);
    expect(f.decide('token', undefined, undefined).fault).toBeUndefined();
  });
});

describe('Counters', () => {
  const rec = (i: number, extra: Partial<RequestRecord> = {}): RequestRecord => ({
    at: i,
    route: 'token',
    method: 'POST',
    path: '/t',
    status: 200,
    grant: 'leg1',
    clientId: 'c',
    ...extra,
  });

  it('counts by route, grant, client and status', () => {
    const c = new Counters();
    c.record(rec(1));
    c.record(rec(2, { grant: 'leg2', clientId: 'a', status: 400 }));
    c.record(rec(3, { route: 'jwks', grant: undefined, clientId: undefined }));
    expect(c.snapshot()).toEqual({
      total: 3,
      byRoute: { token: 2, jwks: 1 },
      byGrant: { leg1: 1, leg2: 1 },
      byClient: { c: 1, a: 1 },
      byStatus: { '200': 2, '400': 1 },
    });
    expect(c.tokenRequests()).toBe(2);
    expect(c.tokenRequests('leg2')).toBe(1);
    expect(c.tokenRequests('obo')).toBe(0);
  });

  it('snapshots and records are copies', () => {
    const c = new Counters();
    c.record(rec(1));
    const s = c.snapshot();
    s.byGrant.leg1 = 99;
    c.requests()[0]!.status = 500;
    expect(c.snapshot().byGrant.leg1).toBe(1);
    expect(c.requests()[0]!.status).toBe(200);
  });

  it('keeps only the latest maxRecords records, while the counts keep going', () => {
    const c = new Counters(10);
    for (let i = 0; i < 35; i++) c.record(rec(i, { fmiPath: i % 2 ? 'odd' : 'even' }));
    const all = c.requests();
    expect(all).toHaveLength(10);
    expect(all.map((r) => r.at)).toEqual([25, 26, 27, 28, 29, 30, 31, 32, 33, 34]);
    expect(c.requests({ fmiPath: 'odd' }).map((r) => r.at)).toEqual([25, 27, 29, 31, 33]);
    expect(c.snapshot().total).toBe(35);
    expect(() => new Counters(0)).toThrow(TypeError);
  });

  it('recording stays cheap at the cap', () => {
    const c = new Counters(50_000);
    const t0 = performance.now();
    for (let i = 0; i < 300_000; i++) c.record(rec(i));
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(c.requests()).toHaveLength(50_000);
    expect(c.requests()[0]!.at).toBe(250_000);
  });

  it('reset clears counts and records', () => {
    const c = new Counters();
    c.record(rec(1));
    c.reset();
    expect(c.snapshot()).toEqual({ total: 0, byRoute: {}, byGrant: {}, byClient: {}, byStatus: {} });
    expect(c.requests()).toEqual([]);
  });
});

describe('in-process transports with faults', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await createEmulator();
  });
  afterAll(() => emu.close());
  afterEach(() => emu.faults.clear());

  it('drop: emu.fetch rejects like undici (TypeError "fetch failed", cause ECONNRESET); the network module too', async () => {
    emu.faults.add({ kind: 'drop', times: 2 });
    const err = await postToken(emu, T, leg1).then(
      () => undefined,
      (e: unknown) => e as TypeError & { cause?: { code?: string } },
    );
    expect(err).toBeInstanceOf(TypeError);
    expect(err!.message).toBe('fetch failed');
    expect(err!.cause?.code).toBe('ECONNRESET');
    await expect(
      emu.networkModule.sendPostRequestAsync(emu.tokenEndpoint(T), {
        body: new URLSearchParams(leg1).toString(),
      }),
    ).rejects.toThrow('fetch failed');
    expect((await postToken(emu, T, leg1)).status).toBe(200);
  });

  it('latency delays the in-process answer; an abort signal cuts it short', async () => {
    emu.faults.add({ kind: 'latency', latencyMs: 120, times: 1 });
    const t0 = performance.now();
    expect((await postToken(emu, T, leg1)).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(110);

    emu.faults.add({ kind: 'latency', latencyMs: 5_000, times: 1 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('gave up')), 30);
    const t1 = performance.now();
    await expect(
      emu.fetch(emu.tokenEndpoint(T), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(leg1),
        signal: ac.signal,
      }),
    ).rejects.toThrow('gave up');
    expect(performance.now() - t1).toBeLessThan(1_000);
    // An already aborted signal rejects before the emulator sees the request.
    emu.counters.reset();
    await expect(
      emu.fetch(`${emu.baseUrl}/healthz`, { signal: AbortSignal.abort(new Error('early')) }),
    ).rejects.toThrow('early');
    expect(emu.counters.snapshot().total).toBe(0);
  });

  it('status faults reach the network module as MSAL would see them: status, headers and parsed body', async () => {
    emu.faults.add({ kind: 'status', status: 429, retryAfterSec: 7, times: 1 });
    const r = await emu.networkModule.sendPostRequestAsync<Record<string, unknown>>(emu.tokenEndpoint(T), {
      body: new URLSearchParams(leg1).toString(),
    });
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toBe('7');
    expect(r.body.error_codes).toEqual([50196]);
    const ok = await emu.networkModule.sendPostRequestAsync<Record<string, unknown>>(emu.tokenEndpoint(T), {
      body: new URLSearchParams(leg1).toString(),
    });
    expect(ok.status).toBe(200);
    expect(ok.body.access_token).toBeTypeOf('string');
  });

  it('the in-process paths refuse bodies over 1 MiB with 413 and do not count them', async () => {
    emu.counters.reset();
    const big = `grant_type=client_credentials&x=${'a'.repeat(1024 * 1024)}`;
    const r = await emu.networkModule.sendPostRequestAsync<Record<string, unknown>>(emu.tokenEndpoint(T), {
      body: big,
    });
    expect(r.status).toBe(413);
    expect(String(r.body.error_description)).toMatch(/^AADSTS90015/);
    expect(r.body.error_codes).toEqual([90015]);
    expect(emu.counters.snapshot().total).toBe(0);
  });

  it('204 and HEAD answers have no body', async () => {
    const token = await postToken(emu, T, {
      client_id: W.appId,
      client_secret: W.secret,
      grant_type: 'client_credentials',
      scope: 'https://graph.microsoft.com/.default',
    });
    const r = await emu.fetch(`${emu.baseUrl}/beta/serviceprincipals/${DEMO.agents.reporter}`, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${String(token.body.access_token)}`,
        'content-type': 'application/json',
      },
      body: '{"displayName":"x"}',
    });
    expect(r.status).toBe(204);
    expect(r.body).toBeNull();
    const h = await emu.fetch(`${emu.baseUrl}/healthz`, { method: 'HEAD' });
    expect(h.status).toBe(200);
    expect(await h.text()).toBe('');
  });
});
