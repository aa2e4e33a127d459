// Metrics and logs as a platform team sees them: a real OpenTelemetry SDK meter provider with an
// in-memory reader, a real pino logger writing into memory, the emulator for Entra.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createBlueprint, type Logger, secretCredential } from '@agentid/core';
import { servicesOf } from '@agentid/core/broker';
import { createTestTracing } from '@agentid/test-support/otel';
import { SpanKind } from '@opentelemetry/api';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { createEmulator, DEMO, type Emulator } from '@agentid/emulator';
import { onBehalfOf } from '@agentid/obo';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const W = DEMO.blueprints.workers;
let emu: Emulator;
beforeAll(async () => {
  emu = await createEmulator();
});
afterAll(() => emu.close());
beforeEach(() => {
  emu.faults.clear();
});

/** A meter provider whose reader we collect by hand (the export interval never fires in a test). */
function meters() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  return {
    provider,
    async points(name: string) {
      const { resourceMetrics } = (await reader.collect()) as { resourceMetrics: ResourceMetrics };
      const metric = resourceMetrics.scopeMetrics
        .flatMap((s) => s.metrics.map((m) => ({ scope: s.scope, m })))
        .find(({ m }) => m.descriptor.name === name);
      return metric
        ? {
            scope: metric.scope,
            unit: metric.m.descriptor.unit,
            points: metric.m.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value })),
          }
        : undefined;
    },
    close: () => provider.shutdown(),
  };
}

/** pino writing JSON lines into memory. */
function pinoInMemory() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, destination), lines };
}

const blueprint = (extra: {
  meterProvider?: MeterProvider;
  logger?: Partial<Logger>;
  fetch?: typeof fetch;
  app?: { appId: string; secret: string };
}) =>
  createBlueprint({
    tenantId: DEMO.tenantId,
    clientId: (extra.app ?? W).appId,
    credential: secretCredential((extra.app ?? W).secret, { silenceWarning: true }),
    authorityHost: emu.baseUrl,
    network: { fetch: extra.fetch ?? emu.fetch },
    telemetry: {
      ...(extra.meterProvider ? { meterProvider: extra.meterProvider } : {}),
      ...(extra.logger ? { logger: extra.logger } : {}),
    },
  });

