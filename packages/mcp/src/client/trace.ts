import { context, propagation } from '@opentelemetry/api';

/** The active trace context (`traceparent`, `tracestate`, `baggage`) as a carrier, empty without one. @internal */
export function traceCarrier(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/**
 * A JSON-RPC request body with the trace context in `params._meta` (MCP's place for it), or the
 * body unchanged when there is no context or the body is not one JSON-RPC request.
 * @internal
 */
export function withTraceMeta(message: unknown, carrier: Readonly<Record<string, string>>): unknown {
  if (!carrier.traceparent || !message || typeof message !== 'object' || Array.isArray(message))
    return message;
  const m = message as { method?: unknown; id?: unknown; params?: { _meta?: Record<string, unknown> } };
  if (typeof m.method !== 'string' || m.id === undefined) return message;
  const params = m.params && typeof m.params === 'object' ? m.params : {};
  return { ...m, params: { ...params, _meta: { ...(params._meta ?? {}), ...carrier } } };
}
