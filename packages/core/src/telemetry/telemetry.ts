import {
  type Attributes,
  type AttributeValue,
  type Link,
  type MeterProvider,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { ConfigurationError } from '../errors/agent-id-error.js';
import { redact } from '../util/redact.js';
import { ATTR } from './attributes.js';
import { createRedactingLogger, type Logger, noopLogger } from './logger.js';
import { type AgentIdMetrics, metricsFor } from './metrics.js';
import { PACKAGE_VERSION, TRACER_NAME } from './version.js';

export { PACKAGE_VERSION, TRACER_NAME } from './version.js';

/**
 * Span attributes as callers pass them; `undefined` values are dropped.
 *
 * @example
 * ```ts
 * const attrs: SpanAttributes = { [ATTR.AGENT_ID]: agentId, [ATTR.OBO_USER_ID]: maybeUser };
 * ```
 */
export type SpanAttributes = Readonly<Record<string, AttributeValue | readonly string[] | undefined>>;

/**
 * Options of a single span.
 *
 * @example
 * ```ts
 * await telemetry.withSpan('POST', attrs, send, { kind: SpanKind.CLIENT });
 * ```
 */
export interface WithSpanOptions {
  kind?: SpanKind;
  /** Links to spans of other traces (e.g. the upstream agent hop). */
  links?: Link[];
}

/**
 * Tracing and logging for one component.
 *
 * @example
 * ```ts
 * const t = createTelemetry({ tracerProvider, logger: console });
 * await t.withSpan('agentid.token', { [ATTR.AGENT_ID]: id }, async (span) => { ... });
 * ```
 */
export interface Telemetry {
  readonly tracer: Tracer;
  /** The given logger, wrapped so that everything it receives is redacted. */
  readonly logger: Logger;
  /** The instruments of the meter provider (shared by every component that uses that provider). */
  readonly metrics: AgentIdMetrics;
  /** Runs `fn` in an active span with `attributes` (ids and outcomes, never tokens). */
  withSpan<T>(
    name: string,
    attributes: SpanAttributes,
    fn: (span: Span) => Promise<T> | T,
    options?: WithSpanOptions,
  ): Promise<T>;
  /**
   * Records a span for work that is already done and was synchronous (a cache hit): started and
   * ended at once, never made active, so it costs no context switch. `attributes` come from
   * `spanAttributes`, built once and shared by every span (frozen: SDKs copy them; an old
   * one that merges sampler attributes into them throws instead of changing them); `outcome`
   * are set last.
   */
  recordSpan(
    name: string,
    attributes: Readonly<Attributes>,
    outcome: Readonly<Attributes>,
    options?: WithSpanOptions,
  ): void;
}

/**
 * Options of {@link createTelemetry}.
 *
 * @example
 * ```ts
 * const options: TelemetryOptions = { tracerProvider: provider };
 * ```
 */
export interface TelemetryOptions {
  /** Default: the global provider (a no-op unless the application registered one). */
  tracerProvider?: TracerProvider;
  /**
   * Default: the global provider (`metrics.getMeterProvider()`). The API has no proxy for
   * metrics: register the SDK's provider before creating the blueprint, or pass it here.
   */
  meterProvider?: MeterProvider;
  /** Console, winston, a pino logger (recognised and given its fields first) or any {@link Logger}. */
  logger?: Partial<Logger>;
}

/**
 * Span attributes with `undefined` values dropped and arrays copied, ready for
 * {@link Telemetry.recordSpan}: build them once for a hot path, not per span.
 *
 * @example
 * ```ts
 * const attrs = spanAttributes({ [ATTR.AGENT_ID]: agentId, [ATTR.OBO_USER_ID]: maybeUser });
 * telemetry.recordSpan('agentid.autonomous', attrs, { [ATTR.CACHE_OUTCOME]: 'hit' });
 * ```
 */
export function spanAttributes(attributes: SpanAttributes): Readonly<Attributes> {
  return Object.freeze(cleanAttributes(attributes));
}

function cleanAttributes(attributes: SpanAttributes): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== undefined) out[key] = (Array.isArray(value) ? [...value] : value) as AttributeValue;
  }
  return out;
}

