import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { OAuthError } from '../errors/agent-id-error.js';
import { createTestTracing } from '@agentid/test-support/otel';
import { ATTR } from './attributes.js';
import { createRedactingLogger, type Logger, noopLogger } from './logger.js';
import { createTelemetry, recordSpanError, TRACER_NAME, withSpan } from './telemetry.js';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
const tracing = createTestTracing();
afterEach(() => tracing.reset());
afterAll(() => tracing.close());

describe('ATTR', () => {
  it('names the attributes the design uses', () => {
    expect(ATTR).toMatchObject({
      BLUEPRINT_ID: 'agentid.blueprint.id',
      AGENT_ID: 'agentid.agent.id',
      FLOW: 'agentid.flow',
      CACHE_OUTCOME: 'agentid.cache.outcome',
      HTTP_ATTEMPTS: 'agentid.http.attempts',
      OBO_USER_ID: 'agentid.obo.user.id',
      OBO_USER_TENANT: 'agentid.obo.user.tenant',
      ACTOR_CHAIN: 'agentid.actor.chain',
      GEN_AI_AGENT_ID: 'gen_ai.agent.id',
      GEN_AI_TOOL_NAME: 'gen_ai.tool.name',
    });
    expect(Object.isFrozen(ATTR)).toBe(true);
  });
});

describe('createTelemetry().withSpan', () => {
  const telemetry = createTelemetry({ tracerProvider: tracing.provider });

  it('records a span with attributes (dropping undefined) under the @agentid/core tracer', async () => {
    const result = await telemetry.withSpan(
      'agentid.agent.token',
      { [ATTR.AGENT_ID]: 'a1', [ATTR.OBO_USER_ID]: undefined, [ATTR.ACTOR_CHAIN]: ['a0', 'a1'] },
      (span) => {
        span.setAttribute(ATTR.CACHE_OUTCOME, 'hit');
        return 42;
      },
    );
    expect(result).toBe(42);
    const [span] = tracing.spans();
    expect(span?.name).toBe('agentid.agent.token');
    expect(span?.instrumentationScope.name).toBe(TRACER_NAME);
    expect(span?.kind).toBe(SpanKind.INTERNAL);
    expect(span?.attributes).toEqual({
      [ATTR.AGENT_ID]: 'a1',
      [ATTR.ACTOR_CHAIN]: ['a0', 'a1'],
      [ATTR.CACHE_OUTCOME]: 'hit',
    });
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    expect(span?.ended).toBe(true);
  });

  it('nests spans through the async context', async () => {
    await telemetry.withSpan('outer', {}, async () => {
      await new Promise((r) => setTimeout(r, 1));
      await telemetry.withSpan('inner', {}, async () => 1, { kind: SpanKind.CLIENT });
    });
    const [inner, outer] = tracing.spans();
    expect(inner?.name).toBe('inner');
    expect(inner?.kind).toBe(SpanKind.CLIENT);
    expect(inner?.parentSpanContext?.spanId).toBe(outer?.spanContext().spanId);
    expect(inner?.spanContext().traceId).toBe(outer?.spanContext().traceId);
  });

  it('on failure: ERROR status, exception event with the redacted message only, rethrows', async () => {
    const secretError = new Error(`MSAL said: assertion=${JWT} and client_secret=hunter2`);
    await expect(telemetry.withSpan('x', {}, async () => Promise.reject(secretError))).rejects.toBe(
      secretError,
    );
    const [span] = tracing.spans();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.status.message).toContain('[redacted]');
    const dump = JSON.stringify({ status: span?.status, events: span?.events, attributes: span?.attributes });
    expect(dump).not.toContain(JWT);
    expect(dump).not.toContain('hunter2');
    expect(span?.events[0]?.name).toBe('exception');
    expect(span?.attributes[ATTR.ERROR_TYPE]).toBe('Error');
  });

  it('records the AgentIdError code', async () => {
    await expect(
      telemetry.withSpan('x', {}, () => {
        throw new OAuthError('AGENTID_INVALID_GRANT', 'expired');
      }),
    ).rejects.toBeInstanceOf(OAuthError);
    const [span] = tracing.spans();
    expect(span?.attributes[ATTR.ERROR_TYPE]).toBe('AGENTID_INVALID_GRANT');
    expect(span?.attributes[ATTR.ERROR_CODE]).toBe('AGENTID_INVALID_GRANT');
    expect(span?.events[0]?.attributes?.['exception.type']).toBe('AGENTID_INVALID_GRANT');
  });

  it('handles non-Error throws', async () => {
    await expect(telemetry.withSpan('x', {}, () => Promise.reject(`token ${JWT}`))).rejects.toBe(
      `token ${JWT}`,
    );
    expect(JSON.stringify(tracing.spans()[0]?.events)).not.toContain(JWT);
  });

  it('validates the provider', () => {
    expect(() => createTelemetry({ tracerProvider: {} as never })).toThrow(/tracerProvider/);
  });
});

