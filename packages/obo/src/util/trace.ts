import { context, isSpanContextValid, type Link, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';

/**
 * The trace context of the active context as the application's configured propagators write
 * it (`propagation.inject`): `traceparent` and `tracestate` with the W3C trace-context
 * propagator, `baggage` with the baggage one, or whatever else is registered (B3, Jaeger). With
 * no propagator registered (the API's no-op), nothing. Header names are lower-case.
 *
 * @example
 * ```ts
 * await fetch(url, { headers: { ...traceHeaders(), authorization } });
 * ```
 */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/**
 * The W3C `traceparent` of the active context, as the configured propagators write it (the W3C
 * trace-context propagator, NodeSDK's default), if any: the delegation chain signs it so that
 * the next hop can link its span to this one.
 *
 * @example
 * ```ts
 * const tp = currentTraceparent(); // '00-<trace id>-<span id>-01' under an active span
 * ```
 */
export function currentTraceparent(): string | undefined {
  return traceHeaders()['traceparent'];
}

/**
 * A span link to the span a `traceparent` names, read by the configured propagators
 * (`propagation.extract`; invalid values, or no W3C propagator, give none).
 *
 * @example
 * ```ts
 * const links = linkFromTraceparent(ctx.traceparent);
 * ```
 */
export function linkFromTraceparent(traceparent: string | undefined): Link[] {
  if (typeof traceparent !== 'string' || traceparent.length > 128) return [];
  const spanContext = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent }));
  return spanContext !== undefined && isSpanContextValid(spanContext)
    ? [{ context: spanContext, attributes: { 'agentid.link': 'upstream-agent' } }]
    : [];
}
