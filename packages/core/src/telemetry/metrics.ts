import {
  type Attributes,
  type Counter,
  type Histogram,
  type MeterProvider,
  metrics as otelMetrics,
  type ObservableResult,
} from '@opentelemetry/api';
import { ConfigurationError } from '../errors/agent-id-error.js';
import { ATTR } from './attributes.js';
import { PACKAGE_VERSION, TRACER_NAME } from './version.js';

/**
 * The instrument names this package records, following the OpenTelemetry naming rules
 * (`<namespace>.<noun>`, units in `unit`, durations in seconds).
 *
 * @example
 * ```ts
 * const lookups = reader.collect().then((r) => find(r, METRIC.CACHE_LOOKUPS));
 * ```
 */
export const METRIC = Object.freeze({
  /** Counter, `{request}`: token requests sent to Entra, by `agentid.flow`, `agentid.token.outcome` and `error.type`. */
  TOKEN_REQUESTS: 'agentid.token.requests',
  /** Histogram, `s`: how long a token request to Entra took (retries included), same attributes. */
  TOKEN_ACQUISITION_DURATION: 'agentid.token.acquisition.duration',
  /** Counter, `{retry}`: a request sent again, by `agentid.retry.reason` (and `agentid.flow` for the broker's own retry). */
  TOKEN_RETRIES: 'agentid.token.retries',
  /** Observable counter, `{lookup}`: token lookups by `agentid.flow` and `agentid.cache.result`. */
  CACHE_LOOKUPS: 'agentid.cache.lookups',
  /** Observable up-down counter, `{state}` (from `@agentid/redis`): 1 for the L2 breaker's current `agentid.breaker.state`, 0 for the others. */
  L2_BREAKER_STATE: 'agentid.cache.l2.breaker.state',
});

/**
 * What `agentid.cache.result` takes; `stale` is a token served while it is refreshed ahead.
 *
 * @example
 * ```ts
 * const result: CacheLookupResult = 'coalesced';
 * ```
 */
export type CacheLookupResult = 'hit' | 'stale' | 'miss' | 'coalesced' | 'l2_hit';

const RESULTS: readonly CacheLookupResult[] = ['hit', 'stale', 'miss', 'coalesced', 'l2_hit'];

/**
 * The lookup counts of one flow. The hit path only increments a number here (`lookups.hit++`):
 * no attribute object and no instrument call per hit. They are reported through an observable
 * counter, whose callback runs only when a metric reader collects (never with the API's no-op).
 *
 * @example
 * ```ts
 * const lookups = metricsFor().lookupsOf('obo');
 * lookups.hit++;
 * ```
 */
export interface FlowLookups {
  hit: number;
  stale: number;
  miss: number;
  coalesced: number;
  l2_hit: number;
}

/** Durations in seconds: the HTTP client duration buckets of the semantic conventions. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/**
 * The instruments of one meter provider, shared by every blueprint that uses it (so that two
 * blueprints add up instead of reporting the same series twice).
 *
 * @example
 * ```ts
 * const m = metricsFor(meterProvider);
 * m.lookupsOf('autonomous').hit++;
 * m.tokenRequest('autonomous', 0.12, undefined);
 * ```
 */
export interface AgentIdMetrics {
  /** The counts a flow's lookups add to (one object per flow, kept: put it beside the prepared request). */
  lookupsOf(flow: string): FlowLookups;
  /** Counts a lookup by the store's outcome (`refresh` is counted as `stale`, `l2` as `l2_hit`). */
  lookup(counts: FlowLookups, outcome: 'hit' | 'refresh' | 'miss' | 'coalesced' | 'l2'): void;
  /** A token request sent to Entra: its duration in seconds and its error code (none: success). */
  tokenRequest(flow: string, seconds: number, errorType: string | undefined): void;
  /** A request sent again, and why (`http_429`, `http_503`, `timeout`, `network`, `client_assertion_rejected`). */
  retry(reason: string, flow?: string): void;
}

