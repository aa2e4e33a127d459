import { ATTR, createRedactingLogger, METRIC } from '@agentid/core/broker';
import type { Logger } from '@agentid/core';
import { type Attributes, type MeterProvider, metrics, type ObservableResult } from '@opentelemetry/api';
import type { BreakerState } from './breaker.js';

const STATES: readonly BreakerState[] = ['closed', 'open', 'half-open'];

/** Options of {@link breakerTelemetry}. */
export interface BreakerTelemetryOptions {
  /** Where breaker transitions are logged (redacted). Default: nowhere. */
  logger?: Partial<Logger>;
  /** Where the breaker state is reported. Default: the global meter provider. */
  meterProvider?: MeterProvider;
  /** The L2's namespace, an attribute of both (several L2s in one process stay apart). */
  namespace: string;
}

/** What the L2 tells its telemetry. */
export interface BreakerTelemetry {
  /** A transition: logged (`warn` when it opens, `info` otherwise). */
  changed(state: BreakerState, previous: BreakerState): void;
  /** Stops reporting the state (the L2 closed). */
  close(): void;
}

/**
 * The L2 circuit breaker's telemetry: its state as an observable up-down counter
 * (`agentid.cache.l2.breaker.state`: 1 for the current `agentid.breaker.state`, 0 for the other
 * two, the semantic conventions' pattern for states), read only when a metric reader collects;
 * and its transitions logged with structured fields.
 *
 * @example
 * ```ts
 * const t = breakerTelemetry({ logger, namespace: 'agentid' }, () => breaker.state);
 * ```
 */
export function breakerTelemetry(
  options: BreakerTelemetryOptions,
  state: () => BreakerState,
): BreakerTelemetry {
  const logger = createRedactingLogger(options.logger);
  const { namespace } = options;
  const attributes: readonly Attributes[] = STATES.map((s) =>
    Object.freeze({ [ATTR.BREAKER_STATE]: s.replace('-', '_'), 'agentid.cache.l2.namespace': namespace }),
  );
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter('@agentid/redis');
  const gauge = meter.createObservableUpDownCounter(METRIC.L2_BREAKER_STATE, {
    description: 'The state of the L2 (Redis) circuit breaker: 1 for the current state, 0 for the others.',
    unit: '{state}',
  });
  const observe = (result: ObservableResult) => {
    const current = state();
    STATES.forEach((s, i) => result.observe(s === current ? 1 : 0, attributes[i]));
  };
  gauge.addCallback(observe);
  return {
    changed(next, previous) {
      const fields = { state: next, previous, namespace };
      if (next === 'open')
        logger.warn(
          'agentid L2: circuit breaker opened; Redis is bypassed until a trial call succeeds',
          fields,
        );
      else logger.info(`agentid L2: circuit breaker ${next}`, fields);
    },
    close: () => gauge.removeCallback(observe),
  };
}
