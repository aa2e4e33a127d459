import { isSpanContextValid, type Link, type SpanContext, trace, TraceFlags } from '@opentelemetry/api';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The W3C `traceparent` of the active span, if any.
 *
 * @example
 * ```ts
 * headers.traceparent = currentTraceparent() ?? '';
 * ```
 */
export function currentTraceparent(): string | undefined {
  const ctx = trace.getActiveSpan()?.spanContext();
  if (!ctx || !isSpanContextValid(ctx)) return undefined;
  return `00-${ctx.traceId}-${ctx.spanId}-${(ctx.traceFlags & TraceFlags.SAMPLED ? 1 : 0).toString(16).padStart(2, '0')}`;
}

/**
 * A span link to the span a `traceparent` names (invalid values give none).
 *
 * @example
 * ```ts
 * const links = linkFromTraceparent(ctx.traceparent);
 * ```
 */
export function linkFromTraceparent(traceparent: string | undefined): Link[] {
  const m = traceparent ? TRACEPARENT.exec(traceparent) : null;
  if (!m) return [];
  const spanContext: SpanContext = {
    traceId: m[1]!,
    spanId: m[2]!,
    traceFlags: parseInt(m[3]!, 16),
    isRemote: true,
  };
  return isSpanContextValid(spanContext)
    ? [{ context: spanContext, attributes: { 'agentid.link': 'upstream-agent' } }]
    : [];
}