describe('withSpan (global)', () => {
  it('uses the given tracer, or the global provider', async () => {
    await withSpan('explicit', {}, () => 1, { tracer: tracing.provider.getTracer(TRACER_NAME) });
    expect(tracing.spans().map((s) => s.name)).toEqual(['explicit']);
    expect(await withSpan('global-noop', { a: 1 }, async () => 'ok')).toBe('ok');
    expect(trace.getTracerProvider()).toBeDefined();
  });

  it('recordSpanError works on any span', async () => {
    const tracer = tracing.provider.getTracer('t');
    const span = tracer.startSpan('manual');
    recordSpanError(span, new Error(`x ${JWT}`));
    span.end();
    expect(JSON.stringify(tracing.spans()[0]?.events)).not.toContain(JWT);
  });
});

describe('loggers', () => {
  const sink = () => {
    const lines: unknown[][] = [];
    const logger: Logger = {
      debug: (...a) => lines.push(['debug', ...a]),
      info: (...a) => lines.push(['info', ...a]),
      warn: (...a) => lines.push(['warn', ...a]),
      error: (...a) => lines.push(['error', ...a]),
    };
    return { lines, logger };
  };

  it('the default is a no-op', () => {
    const t = createTelemetry();
    expect(t.logger).toBe(noopLogger);
    expect(() => t.logger.error('x')).not.toThrow();
    expect(createRedactingLogger(undefined)).toBe(noopLogger);
  });

  it('redacts messages, string fields and errors', () => {
    const { lines, logger } = sink();
    const t = createTelemetry({ logger });
    t.logger.info(`got ${JWT}`, {
      body: `client_secret=hunter2`,
      n: 1,
      error: Object.assign(new Error(`bad ${JWT}`), { code: 'E' }),
    });
    t.logger.debug('plain');
    t.logger.warn('w', { e: new Error('x') });
    t.logger.error('e');
    const dump = JSON.stringify(lines);
    expect(dump).not.toContain(JWT);
    expect(dump).not.toContain('hunter2');
    expect(lines[0]).toEqual([
      'info',
      'got [redacted]',
      {
        body: 'client_secret=[redacted]',
        n: 1,
        error: { name: 'Error', code: 'E', message: 'bad [redacted]' },
      },
    ]);
    expect(lines[1]).toEqual(['debug', 'plain']);
    expect(lines.map((l) => l[0])).toEqual(['info', 'debug', 'warn', 'error']);
  });

  it('tolerates partial and throwing loggers', () => {
    const info = vi.fn(() => {
      throw new Error('disk full');
    });
    const logger = createRedactingLogger({ info });
    expect(() => logger.info('x')).not.toThrow();
    expect(() => logger.debug('x')).not.toThrow();
    expect(info).toHaveBeenCalledWith('x');
  });
});