describe('metrics through @opentelemetry/api', () => {
  it('counts token requests by flow and outcome, lookups by result, and their duration in seconds', async () => {
    const m = meters();
    const bp = blueprint({ meterProvider: m.provider });
    const agent = bp.agent(DEMO.agents.mail);
    await agent.getToken(['api://tools/.default']);
    await agent.getToken(['api://tools/.default']);
    await agent.getToken(['api://tools/.default']);
    await Promise.all([
      agent.getToken(['https://graph.microsoft.com/.default']),
      agent.getToken(['https://graph.microsoft.com/.default']),
    ]);

    const requests = await m.points('agentid.token.requests');
    expect(requests?.scope.name).toBe('@agentid/core');
    expect(requests?.scope.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(requests?.unit).toBe('{request}');
    const byFlow = Object.fromEntries(
      requests!.points.map((p) => [
        `${p.attributes['agentid.flow']}:${p.attributes['agentid.token.outcome']}`,
        p.value,
      ]),
    );
    // T1 (leg 1) once (cached), the autonomous token (leg 2) once per resource.
    expect(byFlow).toEqual({ 'exchange:success': 1, 'autonomous:success': 2 });

    const lookups = await m.points('agentid.cache.lookups');
    const autonomous = Object.fromEntries(
      lookups!.points
        .filter((p) => p.attributes['agentid.flow'] === 'autonomous')
        .map((p) => [p.attributes['agentid.cache.result'], p.value]),
    );
    expect(autonomous).toEqual({ hit: 2, stale: 0, miss: 2, coalesced: 1, l2_hit: 0 });

    const duration = await m.points('agentid.token.acquisition.duration');
    expect(duration?.unit).toBe('s');
    const point = duration!.points.find((p) => p.attributes['agentid.flow'] === 'autonomous')!;
    const histogram = point.value as { count: number; sum: number };
    expect(histogram.count).toBe(2);
    expect(histogram.sum).toBeGreaterThan(0);
    expect(histogram.sum).toBeLessThan(30); // seconds, not milliseconds
    await m.close();
  });

  it('counts failures by error code and retries by reason', async () => {
    const m = meters();
    const bp = blueprint({ meterProvider: m.provider });
    emu.faults.add({ kind: 'status', status: 429, retryAfterSec: 0, grant: 'leg1', times: 1 });
    await bp.agent(DEMO.agents.mail).getToken(['api://tools/.default']);
    const retries = await m.points('agentid.token.retries');
    expect(retries?.points).toEqual([{ attributes: { 'agentid.retry.reason': 'http_429' }, value: 1 }]);

    await expect(
      bp.agent('00000000-0000-0000-0000-00000000dead').getToken(['api://tools/.default']),
    ).rejects.toThrow();
    const requests = await m.points('agentid.token.requests');
    const failed = requests!.points.filter((p) => p.attributes['agentid.token.outcome'] === 'error');
    expect(failed.length).toBe(1);
    expect(failed[0]!.attributes['error.type']).toMatch(/^AGENTID_/);
    await m.close();
  });

  it('two blueprints on one provider add up instead of reporting the same series twice', async () => {
    const m = meters();
    await blueprint({ meterProvider: m.provider }).agent(DEMO.agents.mail).getToken(['api://tools/.default']);
    await blueprint({ meterProvider: m.provider }).agent(DEMO.agents.mail).getToken(['api://tools/.default']);
    const lookups = await m.points('agentid.cache.lookups');
    const misses = lookups!.points.find(
      (p) => p.attributes['agentid.flow'] === 'autonomous' && p.attributes['agentid.cache.result'] === 'miss',
    );
    expect(misses?.value).toBe(2);
    await m.close();
  });

  it('counts OBO hits on their own flow', async () => {
    const m = meters();
    const O = DEMO.blueprints.orchestrator;
    const bp = blueprint({ meterProvider: m.provider, app: O });
    const agent = bp.agent(DEMO.agents.orchestrator);
    const user = await emu.issueUserToken({
      user: DEMO.users.alice.upn,
      clientId: DEMO.chatApp.appId,
      scopes: [`api://${O.appId}/access_agent`],
    });
    await onBehalfOf(agent, user, ['api://tools/Files.Read']);
    await onBehalfOf(agent, user, ['api://tools/Files.Read']);
    const lookups = await m.points('agentid.cache.lookups');
    const obo = lookups!.points.filter((p) => p.attributes['agentid.flow'] === 'obo');
    expect(Object.fromEntries(obo.map((p) => [p.attributes['agentid.cache.result'], p.value]))).toMatchObject(
      {
        hit: 1,
        miss: 1,
      },
    );
    await m.close();
  });
});

describe('logs through the pluggable logger (pino)', () => {
  it('a retry is logged with its structured fields, which pino keeps', async () => {
    const { logger, lines } = pinoInMemory();
    const bp = blueprint({ logger });
    emu.faults.add({ kind: 'status', status: 503, retryAfterSec: 0, grant: 'leg1', times: 1 });
    await bp.agent(DEMO.agents.mail).getToken(['api://tools/.default']);
    const retry = lines.find((l) => l['msg'] === 'agentid: HTTP request failed; retrying');
    expect(retry).toMatchObject({ level: 40, reason: 'http_503', method: 'POST', attempt: 1, status: 503 });
    expect(String(retry!['url'])).toMatch(/^https?:\/\/[^?]+\/oauth2\/v2\.0\/token$/);
  });

  it('a Conditional Access block is logged with its code and AADSTS, never the token or the secret', async () => {
    const { logger, lines } = pinoInMemory();
    let block = false;
    const fetchFn: typeof fetch = (url, init) =>
      block
        ? Promise.resolve(
            new Response(
              JSON.stringify({
                error: 'invalid_grant',
                error_description: `AADSTS53003: Access has been blocked by Conditional Access policies. client_secret=${W.secret}`,
                error_codes: [53003],
                correlation_id: '11111111-2222-3333-4444-555555555555',
              }),
              { status: 400, headers: { 'content-type': 'application/json' } },
            ),
          )
        : emu.fetch(url, init);
    const bp = blueprint({ logger, fetch: fetchFn });
    const agent = bp.agent(DEMO.agents.mail);
    const t1 = await agent.getToken(['api://tools/.default']);
    block = true;
    await expect(agent.getToken(['https://graph.microsoft.com/.default'])).rejects.toMatchObject({
      aadsts: 53003,
    });
    const line = lines.find((l) => l['msg'] === 'agentid: Conditional Access blocked a token request');
    expect(line).toMatchObject({ level: 40, flow: 'autonomous', aadsts: 53003 });
    expect(line!['correlationId']).toBe('11111111-2222-3333-4444-555555555555');
    const all = JSON.stringify(lines);
    expect(all).not.toContain(W.secret);
    expect(all).not.toContain(t1.token);
  });
});

describe('traces with the standard undici instrumentation on', () => {
  it("one CLIENT span per attempt (the instrumentation's), under our one INTERNAL span", async () => {
    const tracing = createTestTracing();
    const undici = new UndiciInstrumentation();
    undici.setTracerProvider(tracing.provider);
    undici.enable();
    let calls = 0;
    const server = createServer((req, res) => {
      calls++;
      res
        .writeHead(calls === 1 ? 503 : 200, { 'retry-after': '0' })
        .end(`{"traceparent":"${req.headers.traceparent}"}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const bp = createBlueprint({
        tenantId: DEMO.tenantId,
        clientId: W.appId,
        credential: secretCredential(W.secret, { silenceWarning: true }),
        authorityHost: emu.baseUrl,
        telemetry: { tracerProvider: tracing.provider },
      });
      const res = await servicesOf(bp).http.request({
        url: `http://127.0.0.1:${port}/x`,
        method: 'POST',
        body: '',
      });
      expect(res.attempts).toBe(2);
      const spans = tracing.spans();
      const ours = spans.filter((s) => s.instrumentationScope.name === '@agentid/core');
      const clients = spans.filter((s) => s.kind === SpanKind.CLIENT);
      expect(ours.map((s) => [s.name, s.kind])).toEqual([['agentid.http POST', SpanKind.INTERNAL]]);
      expect(ours[0]!.attributes).toMatchObject({ 'server.address': '127.0.0.1', 'server.port': port });
      expect(clients).toHaveLength(2);
      for (const c of clients) expect(c.parentSpanContext?.spanId).toBe(ours[0]!.spanContext().spanId);
    } finally {
      undici.disable();
      server.close();
      await tracing.close();
    }
  });
});

describe('scripts/span-tree.mjs', () => {
  it('renders the span tree of an OTLP JSON file as an SVG, children under their parent', async () => {
    const tracing = createTestTracing();
    try {
      const bp = createBlueprint({
        tenantId: DEMO.tenantId,
        clientId: W.appId,
        credential: secretCredential(W.secret, { silenceWarning: true }),
        authorityHost: emu.baseUrl,
        network: { fetch: emu.fetch },
        telemetry: { tracerProvider: tracing.provider },
      });
      await bp.agent(DEMO.agents.mail).getToken(['api://tools/.default']);
      const dir = mkdtempSync(join(tmpdir(), 'span-tree-'));
      const input = join(dir, 'spans.json');
      const output = join(dir, 'tree.svg');
      writeFileSync(input, JsonTraceSerializer.serializeRequest(tracing.spans())!);
      const r = spawnSync(process.execPath, ['scripts/span-tree.mjs', input, `--out=${output}`], {
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      const svg = readFileSync(output, 'utf8');
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      const names = [...svg.matchAll(/<text x="(\d+)" [^>]*>(?:└ )?<tspan font-weight="bold">([^<]+)</g)].map(
        (m) => `${m[1]} ${m[2]}`,
      );
      // The autonomous request, T1 (leg 1) under it, each with its HTTP request: 16 px per level.
      expect(names).toEqual([
        '12 agentid.autonomous',
        '28 agentid.exchange',
        '44 agentid.http POST',
        '28 agentid.http POST',
      ]);
    } finally {
      await tracing.close();
    }
  });
});
