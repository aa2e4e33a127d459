import { context, propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import {
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
  CompositePropagator,
  TraceState,
} from '@opentelemetry/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestTracing } from '@agentid/test-support/otel';
import { currentTraceparent, linkFromTraceparent, traceHeaders } from './trace.js';

const tracing = createTestTracing();
afterEach(() => {
  propagation.disable();
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
});

const remote = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
  traceState: new TraceState('vendor=abc,other=1'),
};
const inRemoteContext = <T>(fn: () => T): T => {
  const withSpan = trace.setSpanContext(ROOT_CONTEXT, remote);
  const withBaggage = propagation.setBaggage(
    withSpan,
    propagation.createBaggage({ tenant: { value: 'contoso' } }),
  );
  return context.with(withBaggage, fn);
};

describe('trace context through the propagation API', () => {
  it('writes traceparent, tracestate and baggage as the registered propagators do', () => {
    const headers = inRemoteContext(() => traceHeaders());
    expect(headers).toEqual({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'vendor=abc,other=1',
      baggage: 'tenant=contoso',
    });
    expect(inRemoteContext(() => currentTraceparent())).toBe(headers['traceparent']);
  });

  it('writes the active span of a real tracer', async () => {
    const tracer = tracing.provider.getTracer('t');
    const [tp, id] = tracer.startActiveSpan('s', (span) => {
      span.end();
      return [currentTraceparent(), span.spanContext()] as const;
    });
    expect(tp).toBe(`00-${id.traceId}-${id.spanId}-01`);
  });

  it('follows whatever propagator the application configured, and writes nothing with none', () => {
    propagation.disable();
    expect(inRemoteContext(() => traceHeaders())).toEqual({});
    expect(linkFromTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).toEqual([]);
    propagation.setGlobalPropagator({
      inject: (_ctx, carrier: Record<string, string>) => {
        carrier['x-b3-traceid'] = remote.traceId;
      },
      extract: (ctx) => ctx,
      fields: () => ['x-b3-traceid'],
    });
    expect(inRemoteContext(() => traceHeaders())).toEqual({ 'x-b3-traceid': remote.traceId });
  });

  it('links to the span a traceparent names, and to nothing for a bad one', () => {
    const [link] = linkFromTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(link?.context).toMatchObject({ traceId: remote.traceId, spanId: remote.spanId, isRemote: true });
    expect(link?.attributes).toEqual({ 'agentid.link': 'upstream-agent' });
    expect(linkFromTraceparent('00-00000000000000000000000000000000-b7ad6b7169203331-01')).toEqual([]);
    expect(linkFromTraceparent('garbage')).toEqual([]);
    expect(linkFromTraceparent(undefined)).toEqual([]);
  });
});
