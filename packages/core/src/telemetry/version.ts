import { createRequire } from 'node:module';

/**
 * The instrumentation scope name of every span and metric this package records.
 *
 * @example
 * ```ts
 * exporter.getFinishedSpans().filter((s) => s.instrumentationScope.name === TRACER_NAME);
 * ```
 */
export const TRACER_NAME = '@agentid/core';

/**
 * This package's version, the instrumentation scope version of its tracer and meter. Read from
 * its own `package.json` (two levels up from `src/telemetry` and from `dist/telemetry`).
 *
 * @example
 * ```ts
 * tracerProvider.getTracer(TRACER_NAME, PACKAGE_VERSION);
 * ```
 */
export const PACKAGE_VERSION: string = (
  createRequire(import.meta.url)('../../package.json') as { version: string }
).version;
