import { context, propagation } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/**
 * In-memory tracing for tests. Spans end up in `exporter` as soon as they end.
 *
 * @example
 * ```ts
 * const tracing = createTestTracing();
 * afterEach(() => tracing.reset());
 * afterAll(() => tracing.close());
 * ```
 */
export interface TestTracing {
  readonly provider: BasicTracerProvider;
  readonly exporter: InMemorySpanExporter;
  /** Finished spans, oldest first. */
  spans(): ReadableSpan[];
  /** Forgets finished spans. */
  reset(): void;
  /** Unregisters the context manager and shuts the provider down. */
  close(): Promise<void>;
}

/**
 * Creates a {@link TestTracing}: a BasicTracerProvider with a SimpleSpanProcessor on an
 * InMemorySpanExporter (sdk-trace-base 2.x: processors go in the constructor), and an
 * AsyncLocalStorage context manager and the W3C trace-context and baggage propagators (NodeSDK's
 * defaults) registered globally so parent/child links and propagation work. Does not
 * register a global tracer provider: pass `provider` (or a tracer from it) explicitly.
 *
 * @example
 * ```ts
 * const tracing = createTestTracing();
 * const telemetry = createTelemetry({ tracerProvider: tracing.provider });
 * await telemetry.withSpan('x', {}, () => 1);
 * expect(tracing.spans()[0]?.name).toBe('x');
 * ```
 */
export function createTestTracing(): TestTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  // Replace whatever a previous test file left: the global API refuses a second registration.
  context.disable();
  context.setGlobalContextManager(contextManager);
  // What NodeSDK registers by default: W3C trace context and baggage.
  propagation.disable();
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  return {
    provider,
    exporter,
    spans: () => exporter.getFinishedSpans(),
    reset: () => exporter.reset(),
    async close() {
      context.disable();
      propagation.disable();
      await provider.shutdown();
    },
  };
}