/** Attribute objects are built once per flow and outcome, never per call. */
function attributeCache<K>(build: (key: K) => Attributes): (key: K) => Attributes {
  const cache = new Map<K, Attributes>();
  return (key) => {
    let attributes = cache.get(key);
    if (attributes === undefined) cache.set(key, (attributes = Object.freeze(build(key))));
    return attributes;
  };
}

function createMetrics(provider: MeterProvider): AgentIdMetrics {
  const meter = provider.getMeter(TRACER_NAME, PACKAGE_VERSION);
  const requests: Counter = meter.createCounter(METRIC.TOKEN_REQUESTS, {
    description: 'Token requests sent to Microsoft Entra, by flow and outcome.',
    unit: '{request}',
  });
  const duration: Histogram = meter.createHistogram(METRIC.TOKEN_ACQUISITION_DURATION, {
    description: 'Duration of a token request to Microsoft Entra, retries included.',
    unit: 's',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  const retries: Counter = meter.createCounter(METRIC.TOKEN_RETRIES, {
    description: 'Requests sent again (HTTP retries, and a token request retried with a fresh T1).',
    unit: '{retry}',
  });
  const flows = new Map<string, { counts: FlowLookups; attributes: readonly Attributes[] }>();
  meter
    .createObservableCounter(METRIC.CACHE_LOOKUPS, {
      description: 'Token lookups by flow and cache result.',
      unit: '{lookup}',
    })
    .addCallback((result: ObservableResult) => {
      for (const { counts, attributes } of flows.values())
        RESULTS.forEach((name, i) => result.observe(counts[name], attributes[i]));
    });
  const outcomeAttributes = attributeCache((key: string) => {
    const [flow, errorType] = key.split('\u0000') as [string, string];
    return errorType
      ? { [ATTR.FLOW]: flow, [ATTR.TOKEN_OUTCOME]: 'error', [ATTR.ERROR_TYPE]: errorType }
      : { [ATTR.FLOW]: flow, [ATTR.TOKEN_OUTCOME]: 'success' };
  });
  const retryAttributes = attributeCache((key: string) => {
    const [reason, flow] = key.split('\u0000') as [string, string];
    return flow ? { [ATTR.RETRY_REASON]: reason, [ATTR.FLOW]: flow } : { [ATTR.RETRY_REASON]: reason };
  });
  return {
    lookupsOf(flow) {
      let known = flows.get(flow);
      if (known === undefined) {
        const counts: FlowLookups = { hit: 0, stale: 0, miss: 0, coalesced: 0, l2_hit: 0 };
        const attributes = RESULTS.map((r) => Object.freeze({ [ATTR.FLOW]: flow, [ATTR.CACHE_RESULT]: r }));
        flows.set(flow, (known = { counts, attributes }));
      }
      return known.counts;
    },
    lookup(counts, outcome) {
      if (outcome === 'refresh') counts.stale++;
      else if (outcome === 'l2') counts.l2_hit++;
      else counts[outcome]++;
    },
    tokenRequest(flow, seconds, errorType) {
      const attributes = outcomeAttributes(`${flow}\u0000${errorType ?? ''}`);
      requests.add(1, attributes);
      duration.record(seconds, attributes);
    },
    retry(reason, flow) {
      retries.add(1, retryAttributes(`${reason}\u0000${flow ?? ''}`));
    },
  };
}

const shared = new WeakMap<MeterProvider, AgentIdMetrics>();

/**
 * The instruments of `provider` (default: the global one, `metrics.getMeterProvider()`; the
 * API's no-op unless an SDK was registered before the blueprint was created), made once per
 * provider.
 *
 * @example
 * ```ts
 * const m = metricsFor(new MeterProvider({ readers: [reader] }));
 * ```
 */
export function metricsFor(provider: MeterProvider = otelMetrics.getMeterProvider()): AgentIdMetrics {
  if (typeof provider?.getMeter !== 'function')
    throw new ConfigurationError('meterProvider must have a getMeter() method');
  let m = shared.get(provider);
  if (m === undefined) shared.set(provider, (m = createMetrics(provider)));
  return m;
}