/**
 * Marks a span as failed with a redacted message only: the exception event carries the error's
 * name, code and redacted message and stack, never the original text of a foreign error (MSAL
 * and fetch errors may quote request bodies).
 *
 * @example
 * ```ts
 * try { ... } catch (e) { recordSpanError(span, e); throw e; }
 * ```
 */
export function recordSpanError(span: Span, error: unknown): void {
  const name = error instanceof Error ? error.name : 'Error';
  const message = redact(error instanceof Error ? error.message : String(error));
  const code =
    typeof (error as { code?: unknown } | null)?.code === 'string'
      ? (error as { code: string }).code
      : undefined;
  const exception: { name: string; message: string; code?: string; stack?: string } = { name, message };
  if (code !== undefined) exception.code = code;
  if (error instanceof Error && typeof error.stack === 'string') exception.stack = redact(error.stack);
  span.recordException(exception);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.setAttribute(ATTR.ERROR_TYPE, code ?? name);
  if (code !== undefined) span.setAttribute(ATTR.ERROR_CODE, code);
}

async function runInSpan<T>(
  tracer: Tracer,
  name: string,
  attributes: SpanAttributes,
  fn: (span: Span) => Promise<T> | T,
  options: WithSpanOptions | undefined,
): Promise<T> {
  return tracer.startActiveSpan(
    name,
    {
      kind: options?.kind ?? SpanKind.INTERNAL,
      attributes: cleanAttributes(attributes),
      ...(options?.links?.length ? { links: options.links } : {}),
    },
    async (span) => {
      try {
        return await fn(span);
      } catch (error) {
        recordSpanError(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * Creates a {@link Telemetry} whose tracer and meter are named `@agentid/core` (with its version).
 *
 * @example
 * ```ts
 * const telemetry = createTelemetry({ tracerProvider: provider, logger: pino() });
 * ```
 */
export function createTelemetry(options: TelemetryOptions = {}): Telemetry {
  const provider = options.tracerProvider ?? trace.getTracerProvider();
  if (typeof provider?.getTracer !== 'function')
    throw new ConfigurationError('tracerProvider must have a getTracer() method');
  const tracer = provider.getTracer(TRACER_NAME, PACKAGE_VERSION);
  const metrics = metricsFor(options.meterProvider);
  const logger = options.logger === undefined ? noopLogger : createRedactingLogger(options.logger);
  return Object.freeze({
    tracer,
    logger,
    metrics,
    withSpan: <T>(
      name: string,
      attributes: SpanAttributes,
      fn: (span: Span) => Promise<T> | T,
      spanOptions?: WithSpanOptions,
    ) => runInSpan(tracer, name, attributes, fn, spanOptions),
    recordSpan(
      name: string,
      attributes: Readonly<Attributes>,
      outcome: Readonly<Attributes>,
      spanOptions?: WithSpanOptions,
    ) {
      const kind = spanOptions?.kind ?? SpanKind.INTERNAL;
      const links = spanOptions?.links;
      const span = tracer.startSpan(name, links?.length ? { kind, attributes, links } : { kind, attributes });
      span.setAttributes(outcome);
      span.end();
    },
  });
}

/**
 * Runs `fn` inside an active span (global tracer provider, or `options.tracer`): attributes
 * set up front, `undefined` ones dropped; on failure, status ERROR and an exception event with
 * the redacted message; always ended. Returns or rethrows what `fn` does.
 *
 * @example
 * ```ts
 * const token = await withSpan('agentid.agent.token', { [ATTR.AGENT_ID]: agentId }, async (span) => {
 *   const r = await store.get(key, acquire);
 *   span.setAttribute(ATTR.CACHE_OUTCOME, r.outcome);
 *   return r.token;
 * });
 * ```
 */
export function withSpan<T>(
  name: string,
  attributes: SpanAttributes,
  fn: (span: Span) => Promise<T> | T,
  options?: WithSpanOptions & { tracer?: Tracer },
): Promise<T> {
  return runInSpan(
    options?.tracer ?? trace.getTracer(TRACER_NAME, PACKAGE_VERSION),
    name,
    attributes,
    fn,
    options,
  );
}
